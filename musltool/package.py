"""Release packaging: reproducible tarballs, SHA256SUMS and a manifest, from verified builds."""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musltool import __version__
from musltool.dist import SUMS, Dist
from musltool.errors import UsageError
from musltool.files import sha256_bytes
from musltool.filetree import Tree, tar_bytes
from musltool.isa import Isa
from musltool.recipes import Recipe
from musltool.report import BuildReport

__all__ = ["SUMS", "Package", "gzip_bytes", "package"]


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


def package(recipe: Recipe, isas: list[Isa], dist_folder: Path) -> list[Package]:
    """Tarballs for each ISA's verified build, SHA256SUMS and the manifest over them, written
    as one transaction: an interrupt leaves all of them as they were, or all new."""
    dist = Dist(dist_folder)
    reports = {isa: dist.verified_report(isa, recipe.binary) for isa in isas}  # all or nothing
    tarballs = {isa: make_tarball(dist, report) for isa, report in reports.items()}
    packages = [Package(isa, dist.path(name), sha256_bytes(data), reports[isa]) for isa, (name, data) in tarballs.items()]
    manifest = {
        "recipe": recipe.name,
        "version": packages[0].report.version,
        "musltool": __version__,
        "isas": {p.isa.name: manifest_entry(p.report, p.path.name, p.sha256) for p in packages},
    }
    files = {name: (data, 0o644) for name, data in tarballs.values()}
    files[f"{recipe.name}.manifest.json"] = ((json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(), 0o644)
    files[SUMS] = (dist.merged_sums({p.path.name: p.sha256 for p in packages}), 0o644)
    dist.install(files)
    return packages
