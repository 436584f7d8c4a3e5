"""The GCC provider: musl cross toolchain archives (Bootlin, musl.cc) fetched per ISA.

Manifests in toolchains/*.toml say which archive exists per ISA and host, with its pinned
hash. An archive is fetched through the download layer, extracted safely, relocated where
the distribution needs it, and put behind the same `<triple>-gcc` ... names as zig.
"""

from __future__ import annotations

import platform
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from musltool import settings
from musltool.errors import UsageError
from musltool.extract import extract, is_complete
from musltool.fetch import FetchOptions, Source, default_options, fetch
from musltool.isa import Isa, get_isa
from musltool.toolchain.base import TOOL_NAMES, Toolchain
from musltool.util import atomic_write_text, folder_size, log, run, sha256_file, write_if_changed

LOCK_FILE = "lock.toml"
RELOCATED_MARKER = ".musltool-relocated"
# Which of the archive's tools stands behind each musltool tool name.
REAL_TOOL = {"cc": "gcc", "c++": "g++"}
NON_LINKING = ("-c", "-S", "-E", "-M", "-MM")


@dataclass(frozen=True)
class Archive:
    distribution: str
    version: str
    gcc: str
    musl: str
    isa: str
    host: str
    url: str
    sha256: str
    top: str
    prefix: str
    relocate: str | None


def _manifests() -> dict[str, dict[str, Any]]:
    folder = settings.toolchains_dir()
    found = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name == LOCK_FILE:
            continue
        data = tomllib.loads(path.read_text())
        found[data["name"]] = data
    return found


def distribution_names() -> list[str]:
    return list(_manifests())


def recorded_hashes() -> dict[str, str]:
    """Hashes recorded on purpose (trust on first use), by URL."""
    path = settings.toolchains_dir() / LOCK_FILE
    if not path.is_file():
        return {}
    return dict(tomllib.loads(path.read_text()).get("sha256", {}))


def record_hash(url: str, sha256: str) -> Path:
    hashes = recorded_hashes() | {url: sha256}
    lines = [
        "# Toolchain archive hashes recorded on first use (invoke toolchain.fetch --trust).",
        "[sha256]",
        *(f'"{u}" = "{h}"' for u, h in sorted(hashes.items())),
    ]
    path = settings.toolchains_dir() / LOCK_FILE
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def host_name() -> str:
    return get_isa(platform.machine()).name


def archives(distribution: str) -> list[Archive]:
    data = _manifests()[distribution]
    return [
        Archive(
            distribution=distribution,
            version=data["version"],
            gcc=data.get("gcc", ""),
            musl=data.get("musl", ""),
            isa=entry["isa"],
            host=entry["host"],
            url=entry["url"],
            sha256=entry.get("sha256", ""),
            top=entry["top"],
            prefix=entry["prefix"],
            relocate=data.get("relocate"),
        )
        for entry in data.get("archive", [])
    ]


def find_archive(distribution: str, isa: Isa, host: str | None = None) -> Archive:
    host = host or host_name()
    for archive in archives(distribution):
        if archive.isa == isa.name and archive.host == host:
            return archive
    raise UsageError(f"{distribution} has no toolchain for {isa.name} on a {host} host")


def pinned_hash(archive: Archive) -> str:
    """The manifest's hash, else one recorded on purpose, else ''."""
    return archive.sha256 or recorded_hashes().get(archive.url, "")


