"""SPDX 2.3 documents (JSON) for release artifacts: what a tarball or image holds and how it
was made. Packages: the artifact itself, the program (name, version, licence, binary sha256,
a multi-call binary's applets and its config hash), its upstream source (URL and sha256), the musl it links
statically, every library from `depends`, and the toolchain that built it. The same build
gives the same bytes (the creation time is SOURCE_DATE_EPOCH)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from musltool import __version__
from musltool.catalog import load_recipe
from musltool.errors import MusltoolError
from musltool.libc import LinkedMusl, linked_musl
from musltool.recipes import Recipe
from musltool.report import BuildReport
from musltool.settings import source_date_epoch

NAMESPACE = "https://musltool.invalid/spdx"  # documentNamespace: unique per artifact digest
NONE = "NOASSERTION"


def spdx_time() -> str:
    return datetime.fromtimestamp(source_date_epoch(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ref(name: str) -> str:
    return "SPDXRef-" + re.sub(r"[^A-Za-z0-9.-]+", "-", name)


def purl(name: str, version: str, **qualifiers: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in sorted(qualifiers.items()) if v)
    return f"pkg:generic/{name}@{version}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Artifact:
    """What a document describes: a file musltool released (tarball, image layer ...)."""

    file_name: str
    sha256: str
    purpose: str  # SPDX primaryPackagePurpose: ARCHIVE, CONTAINER, FIRMWARE


def _package(ref: str, name: str, version: str, *, download: str = NONE, sha256: str = "", license: str = NONE,
             purpose: str = "", comment: str = "", purl_text: str = "", supplier: str = "") -> dict[str, Any]:  # fmt: skip
    package: dict[str, Any] = {
        "SPDXID": ref, "name": name, "versionInfo": version, "downloadLocation": download,
        "filesAnalyzed": False, "licenseConcluded": NONE, "licenseDeclared": license, "copyrightText": NONE,
    }  # fmt: skip
    if sha256:
        package["checksums"] = [{"algorithm": "SHA256", "checksumValue": sha256}]
    if purpose:
        package["primaryPackagePurpose"] = purpose
    if comment:
        package["comment"] = comment
    if purl_text:
        package["externalRefs"] = [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                    "referenceLocator": purl_text}]  # fmt: skip
    if supplier:
        package["supplier"] = supplier
    return package


def _program_comment(report: BuildReport) -> str:
    details = report.details
    parts = [f"static musl binary {report.binary} for {report.isa} ({report.triple}), {report.size} bytes"]
    if details.get("config_sha256"):
        parts.append(f"config sha256 {details['config_sha256']}")
    if details.get("applets"):
        parts.append(f"{len(details['applets'])} applets: {' '.join(details['applets'])}")
    if details.get("patches"):
        parts.append("patches: " + ", ".join(f"{p['file']} (sha256 {p['sha256']})" for p in details["patches"]))
    return "; ".join(parts)


def _musl_package(musl: LinkedMusl) -> dict[str, Any]:
    return _package(_ref("musl"), "musl", musl.version, download=musl.download, sha256=musl.sha256,
                    license="MIT", purpose="LIBRARY", comment=musl.where, purl_text=purl("musl", musl.version))  # fmt: skip


@dataclass(frozen=True)
class Part:
    """Something else the artifact holds beside the build (a firmware bundle's kernel)."""

    name: str
    version: str
    sha256: str
    license: str
    comment: str


def spdx_document(artifact: Artifact, report: BuildReport, recipe: Recipe, parts: tuple[Part, ...] = ()) -> dict[str, Any]:
    """The SPDX 2.3 document of one artifact holding one verified build (and `parts`)."""
    program = _ref(f"program-{report.recipe}")
    source_ref = _ref(f"source-{report.recipe}")
    toolchain = report.toolchain
    tool_name = str(toolchain.get("provider", NONE))
    tool_version = str(toolchain.get("version", NONE))
    try:
        _, source = recipe.version_source(report.version)
    except MusltoolError:  # a version the recipe no longer has: its source is not known here
        source = None
    packages = [
        _package("SPDXRef-Artifact", artifact.file_name, report.version, sha256=artifact.sha256,
                 license=recipe.license, purpose=artifact.purpose, supplier="Organization: musltool"),
        _package(program, report.recipe, report.version, sha256=report.sha256, license=recipe.license,
                 purpose="APPLICATION", comment=_program_comment(report),
                 purl_text=purl(report.recipe, report.version, arch=report.isa)),
        _package(_ref(f"toolchain-{tool_name}"), tool_name, tool_version, purpose="APPLICATION",
                 comment=f"the toolchain that built it: {', '.join(f'{k} {v}' for k, v in sorted(toolchain.items()))}"),
    ]  # fmt: skip
    relationships = [
        ("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Artifact"),
        ("SPDXRef-Artifact", "CONTAINS", program),
        (_ref(f"toolchain-{tool_name}"), "BUILD_TOOL_OF", program),
    ]
    if source is not None:
        packages.append(_package(source_ref, source.url.rsplit("/", 1)[-1], report.version, download=source.url,
                                 sha256=source.sha256, license=recipe.license, purpose="SOURCE"))  # fmt: skip
        relationships.append((program, "GENERATED_FROM", source_ref))
    musl = linked_musl(toolchain)
    packages.append(_musl_package(musl))
    relationships.append((program, "STATIC_LINK", _ref("musl")))
    for dependency in report.dependencies:
        name, version = dependency.get("name", NONE), dependency.get("version", NONE)
        ref = _ref(f"library-{name}")
        upstream = dependency.get("source", "").startswith(("http://", "https://"))
        packages.append(_package(ref, name, version, download=dependency["source"] if upstream else NONE,
                                 sha256=dependency.get("sha256", "") if upstream else "",
                                 license=_recipe_license(name), purpose="LIBRARY",
                                 purl_text=purl(name, version, arch=report.isa)))  # fmt: skip
        relationships.append((program, "STATIC_LINK", ref))
    for part in parts:
        ref = _ref(f"part-{part.name}")
        packages.append(_package(ref, part.name, part.version, sha256=part.sha256, license=part.license,
                                 purpose="OPERATING-SYSTEM", comment=part.comment))  # fmt: skip
        relationships.append(("SPDXRef-Artifact", "CONTAINS", ref))
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": artifact.file_name,
        "documentNamespace": f"{NAMESPACE}/{artifact.file_name}-{artifact.sha256}",
        "creationInfo": {"created": spdx_time(), "creators": [f"Tool: musltool-{__version__}"]},
        "packages": packages,
        "relationships": [{"spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b}
                          for a, kind, b in relationships],
    }


def _recipe_license(name: str) -> str:
    try:
        return load_recipe(name).license
    except MusltoolError:  # a library recipe no longer in the catalog: its licence is not known here
        return NONE
