"""Releases: the fan-in of per-ISA output folders into one release folder, and its check.

`gather` reads each folder's package manifests, takes every ISA's tarball only if it is the one
its manifest and the verified build in that folder describe, and writes it under the name
installers pick by themselves (`NAME-VERSION-linux-ARCH-musl.tar.gz`, README's table), with a
`.sha256` file, its SBOM, VEX and (with a key) its two signed statements, one manifest per
recipe and one SHA256SUMS. Two folders offering the same recipe and ISA must agree.

`verify_release` checks a release folder as a user would: every checksum, every signature
(by the given public key), that each statement names its tarball's digest, and that every ISA
a manifest claims was tested and passed on that ISA.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musltool import __version__
from musltool.attest import KINDS, PublicKey, SigningKey, open_envelope
from musltool.catalog import load_recipe
from musltool.dist import SUMS, Dist
from musltool.errors import UsageError, VerificationError
from musltool.files import plain_name_problem, sha256_bytes
from musltool.isa import Isa, get_isa
from musltool.package import (
    BOOT_REPORT,
    Evidence,
    evidence_files,
    json_bytes,
    manifest_entry,
    package_name,
)
from musltool.report import BuildReport
from musltool.sbom import Artifact
from musltool.vex import statements

MANIFEST_SUFFIX = ".manifest.json"


def asset_name(report: BuildReport, isa: Isa) -> str:
    return f"{report.recipe}-{report.version}-linux-{isa.asset_arch}-musl.tar.gz"


@dataclass(frozen=True)
class Offered:
    """One ISA's verified, packaged build in one of the gathered folders."""

    folder: Path
    isa: Isa
    report: BuildReport
    tarball: bytes


def _manifests(folder: Path) -> list[dict[str, Any]]:
    """The package manifests in `folder` (a firmware manifest, say, is not one); every file
    they name a plain name in the folder."""
    found = []
    for path in sorted(folder.glob(f"*{MANIFEST_SUFFIX}")):
        try:
            data = json.loads(path.read_bytes()) if path.is_file() and not path.is_symlink() else None
        except ValueError as exc:
            raise UsageError(f"{path} is not a manifest musltool wrote: {exc}") from exc
        entries = data.get("isas") if isinstance(data, dict) and "recipe" in data else None
        if not isinstance(entries, dict) or not all(isinstance(e, dict) and "package" in e for e in entries.values()):
            continue
        named = [str(e.get(k)) for e in entries.values() for k in ("package", "sbom", "vex", *KINDS) if e.get(k)]
        bad = next((n for n in named if plain_name_problem(n)), None)
        if bad is not None:
            raise UsageError(f"{path} names {bad!r}: not a file of this folder")
        found.append(data)
    return found


def _holds_build(tarball: bytes, report: BuildReport) -> bool:
    """The tarball holds the verified binary and programs, byte for byte (its manifest, which
    anyone can edit, is not trusted for that)."""
    expected = {f"{package_name(report)}/{report.binary}": report.sha256,
                **{f"{package_name(report)}/{name}": digest for name, digest in report.programs.items()}}  # fmt: skip
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
            found = {m.name: sha256_bytes(tar.extractfile(m).read()) for m in tar.getmembers() if m.name in expected and m.isfile()}
    except (tarfile.TarError, OSError, EOFError):
        return False
    return found == expected


def _offered(folder: Path) -> list[Offered]:
    """Every packaged build in `folder` whose tarball and binary are what was verified."""
    dist = Dist(folder)
    offered = []
    for manifest in _manifests(folder):
        recipe = load_recipe(manifest["recipe"])
        for isa_name, entry in manifest["isas"].items():
            isa = get_isa(isa_name)
            report = dist.verified_report(isa, recipe.binary)
            tarball = dist.read(entry["package"])
            if tarball is None or not _holds_build(tarball, report):
                raise UsageError(f"{folder / entry['package']} is not the tarball its manifest and verified build describe")
            offered.append(Offered(folder, isa, report, tarball))
    if not offered:
        raise UsageError(f"{folder} holds no packaged builds (run: invoke package --dist {folder})")
    return offered


