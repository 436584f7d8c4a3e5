"""musltool's cache folder: where it is, what in it is musltool's, and emptying it safely.

The cache is MUSLTOOL_CACHE, or the platform's user cache folder. musltool claims a folder only
when it creates it, or when it is empty: a folder holding anything else is refused, never
written into. The marker `.musltool-cache` records whether musltool created the folder;
`invoke clean --cache` removes exactly the parts musltool keeps there (CACHE_PARTS), the
marker and the lock, and the folder itself only when musltool created it. Every musltool run
holds a shared lock on the cache while it runs; `clean --cache` needs it alone, so it never
empties a cache another build is using.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path

import platformdirs

from musltool.errors import UsageError
from musltool.files import read_text_if_regular

CACHE_MARKER = ".musltool-cache"
CACHE_LOCK = ".musltool-cache.lock"
# Every top-level entry musltool makes in its cache, and nothing else.
CACHE_PARTS = ("downloads", "src", "work", "zig-cache", "toolchains", "tools", "logs", "dockerd.log",
               "sysroot", "apt", "kernels", "emulators")  # fmt: skip

_held: dict[str, int] = {}  # cache path -> the descriptor holding its shared lock


def configured_cache() -> Path:
    configured = os.environ.get("MUSLTOOL_CACHE")
    return Path(configured) if configured else Path(platformdirs.user_cache_dir("musltool"))


def cache_dir() -> Path:
    """The cache, created (and claimed) if missing, and held with a shared lock while this
    run lasts. A folder musltool cannot use, or one holding files it did not make, is one
    UsageError (exit 2)."""
    path = configured_cache()
    if any(c.isspace() for c in str(path)):
        raise UsageError(f"cache folder {str(path)!r} (MUSLTOOL_CACHE) has a space in its path: build tools "
                         "(make, configure) split compiler paths on spaces; choose a path without one")  # fmt: skip
    try:
        created = not path.exists() and not path.is_symlink()
        path.mkdir(parents=True, exist_ok=True)
        resolved = path.resolve()
        if str(resolved) not in _held:
            _claim(resolved, created)
            _hold(resolved)
    except (FileExistsError, NotADirectoryError) as exc:
        raise UsageError(f"cache folder {path} (MUSLTOOL_CACHE) is not a folder") from exc
    except OSError as exc:
        raise UsageError(f"cache folder {path} (MUSLTOOL_CACHE) cannot be used: {exc.strerror}") from exc
    return resolved


def marker(path: Path) -> dict[str, object] | None:
    """The cache marker's record, or None when the folder is not musltool's cache. A marker of
    an older musltool (plain text) says nothing of who made the folder: not created."""
    text = read_text_if_regular(path / CACHE_MARKER)
    if text is None:
        return None
    with contextlib.suppress(ValueError):
        data = json.loads(text)
        if isinstance(data, dict):
            return data
    return {"created": False}


def is_cache(path: Path) -> bool:
    return marker(path) is not None


def _claim(path: Path, created: bool) -> None:
    """Mark the folder as musltool's cache (once), and check that it takes files."""
    if marker(path) is not None:
        _probe(path)
        return
    foreign = [p.name for p in path.iterdir() if p.name not in (CACHE_LOCK,)]
    if foreign:
        raise UsageError(f"cache folder {path} (MUSLTOOL_CACHE) holds files musltool did not make "
                         f"({', '.join(sorted(foreign)[:3])} ...): give a new or empty folder")  # fmt: skip
    _probe(path)
    fd, tmp = tempfile.mkstemp(prefix=".musltool-cache.", dir=path)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps({"musltool": "cache", "created": created}) + "\n")
    os.replace(tmp, path / CACHE_MARKER)


def _probe(path: Path) -> None:
    with tempfile.NamedTemporaryFile(dir=path, prefix=".musltool-probe-"):
        pass


def _lock_fd(path: Path) -> int:
    return os.open(path / CACHE_LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)


def _hold(path: Path) -> None:
    fd = _lock_fd(path)
    fcntl.flock(fd, fcntl.LOCK_SH)
    _held[str(path)] = fd


def release(path: Path) -> None:
    fd = _held.pop(str(path), None)
    if fd is not None:
        os.close(fd)


def clean_cache(path: Path) -> tuple[list[str], list[str]]:
    """Remove what musltool keeps in the cache at `path`; (removed, kept with the reason).
    Refused while another musltool run holds the cache."""
    record = marker(path)
    if record is None:
        raise UsageError(f"{path} is not musltool's cache (no {CACHE_MARKER}): not removed")
    release(path)
    fd = _lock_fd(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise UsageError(f"the cache {path} is in use by another musltool run: not removed") from exc
            raise
        removed, kept = _remove_parts(path)
        for name in (CACHE_MARKER, CACHE_LOCK):
            with contextlib.suppress(FileNotFoundError):
                (path / name).unlink()
    finally:
        os.close(fd)
    if record.get("created") is True:
        try:
            path.rmdir()
            removed.append(str(path))
        except OSError:
            kept.append(f"{path} (holds files musltool did not make)")
    return removed, kept


def _remove_parts(path: Path) -> tuple[list[str], list[str]]:
    removed: list[str] = []
    kept: list[str] = []
    for name in CACHE_PARTS:
        part = path / name
        if part.is_symlink():
            kept.append(f"{part} (a symlink musltool did not make)")
        elif part.is_dir():
            shutil.rmtree(part)
            removed.append(str(part))
        elif part.exists():
            part.unlink()
            removed.append(str(part))
    return removed, kept
