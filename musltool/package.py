"""Release packaging: reproducible tarballs, SHA256SUMS and a manifest, from verified builds."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musltool import __version__
from musltool.attest import (
    KINDS,
    SigningKey,
    envelope,
    provenance_predicate,
    statement,
    verification_predicate,
)
from musltool.dist import SUMS, Dist
from musltool.errors import UsageError
from musltool.files import gzip_bytes, sha256_bytes
from musltool.filetree import Tree, tar_bytes
from musltool.isa import Isa
from musltool.recipes import Recipe
from musltool.report import BuildReport
from musltool.sbom import Artifact, Part, spdx_document
from musltool.vex import statements, vex_document

__all__ = ["SUMS", "Package", "gzip_bytes", "package"]

BOOT_REPORT = "boot.json"  # a passing boot of firmware holding the build, in dist/<isa>/ (musltool.firmware)


@dataclass(frozen=True)
class Package:
    isa: Isa
    path: Path
    sha256: str
    report: BuildReport


def package_name(report: BuildReport) -> str:
    return f"{report.recipe}-{report.version}-{report.isa}"


def make_tarball(dist: Dist, report: BuildReport) -> tuple[str, bytes]:
    """The binary and its companions (a build's .config ...) in one reproducible tar.gz."""
    name = package_name(report)
    tree = Tree()
    tree.add_dir(name)
    for file_name, mode in [(report.binary, 0o755), *((p, 0o755) for p in report.programs),
                            *((c, 0o644) for c in report.companions)]:  # fmt: skip
        data = dist.read(f"{report.isa}/{file_name}")
        if data is None:
            raise UsageError(f"{dist.path(f'{report.isa}/{file_name}')} is missing: the build that made "
                             f"{report.binary} installed it")  # fmt: skip
        tree.add_file(f"{name}/{file_name}", data, mode)
    return f"{name}.tar.gz", gzip_bytes(tar_bytes(tree))


def manifest_entry(report: BuildReport, package: str, package_sha256: str) -> dict[str, Any]:
    return {
        "package": package,
        "package_sha256": package_sha256,
        "binary": report.binary,
        "size": report.size,
        "sha256": report.sha256,
        "programs": report.programs,
        "dependencies": list(report.dependencies),
        "toolchain": report.toolchain,
        "flags": report.flags,
        "source_sha256": report.details.get("source_sha256"),
        "config_sha256": report.details.get("config_sha256"),
        "checks": {c.name: c.ok for c in report.checks},
        "verification": {
            "runner": report.verification.runner,
            "passed": report.verification.passed,
            "counts": report.verification.counts(),
        },
    }


def json_bytes(value: object) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


@dataclass(frozen=True)
class Evidence:
    """What is said of one artifact: where its files go, what it holds, who signs."""

    stem: str  # the evidence files' path without suffix: <stem>.spdx.json, <stem>.vex.json ...
    artifact: Artifact
    key: SigningKey | None = None
    booted: dict[str, Any] | None = None  # a boot report of firmware holding the build
    parts: tuple[Part, ...] = ()  # what else the artifact holds (a bundle's kernel)
    also: tuple[tuple[BuildReport, Recipe], ...] = ()  # other verified builds it holds (an image's base)
    checked: dict[str, str] | None = None  # a check of the artifact itself (an image run), for its test result


def evidence_files(evidence: Evidence, report: BuildReport, recipe: Recipe) -> dict[str, dict[str, Any]]:
    """By kind: the artifact's SBOM (SPDX 2.3) and VEX document, and with a key its two signed
    statements (test result, provenance)."""
    stem, artifact = evidence.stem, evidence.artifact
    parts = (*evidence.parts, *(Part(r.recipe, r.version, r.sha256, rec.license, f"the verified {r.recipe} build it also holds")
                                for r, rec in evidence.also))  # fmt: skip
    files = {"sbom": (f"{stem}.spdx.json", spdx_document(artifact, report, recipe, parts)),
             "vex": (f"{stem}.vex.json", vex_document(artifact.file_name, artifact.sha256, report, recipe, evidence.also))}  # fmt: skip
    if evidence.key is not None:
        proven = {"test-result": verification_predicate(report, evidence.booted, evidence.checked),
                  "provenance": provenance_predicate(report, resolved_sources(report, recipe))}
        # the provenance also names the SBOM and VEX musltool made with it: they are signed too
        made = {Path(name).name: sha256_bytes(json_bytes(document)) for name, document in files.values()}
        for kind, predicate in proven.items():
            also = made if kind == "provenance" else None
            signed = envelope(statement(artifact.file_name, artifact.sha256, KINDS[kind], predicate, also), evidence.key)
            files[kind] = (f"{stem}.{kind}.dsse.json", signed)
    return {kind: {"name": name, "document": document} for kind, (name, document) in files.items()}


def resolved_sources(report: BuildReport, recipe: Recipe) -> list[dict[str, Any]]:
    """What the build read from outside: its source and each library's (SLSA resolvedDependencies)."""
    found = []
    with contextlib.suppress(UsageError):
        _, source = recipe.version_source(report.version)
        if source is not None:
            found.append({"name": recipe.name, "uri": source.url, "digest": {"sha256": source.sha256}})
    for dependency in report.dependencies:
        found.append({"name": dependency.get("name", ""), "uri": dependency.get("source", ""),
                      "digest": {"sha256": dependency.get("sha256", "")}})  # fmt: skip
    return found


def package(recipe: Recipe, isas: list[Isa], dist_folder: Path, key: SigningKey | None = None) -> list[Package]:
    """Tarballs for each ISA's verified build, each with its SBOM and VEX document (and, with a
    key, its signed statements), SHA256SUMS and the manifest over them, written as one
    transaction: an interrupt leaves all of them as they were, or all new."""
    dist = Dist(dist_folder)
    reports = {isa: dist.verified_report(isa, recipe.binary) for isa in isas}  # all or nothing
    tarballs = {isa: make_tarball(dist, report) for isa, report in reports.items()}
    packages = [Package(isa, dist.path(name), sha256_bytes(data), reports[isa]) for isa, (name, data) in tarballs.items()]
    files = {name: (data, 0o644) for name, data in tarballs.values()}
    entries = {}
    for p in packages:
        said = Evidence(p.path.name.removesuffix(".tar.gz"), Artifact(p.path.name, p.sha256, "ARCHIVE"), key,
                        dist.read_json(f"{p.isa.name}/{BOOT_REPORT}"))  # fmt: skip
        evidence = evidence_files(said, p.report, recipe)
        files |= {e["name"]: (json_bytes(e["document"]), 0o644) for e in evidence.values()}
        entries[p.isa.name] = manifest_entry(p.report, p.path.name, p.sha256) | {
            **{kind: e["name"] for kind, e in evidence.items()},
            "cves": {s.cve.id: s.status for s in statements(p.report, recipe)},
        }
    manifest = {"recipe": recipe.name, "version": packages[0].report.version, "musltool": __version__, "isas": entries}
    if key is not None:
        manifest["signed_by"] = key.keyid
    files[f"{recipe.name}.manifest.json"] = (json_bytes(manifest), 0o644)
    files[SUMS] = (dist.merged_sums({name: sha256_bytes(data) for name, (data, _) in files.items()}), 0o644)
    dist.install(files)
    return packages
