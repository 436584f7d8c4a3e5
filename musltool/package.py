"""Release packaging: reproducible tarballs, SHA256SUMS and a manifest, from verified builds."""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musltool import __version__
from musltool.container import Tree, tar_bytes
from musltool.errors import UsageError
from musltool.isa import Isa
from musltool.recipes import Recipe
from musltool.report import BuildReport, load_report, report_path
from musltool.util import atomic_write_bytes, atomic_write_text, sha256_bytes

SUMS = "SHA256SUMS"


@dataclass(frozen=True)
class Package:
    isa: Isa
    path: Path
    sha256: str
    report: BuildReport


def gzip_bytes(data: bytes) -> bytes:
    """gzip with no timestamp and no file name: the same input gives the same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buffer.getvalue()


def verified_report(dist: Path, isa: Isa, binary: str) -> BuildReport:
    """The build report, if the build in dist/ is verified and untouched since; else an error."""
    report = load_report(report_path(dist, isa.name, binary))
    path = dist / isa.name / binary
    how = f"run: invoke build --arch {isa.name} --recipe ..."
    if report is None or not path.is_file():
        raise UsageError(f"no build of {binary} for {isa.name} in {dist}: {how}")
    if not report.is_verified():
        raise UsageError(f"{path} failed verification: refusing to package it")
    if not report.matches(path):
        raise UsageError(f"{path} changed since it was verified: refusing to package it ({how})")
    return report


def package_name(report: BuildReport) -> str:
    return f"{report.recipe}-{report.version}-{report.isa}"


def make_tarball(dist: Path, report: BuildReport) -> tuple[str, bytes]:
    """The binary and its companions (BusyBox's .config ...) in one reproducible tar.gz."""
    name = package_name(report)
    folder = dist / report.isa
    tree = Tree()
    tree.add_dir(name)
    tree.add_file(f"{name}/{report.binary}", (folder / report.binary).read_bytes(), 0o755)
    for program in report.programs:
        tree.add_file(f"{name}/{program}", (folder / program).read_bytes(), 0o755)
    for companion in report.companions:
        path = folder / companion
        if not path.is_file():
            raise UsageError(f"{path} is missing: the build that made {report.binary} installed it")
        tree.add_file(f"{name}/{companion}", path.read_bytes())
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


def read_sums(path: Path) -> dict[str, str]:
    """File name -> sha256 from a SHA256SUMS file (missing file: nothing)."""
    sums: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            digest, _, name = line.partition("  ")
            if name and len(digest) == 64:
                sums[name] = digest
    return sums


def merged_sums(path: Path, new: dict[str, str]) -> str:
    """SHA256SUMS lines: these packages, plus earlier ones whose tarballs are still there."""
    sums = {n: d for n, d in read_sums(path).items() if (path.parent / n).is_file()}
    sums.update(new)
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))


def package(recipe: Recipe, isas: list[Isa], dist: Path, out: Path | None = None) -> list[Package]:
    """Tarballs for each ISA's verified build, then SHA256SUMS and the manifest over them."""
    out = out or dist
    reports = {isa: verified_report(dist, isa, recipe.binary) for isa in isas}  # all or nothing
    packages = []
    for isa, report in reports.items():
        name, data = make_tarball(dist, report)
        atomic_write_bytes(out / name, data)
        packages.append(Package(isa, out / name, sha256_bytes(data), report))
    sums = merged_sums(out / SUMS, {p.path.name: p.sha256 for p in packages})
    manifest = {
        "recipe": recipe.name,
        "version": packages[0].report.version,
        "musltool": __version__,
        "isas": {p.isa.name: manifest_entry(p.report, p.path.name, p.sha256) for p in packages},
    }
    atomic_write_text(
        out / f"{recipe.name}.manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    )
    atomic_write_text(out / SUMS, sums)
    return packages
