"""Shared builds kept from one test run to the next of the same source on the same host.

`MUSLTOOL_TEST_BUILDS=FOLDER` (`.ci/run` sets it beside the musltool cache) keeps the shared
builds in `FOLDER/<key>`. The key is the sha256 of every file of the checkout (tracked and
untracked, not ignored: their paths and contents as they are on disk), of the host's Debian
packages with their versions (qemu, docker, the cross compilers), of the Python packages and of
the kernel release, and of the environment variables musltool reads that change what it builds
(`BUILD_ENVIRONMENT`, and the files of MUSLTOOL_TOOLCHAINS_DIR when set). A second run with the same key finds each shared build in its dist folder,
verified by the first, and musltool's own up-to-date check (the fingerprint, the binary's
sha256 against its report) takes it as it is. Change any file, package or kernel and every
shared build is made and verified again.

Each test process holds a shared lock on its key's `in-use.lock` while it runs. Before taking
its own, a run removes the other keys' folders: only those named by a key, holding the marker
this module writes, not a symlink, and whose lock it can take alone (no run is using them).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

from filelock import FileLock

MARKER = "made-by-musltool-tests"
IN_USE = "in-use.lock"
KEY_NAME = re.compile(r"[0-9a-f]{64}")
BUILD_ENVIRONMENT = ("SOURCE_DATE_EPOCH", "MUSLTOOL_TOOLCHAINS_DIR", "CC", "CXX", "CFLAGS", "CXXFLAGS",
                     "LDFLAGS", "AR", "NM", "RANLIB", "STRIP", "OBJCOPY")  # fmt: skip
_held: list[int] = []  # descriptors of the in-use locks this process holds until it ends


def checkout_files(root: Path) -> list[str] | None:
    """The checkout's files, tracked and untracked but not ignored; None outside a git checkout."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return sorted({name.decode() for name in listed.split(b"\0") if name})


def host_packages() -> str | None:
    """The host's Debian packages and versions, one per line; None without dpkg."""
    try:
        listed = subprocess.run(
            ["dpkg-query", "-W", "-f", "${binary:Package} ${Version} ${db:Status-Abbrev}\n"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return "\n".join(sorted(listed.splitlines()))


def python_packages() -> str:
    versions = {f"{d.metadata['Name']} {d.version}" for d in importlib.metadata.distributions()}
    return "\n".join(sorted(versions))


def build_environment() -> str:
    """The variables of BUILD_ENVIRONMENT that are set, and MUSLTOOL_TOOLCHAINS_DIR's files."""
    lines = [f"{name}={os.environ[name]}" for name in BUILD_ENVIRONMENT if name in os.environ]
    toolchains = Path(os.environ.get("MUSLTOOL_TOOLCHAINS_DIR", ""))
    if os.environ.get("MUSLTOOL_TOOLCHAINS_DIR") and toolchains.is_dir():
        names = sorted(str(p.relative_to(toolchains)) for p in toolchains.rglob("*") if p.is_file())
        lines.append(source_key(toolchains, names, ""))
    return "\n".join(lines)


def source_key(root: Path, files: list[str], host: str) -> str:
    """The sha256 of the files' paths and contents (a deleted one counts as missing) and the host."""
    digest = hashlib.sha256()
    for name in files:
        path = root / name
        content = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
        link = os.readlink(path) if path.is_symlink() else ""
        digest.update(f"{name}\0{link}\0{len(content)}\0".encode() + content)
    digest.update(b"\0host\0" + host.encode())
    return digest.hexdigest()


def run_key(root: Path) -> str | None:
    """This checkout's key on this host; None when it cannot be told (no git checkout, no dpkg)."""
    files, packages = checkout_files(root), host_packages()
    if files is None or packages is None:
        return None
    host = [packages, python_packages(), platform.release(), build_environment()]
    return source_key(root, files, "\n\n".join(host))


def _lock(lock_file: Path, mode: int) -> int | None:
    """The descriptor holding `mode` on the file, or None when another process holds it."""
    descriptor = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def remove_unused_keys(root: Path, keep: str) -> list[Path]:
    """The other keys' folders this module made and no run is using, removed."""
    removed = []
    for folder in sorted(root.iterdir()):
        if folder.name == keep or not KEY_NAME.fullmatch(folder.name) or folder.is_symlink():
            continue
        if not folder.is_dir() or not (folder / MARKER).is_file():
            continue
        descriptor = _lock(folder / IN_USE, fcntl.LOCK_EX)
        if descriptor is None:
            continue
        try:
            shutil.rmtree(folder)
            removed.append(folder)
        finally:
            os.close(descriptor)
    return removed


def kept_builds_folder(root: Path, key: str) -> Path:
    """`root/key`, marked as this module's and held in use by this process until it ends; the
    unused folders of other keys removed first (under one lock, so that no run takes a folder
    being removed)."""
    root.mkdir(parents=True, exist_ok=True)
    folder = root / key
    if folder.is_symlink():
        raise RuntimeError(f"{folder} is a symlink: the kept builds go in a folder of their own")
    with FileLock(str(root / "cleanup.lock")):
        remove_unused_keys(root, key)
        folder.mkdir(exist_ok=True)
        (folder / MARKER).touch()
        descriptor = _lock(folder / IN_USE, fcntl.LOCK_SH)
    if descriptor is None:
        raise RuntimeError(f"{folder / IN_USE} is held alone by another process")
    _held.append(descriptor)
    return folder
