"""The GCC provider: musl cross toolchain archives (Bootlin, musl.cc) fetched per ISA.

Manifests in toolchains/*.toml say which archive exists per ISA and host, with its pinned
hash. An archive is fetched through the download layer, extracted safely, relocated where
the distribution needs it, and put behind the same `<triple>-gcc` ... names as zig.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from musltool import settings
from musltool.cache import cache_dir
from musltool.errors import UsageError
from musltool.extract import extract, is_complete
from musltool.fetch import FetchOptions, Source, fetch, fetch_options
from musltool.files import atomic_write_text, folder_size, sha256_file
from musltool.isa import Isa, get_isa, host_isa
from musltool.process import log, run
from musltool.toolchain.base import TOOL_NAMES, Toolchain
from musltool.toolchain.driver import DriverConfig, driver_program, install
from musltool.toolchain.manifests import manifests, names

FAMILY = "archive"
RELOCATED_MARKER = ".musltool-relocated"
# Which of the archive's tools stands behind each musltool tool name.
REAL_TOOL = {"cc": "gcc", "c++": "g++"}


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


def distribution_names() -> list[str]:
    return names(FAMILY)


def recorded_hashes() -> dict[str, str]:
    """Hashes recorded on purpose (trust on first use), by URL."""
    path = settings.lock_file()
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
    path = settings.lock_file()
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def host_name() -> str:
    host = host_isa()
    if host is None:
        raise UsageError("GCC toolchain archives exist only for hosts musltool targets")
    return host.name


def archives(distribution: str) -> list[Archive]:
    data = manifests(FAMILY)[distribution]
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


def check_sha256(value: str) -> str:
    """A sha256 given by a user: 64 hex digits, checked before any download."""
    if len(value) != 64 or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise UsageError(f"--sha256 {value!r} is not a sha256 (64 hex digits)")
    return value.lower()


def pinned_hash(archive: Archive) -> str:
    """The manifest's hash, else one recorded on purpose, else ''."""
    return archive.sha256 or recorded_hashes().get(archive.url, "")


class GccToolchain(Toolchain):
    provider = "gcc"

    def __init__(
        self,
        distribution: str,
        isa: Isa,
        download: FetchOptions | None = None,
        sha256: str | None = None,
        trust: bool = False,
    ) -> None:
        super().__init__(isa)
        self.archive = find_archive(distribution, isa)
        self.download = download or fetch_options()
        self.sha256 = (sha256 or pinned_hash(self.archive)).lower()
        self.trust = trust

    @property
    def root(self) -> Path:
        a = self.archive
        return cache_dir() / "toolchains" / f"{a.distribution}-{a.version}" / a.isa

    def is_cached(self) -> bool:
        return is_complete(self.root / "dist") and (self.root / RELOCATED_MARKER).is_file()

    def fetch(self) -> Path:
        """Download (once), extract and relocate the archive; the toolchain's top folder."""
        dist = self.root / "dist"
        if self.is_cached():
            return dist
        if not self.sha256 and not self.trust:
            fetch_it = f"invoke toolchain.fetch --toolchain {self.archive.distribution} --arch {self.isa.name}"
            raise UsageError(
                f"{self.archive.distribution} {self.isa.name} has no pinned sha256: fetch it once "
                f"with its known hash ({fetch_it} --sha256 HASH), or record the hash of what "
                f"arrives ({fetch_it} --trust)"
            )
        path = fetch(
            Source(self.archive.url, self.sha256), self.download, trust_unpinned=self.trust
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

    @functools.cached_property
    def _bin_dir(self) -> Path:
        dist = self.fetch()
        bin_dir = self.root / "bin"
        commands = {
            tool: (str(dist / "bin" / f"{self.archive.prefix}-{REAL_TOOL.get(tool, tool)}"),)
            for tool in TOOL_NAMES
        }
        install(bin_dir, self.triple, driver_program(), DriverConfig(commands=commands))
        return bin_dir

    def bin_dir(self) -> Path:
        return self._bin_dir

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


def prepare_archives(name: str, isas: list[Isa], options: FetchOptions, sha256: str = "", trust: bool = False) -> list[str]:
    """`toolchain.fetch` for a GCC archive: download, verify, extract and cache it per ISA."""
    if sha256:
        check_sha256(sha256)
        if len(isas) != 1:
            raise UsageError("--sha256 goes with exactly one ISA")
    lines = []
    for isa in isas:
        toolchain = GccToolchain(name, isa, options, sha256=sha256 or None, trust=trust)
        state = "already cached" if toolchain.is_cached() else "fetched"
        toolchain.bin_dir()
        lines.append(f"{isa.name}: {toolchain.describe()} {state} in {toolchain.root}")
    return lines


def archive_table() -> list[str]:
    """`toolchain.list`: GCC distribution x ISA for this host, as aligned rows."""
    columns = ("toolchain", "isa", "version", "gcc", "musl", "hash", "cached", "size")
    rows = status_rows()
    widths = {col: max(len(col), *(len(r[col]) for r in rows)) for col in columns}
    lines = ["  ".join(col.ljust(widths[col]) for col in columns).rstrip()]
    lines += ["  ".join(row[col].ljust(widths[col]) for col in columns).rstrip() for row in rows]
    return lines
