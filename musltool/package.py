"""Release packaging: reproducible tarballs, SHA256SUMS and a manifest, from verified builds."""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musltool import __version__
from musltool.build import read_report, report_path
from musltool.container import Tree, tar_bytes
from musltool.errors import UsageError
from musltool.isa import Isa
from musltool.recipes import Recipe
from musltool.util import atomic_write_bytes, atomic_write_text, sha256_bytes, sha256_file

# Files beside a binary that go into its tarball when present.
COMPANIONS = ("busybox.config",)


@dataclass(frozen=True)
class Package:
    isa: Isa
    path: Path
    sha256: str
    report: dict[str, Any]


def gzip_bytes(data: bytes) -> bytes:
    """gzip with no timestamp and no file name: the same input gives the same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buffer.getvalue()


def verified_report(dist: Path, isa: Isa, binary: str) -> dict[str, Any]:
    """The build report, if the build in dist/ is verified and untouched since; else an error."""
    report = read_report(report_path(dist, isa, binary))
    path = dist / isa.name / binary
    how = f"run: invoke build --arch {isa.name} --recipe ..."
    if report is None or not path.is_file():
        raise UsageError(f"no build of {binary} for {isa.name} in {dist}: {how}")
    if not report.get("verification", {}).get("passed"):
        raise UsageError(f"{path} failed verification: refusing to package it")
    if sha256_file(path) != report.get("sha256"):
        raise UsageError(f"{path} changed since it was verified: refusing to package it ({how})")
    return report


def package_name(report: dict[str, Any], isa: Isa) -> str:
    version = report.get("details", {}).get("busybox_version") or report["version"]
    return f"{report['recipe']}-{version}-{isa.name}"


def make_tarball(dist: Path, isa: Isa, report: dict[str, Any]) -> tuple[str, bytes]:
    name = package_name(report, isa)
    tree = Tree()
    tree.add_dir(name)
    tree.add_file(
        f"{name}/{report['binary']}", (dist / isa.name / report["binary"]).read_bytes(), 0o755
    )
    for companion in COMPANIONS:
        path = dist / isa.name / companion
        if path.is_file() and companion.startswith(report["binary"]):
            tree.add_file(f"{name}/{companion}", path.read_bytes())
    return f"{name}.tar.gz", gzip_bytes(tar_bytes(tree))


def manifest_entry(report: dict[str, Any], package: str, package_sha256: str) -> dict[str, Any]:
    details = report.get("details", {})
    return {
        "package": package,
        "package_sha256": package_sha256,
        "binary": report["binary"],
        "size": report["size"],
        "sha256": report["sha256"],
        "toolchain": report["toolchain"],
        "flags": report["flags"],
        "source_sha256": details.get("source_sha256"),
        "config_sha256": details.get("config_sha256"),
        "checks": {c["name"]: c["ok"] for c in report["checks"]},
        "verification": {
            "runner": report["verification"]["runner"],
            "passed": report["verification"]["passed"],
            "counts": _counts(report["verification"]["results"]),
        },
    }


def _counts(results: list[dict[str, str]]) -> dict[str, int]:
    return {s: sum(r["status"] == s for r in results) for s in ("passed", "failed", "not-testable")}


def merged_sums(path: Path, new: dict[str, str]) -> str:
    """SHA256SUMS lines: these packages, plus earlier ones whose tarballs are still there."""
    sums: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            digest, _, name = line.partition("  ")
            if name and (path.parent / name).is_file():
                sums[name] = digest
    sums.update(new)
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))


def package(recipe: Recipe, isas: list[Isa], dist: Path, out: Path | None = None) -> list[Package]:
    """Tarballs for each ISA's verified build, then SHA256SUMS and the manifest over them."""
    out = out or dist
    reports = {isa: verified_report(dist, isa, recipe.binary) for isa in isas}  # all or nothing
    packages = []
    for isa, report in reports.items():
        name, data = make_tarball(dist, isa, report)
        atomic_write_bytes(out / name, data)
        packages.append(Package(isa, out / name, sha256_bytes(data), report))
    sums = merged_sums(out / "SHA256SUMS", {p.path.name: p.sha256 for p in packages})
    first = packages[0].report
    manifest = {
        "recipe": recipe.name,
        "version": first.get("details", {}).get("busybox_version") or first["version"],
        "musltool": __version__,
        "isas": {p.isa.name: manifest_entry(p.report, p.path.name, p.sha256) for p in packages},
    }
    atomic_write_text(
        out / f"{recipe.name}.manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    )
    atomic_write_text(out / "SHA256SUMS", sums)
    return packages