class GccToolchain(Toolchain):
    provider = "gcc"

    def __init__(
        self,
        distribution: str,
        isa: Isa,
        fetch_options: FetchOptions | None = None,
        sha256: str | None = None,
        trust: bool = False,
    ) -> None:
        super().__init__(isa)
        self.archive = find_archive(distribution, isa)
        self.fetch_options = fetch_options or default_options()
        self.sha256 = (sha256 or pinned_hash(self.archive)).lower()
        self.trust = trust

    @property
    def root(self) -> Path:
        a = self.archive
        return settings.cache_dir() / "toolchains" / f"{a.distribution}-{a.version}" / a.isa

    def is_cached(self) -> bool:
        return is_complete(self.root / "dist") and (self.root / RELOCATED_MARKER).is_file()

    def fetch(self) -> Path:
        """Download (once), extract and relocate the archive; the toolchain's top folder."""
        dist = self.root / "dist"
        if self.is_cached():
            return dist
        if not self.sha256 and not self.trust:
            raise UsageError(
                f"{self.archive.distribution} {self.isa.name} has no pinned sha256: pass "
                f"--sha256, or record one with: invoke toolchain.fetch --toolchain "
                f"{self.archive.distribution} --arch {self.isa.name} --trust"
            )
        path = fetch(
            Source(self.archive.url, self.sha256), self.fetch_options, trust_unpinned=self.trust
        )
        if not self.sha256:
            self._record_first_use(path)
        extract(path, dist, strip_top=self.archive.top)
        self._relocate(dist)
        return dist

    def _record_first_use(self, path: Path) -> None:
        self.sha256 = sha256_file(path)
        lock = record_hash(self.archive.url, self.sha256)
        log(
            f"TRUST ON FIRST USE: {path.name} had no pinned hash; recorded sha256 "
            f"{self.sha256} in {lock}"
        )

    def _relocate(self, dist: Path) -> None:
        with FileLock(str(self.root / ".relocate.lock")):
            if (self.root / RELOCATED_MARKER).is_file():
                return
            if self.archive.relocate:
                script = dist / self.archive.relocate
                if not script.is_file():
                    raise UsageError(f"{self.archive.top} has no {self.archive.relocate}")
                run(["sh", script.name], cwd=dist, what=f"{script.name} in {self.archive.top}")
            atomic_write_text(self.root / RELOCATED_MARKER, f"{dist}\n")

    def bin_dir(self) -> Path:
        dist = self.fetch()
        bin_dir = self.root / "bin"
        for tool in TOOL_NAMES:
            real = dist / "bin" / f"{self.archive.prefix}-{REAL_TOOL.get(tool, tool)}"
            self._write_wrapper(
                bin_dir / f"{self.triple}-{tool}", real, static=tool in ("gcc", "cc", "g++", "c++")
            )
        return bin_dir

    @staticmethod
    def _write_wrapper(path: Path, real: Path, static: bool) -> None:
        target = shlex.quote(str(real))
        if static:  # link statically unless only compiling, as the zig provider does
            body = (
                'for arg in "$@"; do case "$arg" in '
                + "|".join(NON_LINKING)
                + f') exec {target} "$@";; esac; done\n'
                f'exec {target} -static "$@"\n'
            )
        else:
            body = f'exec {target} "$@"\n'
        script = ("#!/bin/sh\n" + body).encode()
        write_if_changed(path, script, mode=0o755)

    def identity(self) -> dict[str, str]:
        a = self.archive
        return {
            "provider": "gcc",
            "distribution": a.distribution,
            "version": a.version,
            "gcc": a.gcc,
            "musl": a.musl,
            "archive": Path(a.url).name,
            "archive_sha256": self.sha256,
        }

    def describe(self) -> str:
        return f"{self.archive.distribution} {self.archive.version} GCC {self.archive.gcc} ({self.triple})"


def hash_status(archive: Archive) -> str:
    if archive.sha256:
        return "pinned"
    return (
        "recorded (first use)"
        if archive.url in recorded_hashes()
        else "UNKNOWN: --sha256 or --trust"
    )


def status_rows() -> list[dict[str, str]]:
    """Distribution x ISA for this host: version, hash status, cached, size on disk."""
    rows = []
    host = host_name()
    for name in distribution_names():
        for archive in archives(name):
            if archive.host != host:
                continue
            toolchain = GccToolchain(name, get_isa(archive.isa))
            cached = toolchain.is_cached()
            size = folder_size(toolchain.root) if toolchain.root.exists() else 0
            rows.append(
                {
                    "toolchain": name,
                    "isa": archive.isa,
                    "version": archive.version,
                    "gcc": archive.gcc,
                    "musl": archive.musl,
                    "hash": hash_status(archive),
                    "cached": "yes" if cached else "no",
                    "size": f"{size / 1e6:.1f} MB" if size else "-",
                }
            )
    return rows
