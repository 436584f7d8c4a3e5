"""Files: hashing, atomic writes, staging folders, and reading or walking a user's folder
without following a symlink out of it or hanging on a FIFO or a device.

Every name that becomes a path below one of musltool's folders passes `plain_name_problem`:
one path component, no `/`, no `..`, no glob or control characters.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import io
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock

from musltool.errors import UsageError

GLOB_CHARACTERS = frozenset("*?[]")
READ_CHUNK = 1 << 20


def plain_name_problem(name: str) -> str | None:
    """Why `name` cannot be one component of a path musltool writes, or None when it can."""
    if not name or name in (".", ".."):
        return f"{name!r} is not a plain name"
    if "/" in name:
        return f"{name!r} is not a plain name (it holds '/')"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return f"{name!r} is not a plain name (it holds a control character)"
    if GLOB_CHARACTERS & set(name):
        return f"{name!r} is not a plain name (it holds a glob character: * ? [ ])"
    if name.startswith("-"):
        return f"{name!r} is not a plain name (it starts with '-')"
    return None


def relative_parts(relative: str) -> list[str]:
    """The components of a relative path musltool writes, each a plain name; else UsageError."""
    parts = relative.split("/")
    for part in parts:
        problem = plain_name_problem(part)
        if problem:
            raise UsageError(f"{relative!r}: {problem}")
    return parts


def gzip_bytes(data: bytes) -> bytes:
    """gzip with no timestamp and no file name: the same input gives the same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buffer.getvalue()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(READ_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class NotRegularFile(OSError):
    """A path that had to be a regular file is a symlink, FIFO, socket, device or folder."""


def file_kind(mode: int) -> str:
    kinds = ((stat.S_ISREG, "file"), (stat.S_ISDIR, "folder"), (stat.S_ISLNK, "symlink"),
             (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"))  # fmt: skip
    return next((name for test, name in kinds if test(mode)), "special file")


def read_regular(path: Path | str, limit: int | None = None, dir_fd: int | None = None) -> bytes:
    """A regular file's bytes; a symlink, FIFO, device or socket is refused without blocking
    on it, and a file over `limit` bytes is refused before it is read."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFile(errno.ELOOP, "is a symlink", str(path)) from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotRegularFile(errno.EINVAL, f"is a {file_kind(info.st_mode)}, not a file", str(path))
    with os.fdopen(fd, "rb") as handle:
        if limit is not None and info.st_size > limit:
            raise NotRegularFile(errno.EFBIG, f"is larger than {limit} bytes", str(path))
        data = handle.read() if limit is None else handle.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise NotRegularFile(errno.EFBIG, f"is larger than {limit} bytes", str(path))
    return data


def read_text_if_regular(path: Path) -> str | None:
    """The text of a regular file, or None when there is none (missing, or not a regular file)."""
    try:
        return read_regular(path).decode(errors="replace")
    except FileNotFoundError:
        return None
    except NotRegularFile:
        return None


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write to a temporary sibling, then rename: readers never see half a file, and a
    symlink at `path` is replaced, never written through."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def write_if_changed(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Atomically (re)write `path` only when its content differs (wrapper scripts)."""
    if read_text_if_regular(path) is None or path.read_bytes() != data:
        atomic_write_bytes(path, data, mode)


COMPLETE_MARKER = ".musltool-complete"


def is_complete(folder: Path) -> bool:
    return (folder / COMPLETE_MARKER).is_file()


@contextlib.contextmanager
def made_once(final: Path, note: str) -> Iterator[Path | None]:
    """Make the folder `final` once, under a lock: None when it is already complete (its
    marker is there), else a staging folder that becomes `final`, with the marker (holding
    `note`), when the block ends without an error. A half-made `final` is replaced."""
    final.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(final) + ".lock"):
        if is_complete(final):
            yield None
            return
        with staging_dir(final) as stage:
            yield stage
            (stage / COMPLETE_MARKER).write_text(note)


@contextlib.contextmanager
def staging_dir(final: Path) -> Iterator[Path]:
    """A temporary sibling folder that replaces `final` only if the block succeeds."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        yield tmp
        if final.is_symlink() or final.is_file():
            final.unlink()
        elif final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def folder_size(path: Path) -> int:
    """Bytes in the regular files below `path` (symlinks not followed)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def open_folder(parent_fd: int, name: str) -> int:
    """A descriptor of the real folder `name` in `parent_fd`; a symlink is refused (ELOOP or
    ENOTDIR), never followed."""
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent_fd)


@contextlib.contextmanager
def folder_fd(path: Path) -> Iterator[int]:
    """A descriptor of `path` itself (which may be a symlink the user chose), closed after."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def walk_to(root_fd: int, parts: list[str]) -> Iterator[int]:
    """A descriptor of the folder `parts` below `root_fd`, each step refusing a symlink."""
    fds: list[int] = []
    try:
        current = root_fd
        for part in parts:
            current = open_folder(current, part)
            fds.append(current)
        yield current
    finally:
        for fd in reversed(fds):
            os.close(fd)


def probe_folder(folder: int) -> None:
    """The folder takes files (a file is made and removed)."""
    name = f".musltool-probe-{os.getpid()}-{os.urandom(4).hex()}"
    write_new_at(folder, name, b"", 0o600)
    os.unlink(name, dir_fd=folder)


def write_new_at(folder: int, name: str, data: bytes, mode: int, replace: bool = False) -> None:
    """A new file `name` in the folder `folder` (a symlink at its place is never followed)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_TRUNC if replace else os.O_EXCL)
    fd = os.open(name, flags, 0o600, dir_fd=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            os.fchmod(handle.fileno(), mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=folder)
        raise


def remove_tree_at(parent: int, name: str) -> None:
    """Remove `name` in `parent` and everything below it, never following a symlink."""
    try:
        with walk_to(parent, [name]) as fd:
            for child in os.listdir(fd):
                if stat.S_ISDIR(os.lstat(child, dir_fd=fd).st_mode):
                    remove_tree_at(fd, child)
                else:
                    os.unlink(child, dir_fd=fd)
        os.rmdir(name, dir_fd=parent)
    except FileNotFoundError:
        pass