def gather(folders: Sequence[Path], out: Path, key: SigningKey | None) -> list[str]:
    """The release folder from per-ISA output folders; the asset names written."""
    if out.exists() and (out.resolve() in {f.resolve() for f in folders}
                         or any(c.is_dir() and not c.name.startswith(".") for c in out.iterdir())):  # fmt: skip
        raise UsageError(f"--out {out}: a release goes to a folder of its own (this one holds builds or is a --from folder)")
    chosen: dict[tuple[str, str], Offered] = {}
    for folder in folders:
        for item in _offered(folder):
            slot = (item.report.recipe, item.isa.name)
            earlier = chosen.setdefault(slot, item)
            if sha256_bytes(earlier.tarball) != sha256_bytes(item.tarball):
                raise UsageError(f"{slot[0]} for {slot[1]} differs between {earlier.folder} and {item.folder}")
    files: dict[str, tuple[bytes, int]] = {}
    manifests: dict[str, dict[str, Any]] = {}
    for (recipe_name, isa_name), item in sorted(chosen.items()):
        recipe = load_recipe(recipe_name)
        name, digest = asset_name(item.report, item.isa), sha256_bytes(item.tarball)
        booted = Dist(item.folder).read_json(f"{isa_name}/{BOOT_REPORT}")
        said = Evidence(name.removesuffix(".tar.gz"), Artifact(name, digest, "ARCHIVE"), key, booted)
        evidence = evidence_files(said, item.report, recipe)
        files[name] = (item.tarball, 0o644)
        files[f"{name}.sha256"] = (f"{digest}  {name}\n".encode(), 0o644)
        files |= {e["name"]: (json_bytes(e["document"]), 0o644) for e in evidence.values()}
        manifest = manifests.setdefault(recipe_name, {"recipe": recipe_name, "version": item.report.version,
                                                      "musltool": __version__, "isas": {}})  # fmt: skip
        if manifest["version"] != item.report.version:
            raise UsageError(f"{recipe_name}: the folders hold versions {manifest['version']} and {item.report.version}")
        manifest["isas"][isa_name] = manifest_entry(item.report, name, digest) | {
            **{kind: e["name"] for kind, e in evidence.items()},
            "cves": {s.cve.id: s.status for s in statements(item.report, recipe)},
        }
        if key is not None:
            manifest["signed_by"] = key.keyid
    for recipe_name, manifest in manifests.items():
        files[f"{recipe_name}{MANIFEST_SUFFIX}"] = (json_bytes(manifest), 0o644)
    listed = {n: sha256_bytes(d) for n, (d, _) in files.items() if not n.endswith(".sha256")}
    files[SUMS] = ("".join(f"{d}  {n}\n" for n, d in sorted(listed.items())).encode(), 0o644)
    Dist(out).install(files, what=str(out), replaces=".")  # an earlier release's files there go
    return sorted(n for n in files if n.endswith(".tar.gz"))


# ------------------------------------------------------------------ verification


