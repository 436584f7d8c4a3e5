"""Shared builds kept from one test run to the next of the same source on the same host.

`MUSLTOOL_TEST_BUILDS=FOLDER` (`.ci/run` sets it beside the musltool cache) keeps the shared
builds in `FOLDER/<key>`. The key is the sha256 of:
- every file of the checkout (tracked, and untracked but not in a .gitignore), as on disk;
- the host: its Debian packages with their versions (qemu, docker, the cross compilers), the
  Python packages, the kernel, the binfmt_misc entries and the emulators they name;
- the environment, but for the variables of one test run (`RUN_ONLY`), and the files of
  MUSLTOOL_TOOLCHAINS_DIR when it is set;
- the musltool cache the builds' work folders and libraries are in (its path and marker: an
  emptied cache makes a new key).
A second run with the same key finds each shared build in its dist folder, verified by the
first, and musltool's own up-to-date check (the fingerprint, the binary's sha256 against its
report) takes it as it is. Change any of those and every shared build is made and verified
again. The run's first pytest process (`pytest_configure`) tells the key once for all workers.

Each test process holds a shared lock on its key's `in-use.lock` while it runs. Before taking
its own, a run removes the other keys' folders: only those named by a key, holding the marker
this module writes, not a symlink, and whose lock it can take alone (no run is using them).
A folder is renamed to `<key>.removing` before it is emptied, so that a removal cut short
leaves no half folder under a key (the next run finishes it).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

from filelock import FileLock

from musltool.cache import CACHE_MARKER, configured_cache

MARKER = "made-by-musltool-tests"
IN_USE = "in-use.lock"
KEY_NAME = re.compile(r"[0-9a-f]{64}")
REMOVING = re.compile(r"[0-9a-f]{64}\.removing")
KEY_VARIABLE = "MUSLTOOL_TEST_BUILDS_KEY"
RUN_ONLY = re.compile(r"PYTEST_.*|MUSLTOOL_TEST_.*|PWD|OLDPWD|SHLVL|_|COLUMNS|LINES")
BINFMT = Path("/proc/sys/fs/binfmt_misc")
_held: list[int] = []  # descriptors of the in-use locks this process holds until it ends


def checkout_files(root: Path) -> list[str] | None:
    """The checkout's files, tracked and untracked but not in a .gitignore (a user's own
    excludes do not hide a file); None outside a git checkout."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-per-directory=.gitignore"],
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


def kernel() -> str:
    return f"{platform.release()} {platform.version()}"


def emulators(binfmt: Path = BINFMT) -> str:
    """Each binfmt_misc entry as the kernel shows it, and the sha256 of the interpreter it names."""
    lines = []
    for entry in sorted(binfmt.glob("*")) if binfmt.is_dir() else []:
        if entry.name in ("register", "status") or not entry.is_file():
            continue
        text = entry.read_text(errors="replace")
        lines.append(text)
        interpreter = Path(next((line.split()[1] for line in text.splitlines() if line.startswith("interpreter ")), ""))
        if interpreter.is_file():
            lines.append(hashlib.sha256(interpreter.read_bytes()).hexdigest())
    return "\n".join(lines)


def environment() -> str:
    """The environment's variables, but for those of one test run (RUN_ONLY): what the builds'
    make, configure, zig and docker may read; and the files of MUSLTOOL_TOOLCHAINS_DIR if set."""
    lines = [f"{name}={value}" for name, value in sorted(os.environ.items()) if not RUN_ONLY.fullmatch(name)]
    toolchains = Path(os.environ.get("MUSLTOOL_TOOLCHAINS_DIR") or "/nonexistent")
    if toolchains.is_dir():
        names = sorted(str(p.relative_to(toolchains)) for p in toolchains.rglob("*") if p.is_file())
        lines.append(source_key(toolchains, names, ""))
    return "\n".join(lines)


def musltool_cache() -> str:
    """The cache's path and its marker's identity (read, nothing made): the marker is made once
    per cache, so a cache emptied and made again (its work folders and libraries gone) is another."""
    path = configured_cache().resolve()
    try:
        info = (path / CACHE_MARKER).lstat()
    except OSError:
        return f"{path} no marker"
    return f"{path} {info.st_ino} {info.st_mtime_ns}"


def host_text() -> str | None:
    """What of the host goes into the key; None when it cannot be told (no dpkg)."""
    packages = host_packages()
    if packages is None:
        return None
    return "\n\n".join([packages, python_packages(), kernel(), emulators(), environment(), musltool_cache()])


def source_key(root: Path, files: list[str], host: str) -> str:
    """The sha256 of the files' paths and contents (a deleted one counts as missing) and the host."""
    digest = hashlib.sha256()
    for name in files:
        path = root / name
        content = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
        link = os.readlink(path) if path.is_symlink() else ""
        digest.update(json.dumps([name, link, len(content)]).encode() + content)
    digest.update(b"\0host\0" + host.encode())
    return digest.hexdigest()


def run_key(root: Path) -> str | None:
    """This checkout's key on this host; None when it cannot be told (no git checkout, no dpkg)."""
    files = checkout_files(root)
    host = host_text() if files is not None else None
    if files is None or host is None:
        return None
    return source_key(root, files, host)


def _is_regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _try_lock(lock_file: Path, mode: int) -> int | None:
    """A descriptor holding `mode` on the lock file (opened read-only: flock needs no more),
    or None when another process holds it or it cannot be opened as a plain file."""
    try:
        descriptor = os.open(lock_file, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return None
    return descriptor


def _unused(folder: Path) -> bool:
    """No run holds the folder in use (a folder without its lock file was never taken)."""
    if not (folder / IN_USE).exists():
        return not (folder / IN_USE).is_symlink()
    descriptor = _try_lock(folder / IN_USE, fcntl.LOCK_EX)
    if descriptor is None:
        return False
    os.close(descriptor)  # the caller holds root's cleanup lock: no run takes the folder meanwhile
    return True


def remove_unused_keys(root: Path, keep: str) -> list[Path]:
    """Called with root's cleanup lock held: the other keys' folders this module made and no
    run is using, removed (each renamed first), and removals an earlier run left unfinished."""
    removed = []
    for folder in sorted(root.iterdir()):
        if folder.is_symlink() or not folder.is_dir():
            continue
        if REMOVING.fullmatch(folder.name):
            shutil.rmtree(folder)
            continue
        if folder.name == keep or not KEY_NAME.fullmatch(folder.name) or not _is_regular(folder / MARKER):
            continue
        if _unused(folder):
            removing = folder.with_name(f"{folder.name}.removing")
            folder.rename(removing)
            shutil.rmtree(removing)
            removed.append(folder)
    return removed


def kept_builds_folder(root: Path, key: str) -> Path:
    """`root/key`, made and marked by this module, held in use by this process until it ends;
    the unused folders of other keys removed first (under one lock, so that no run takes a
    folder being removed)."""
    root.mkdir(parents=True, exist_ok=True)
    folder = root / key
    with FileLock(str(root / "cleanup.lock")):
        remove_unused_keys(root, key)
        if folder.is_symlink() or (folder.exists() and not _is_regular(folder / MARKER)):
            raise RuntimeError(f"{folder} is not a folder of kept test builds (a symlink, or no {MARKER})")
        if not folder.exists():
            folder.mkdir()
            (folder / MARKER).touch()
        os.close(os.open(folder / IN_USE, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644))
        descriptor = _try_lock(folder / IN_USE, fcntl.LOCK_SH)
    if descriptor is None:
        raise RuntimeError(f"{folder / IN_USE} is held alone by another process, or is not a plain file")
    _held.append(descriptor)
    return folder
