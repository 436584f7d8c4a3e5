"""Debian packages fetched without touching the host's apt: a private apt root per suite and
architecture in musltool's cache, whose only source is the Debian archive this machine's apt
already uses (its URI, with the suite asked for). Kernels and newer emulators come this way.
"""

from __future__ import annotations

import re
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

from musltool.cache import cache_dir
from musltool.errors import DownloadError
from musltool.process import run

KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
DEBIAN_ARCHIVE = "http://deb.debian.org/debian"
DEBIAN_SUITES = ("bookworm", "trixie", "forky", "bullseye", "sid", "stable", "testing", "unstable")


def debian_uri() -> str:
    """The URI of this machine's configured Debian archive (not its security archive)."""
    for path in _source_files():
        text = path.read_text(errors="replace")
        for uri, suites in _deb822_entries(text) + _one_line_entries(text):
            if "security" not in uri and any(s.split("-")[0] in DEBIAN_SUITES for s in suites):
                return uri.rstrip("/")
    return DEBIAN_ARCHIVE  # not a Debian machine (Ubuntu's CI runners): Debian's own archive


def _source_files() -> list[Path]:
    single, folder = APT_SOURCES
    found = [single] if single.is_file() else []
    if folder.is_dir():
        found += sorted(p for p in folder.iterdir() if p.suffix in (".sources", ".list"))
    return found


def _deb822_entries(text: str) -> list[tuple[str, list[str]]]:
    entries = []
    for stanza in re.split(r"\n\s*\n", text):
        fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
        if fields.get("Types", "").split()[:1] == ["deb"] or "deb" in fields.get("Types", "").split():
            for uri in fields.get("URIs", "").split():
                entries.append((uri, fields.get("Suites", "").split()))
    return entries


def _one_line_entries(text: str) -> list[tuple[str, list[str]]]:
    entries = []
    for line in text.splitlines():
        words = [w for w in re.sub(r"\[.*?\]", "", line).split() if w]
        if len(words) >= 3 and words[0] == "deb":
            entries.append((words[1], [words[2]]))
    return entries


class AptRoot:
    """A private apt configuration and state for one Debian architecture, in the cache."""

    def __init__(self, arch: str, suite: str) -> None:
        self.arch = arch
        self.suite = suite
        self.root = cache_dir() / "apt" / f"{suite}-{arch}"

    def options(self) -> list[str]:
        return [
            "-o", f"Dir={self.root}",
            "-o", f"Dir::State::status={self.root / 'var/lib/dpkg/status'}",
            "-o", f"APT::Architecture={self.arch}",
            "-o", f"APT::Architectures::={self.arch}",
            "-o", "Debug::NoLocking=1",
            "-o", "APT::Sandbox::User=root",
        ]  # fmt: skip

    def prepare(self) -> None:
        for folder in ("etc/apt/sources.list.d", "etc/apt/preferences.d", "etc/apt/apt.conf.d",
                       "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg"):  # fmt: skip
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        (self.root / "var/lib/dpkg/status").touch()
        sources = (
            f"Types: deb\nURIs: {debian_uri()}\nSuites: {self.suite}\nComponents: main\n"
            f"Signed-By: {KEYRING}\n"
        )
        (self.root / "etc/apt/sources.list.d/debian.sources").write_text(sources)

    def update(self) -> None:
        self.prepare()
        run(["apt-get", *self.options(), "update", "-qq"], error=DownloadError,
            what=f"apt-get update for {self.suite}/{self.arch}")  # fmt: skip

    def download(self, package: str, version: str, folder: Path) -> Path:
        run(["apt-get", *self.options(), "download", f"{package}={version}"], cwd=folder,
            error=DownloadError, what=f"apt-get download {package}={version}")  # fmt: skip
        found = list(folder.glob(f"{package}_*.deb"))
        if len(found) != 1:
            raise DownloadError(f"apt-get download {package}={version} gave no single .deb")
        return found[0]

    @contextmanager
    def locked(self) -> Iterator[AptRoot]:
        """The root for this process alone (two fetches updating one root would collide)."""
        self.root.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{self.root}.lock"):
            yield self


def deb_files(deb: Path, wanted: Callable[[str], bool]) -> dict[str, bytes]:
    """The package's regular data files whose path (without "./") `wanted` takes, read as
    dpkg-deb streams the data archive: nothing is unpacked to disk."""
    found: dict[str, bytes] = {}
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if member.isfile() and wanted(name):
                    handle = tar.extractfile(member)
                    assert handle is not None
                    found[name] = handle.read()
    return found