def _sums(folder: Path) -> dict[str, str]:
    path = folder / SUMS
    if not path.is_file():
        raise VerificationError(f"{path} is missing")
    sums = {}
    for line in path.read_text(errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        if plain_name_problem(name):
            raise VerificationError(f"{path} lists {name!r}, which is no file of this folder")
        sums[name] = digest
    return sums


def _read_json(folder: Path, name: str) -> Any:
    """A regular file of the folder as JSON (no symlink, FIFO or device is opened)."""
    path = folder / name
    if path.is_symlink() or not path.is_file():
        raise ValueError("not a regular file of the folder")
    return json.loads(path.read_bytes())


def _check_statement(folder: Path, kind: str, isa: str, manifest: dict[str, Any], entry: dict[str, Any],
                     key: PublicKey, sums: dict[str, str]) -> list[str]:  # fmt: skip
    name = entry[kind]
    try:
        found = open_envelope(_read_json(folder, name), key)
    except (OSError, ValueError) as exc:
        return [f"{name}: {exc}"]
    problems = []
    subjects = {(s.get("name"), s.get("digest", {}).get("sha256")) for s in found.get("subject", [])}
    if found.get("predicateType") != KINDS[kind]:
        problems.append(f"{name}: predicate {found.get('predicateType')!r} is not {KINDS[kind]}")
    if (entry["package"], entry.get("package_sha256")) not in subjects:
        problems.append(f"{name}: its subject is not {entry['package']} with its digest")
    predicate = found.get("predicate", {})
    if kind == "test-result":
        tested = {c.get("annotations", {}).get("isa") for c in predicate.get("configuration", [])}
        if predicate.get("result") != "PASSED" or isa not in tested:
            problems.append(f"{name}: {entry['package']} was not tested and passed on {isa}")
    else:
        for side in ("sbom", "vex"):  # signed through the provenance's subjects
            if (entry[side], sums.get(entry[side])) not in subjects:
                problems.append(f"{name}: does not sign {entry[side]} as SHA256SUMS lists it")
        built = predicate.get("buildDefinition", {}).get("externalParameters", {})
        if [built.get("isa"), built.get("recipe"), built.get("version")] != [isa, manifest["recipe"], manifest.get("version")]:
            problems.append(f"{name}: the provenance is not of {manifest['recipe']} {manifest.get('version')} for {isa}")
    return problems


def _check_entry(folder: Path, manifest: dict[str, Any], isa: str, entry: dict[str, Any], sums: dict[str, str],
                 key: PublicKey) -> list[str]:  # fmt: skip
    named = [entry["package"], entry.get("sbom"), entry.get("vex"), *(entry.get(k) for k in KINDS)]
    missing = [n or "(none named)" for n in named if not n or n not in sums]
    if missing:
        return [f"{manifest['recipe']} {isa}: not in {SUMS} or not named: {', '.join(missing)}"]
    try:
        expected = f"{manifest['recipe']}-{manifest.get('version')}-linux-{get_isa(isa).asset_arch}-musl.tar.gz"
    except UsageError:
        return [f"{manifest['recipe']}: {isa!r} is no ISA musltool knows"]
    problems = [] if entry["package"] == expected else [f"{entry['package']}: named as the asset of {isa} (expected {expected})"]
    if sums[entry["package"]] != entry.get("package_sha256"):
        problems.append(f"{entry['package']}: the manifest's sha256 is not the one {SUMS} lists")
    for kind in KINDS:
        problems += _check_statement(folder, kind, isa, manifest, entry, key, sums)
    return problems


def verify_release(folder: Path, key: PublicKey) -> list[str]:
    """What was checked, one line per tarball; VerificationError naming every problem."""
    sums = _sums(folder)
    problems = []
    for name, digest in sorted(sums.items()):
        path = folder / name
        if path.is_symlink() or not path.is_file():
            problems.append(f"{name}: listed in {SUMS}, not in the folder")
        elif sha256_bytes(path.read_bytes()) != digest:
            problems.append(f"{name}: its sha256 is not the one {SUMS} lists")
    unlisted = sorted(p.name for p in folder.iterdir()
                      if p.name not in sums and p.name != SUMS and not p.name.endswith(".sha256") and not p.name.startswith("."))  # fmt: skip
    problems += [f"{name}: in the folder, not in {SUMS}" for name in unlisted]
    checked, claimed = [], set()
    for manifest in _manifests(folder):
        for isa, entry in sorted(manifest["isas"].items()):
            claimed.add(entry["package"])
            found = _check_entry(folder, manifest, isa, entry, sums, key)
            problems += found
            if not found:
                checked.append(f"{entry['package']}: sha256, signed test result on {isa}, signed provenance "
                               "naming the tarball, its SBOM and its VEX")  # fmt: skip
    problems += [f"{name}: a tarball no manifest claims" for name in sorted(sums) if name.endswith(".tar.gz") and name not in claimed]
    for name in sorted(n for n in sums if n.endswith(".tar.gz")):
        side = folder / f"{name}.sha256"
        if side.is_file() and not side.is_symlink() and side.read_text(errors="replace").split()[:1] != [sums[name]]:
            problems.append(f"{side.name}: not the sha256 {SUMS} lists for {name}")
    if not checked and not problems:
        problems.append(f"{folder} holds no released tarball to check")
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise VerificationError(f"release {folder} fails {len(problems)} checks: {'; '.join(problems[:3])}{more}")
    return checked
