"""File trees in memory (images, root filesystems, overlays, session files), read from and
written to disk without ever leaving the folder they belong to.

A Tree is a list of entries (file, folder, symlink, FIFO, device node) with paths relative to
its root. It is checked before it is used: plain relative paths, no duplicates, nothing below
a symlink or a file. Reading a user's folder (`read_folder`) never follows a symlink out of
it, never opens a FIFO or a device (it records them), refuses sockets and caps the bytes it
reads. Writing a tree (`write_tree`) resolves every parent through folder descriptors with
O_NOFOLLOW, so an entry can never land outside the target, whatever symlinks the tree holds.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from musltool.errors import UsageError
from musltool.files import NotRegularFile, file_kind, folder_fd, read_regular, walk_to
from musltool.settings import source_date_epoch

KINDS = ("file", "dir", "symlink", "fifo", "chardev", "blockdev")
DEVICE_KINDS = ("chardev", "blockdev")
DEFAULT_DIR_MODE = 0o755
READ_LIMIT = 256 << 20  # bytes a folder read into a tree may hold (an overlay, recipe data)


class TreeError(UsageError):
    """A tree that cannot be written: a path that leaves it, a clash, a socket, too big."""


def path_problem(path: str) -> str | None:
    """Why `path` cannot name an entry of a tree, or None."""
    if not path or path.startswith("/"):
        return f"{path!r} is not a relative path"
    for part in path.split("/"):
        if part in ("", ".", ".."):
            return f"{path!r} has an empty, '.' or '..' component"
        if any(ord(c) < 32 or ord(c) == 127 for c in part):
            return f"{path!r} holds a control character"
    return None


@dataclass(frozen=True)
class Entry:
    """One file, folder, symlink, FIFO or device node in a tree."""

    path: str  # relative, without a leading slash
    data: bytes = b""
    mode: int = 0o644  # permission bits, setuid/setgid/sticky included
    kind: str = "file"
    target: str = ""  # for symlinks
    rdev: tuple[int, int] = (0, 0)  # major, minor for device nodes

    def __post_init__(self) -> None:
        problem = path_problem(self.path)
        if problem:
            raise TreeError(f"tree entry {problem}")
        if self.kind not in KINDS:
            raise TreeError(f"tree entry {self.path!r}: unknown kind {self.kind!r}")

    @property
    def type_bits(self) -> int:
        return {"file": stat.S_IFREG, "dir": stat.S_IFDIR, "symlink": stat.S_IFLNK, "fifo": stat.S_IFIFO,
                "chardev": stat.S_IFCHR, "blockdev": stat.S_IFBLK}[self.kind]  # fmt: skip


@dataclass
class Tree:
    entries: list[Entry] = field(default_factory=list)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def add_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        self.add(Entry(path.lstrip("/"), data, mode))

    def add_dir(self, path: str, mode: int = DEFAULT_DIR_MODE) -> None:
        self.add(Entry(path.lstrip("/"), mode=mode, kind="dir"))

    def add_symlink(self, path: str, target: str) -> None:
        self.add(Entry(path.lstrip("/"), mode=0o777, kind="symlink", target=target))

    def add_chardev(self, path: str, major: int, minor: int, mode: int = 0o600) -> None:
        self.add(Entry(path.lstrip("/"), mode=mode, kind="chardev", rdev=(major, minor)))

    def without(self, *paths: str) -> Tree:
        return Tree([e for e in self.entries if e.path not in paths])

    def get(self, path: str) -> Entry | None:
        return next((e for e in self.entries if e.path == path), None)

    def below(self, path: str) -> list[Entry]:
        return [e for e in self.entries if e.path.startswith(path + "/")]

    def check(self) -> Tree:
        """The tree, if it can be written as it is: no path twice, nothing below a non-folder."""
        kinds: dict[str, str] = {}
        for entry in self.entries:
            if entry.path in kinds:
                raise TreeError(f"tree: {entry.path!r} is listed twice")
            kinds[entry.path] = entry.kind
        for entry in self.entries:
            parts = entry.path.split("/")
            for depth in range(1, len(parts)):
                parent = "/".join(parts[:depth])
                if kinds.get(parent, "dir") != "dir":
                    raise TreeError(f"tree: {entry.path!r} lies below {parent!r}, which is a {kinds[parent]}, not a folder")
        return self

    def with_parents(self) -> Tree:
        """Every folder an entry lives in is an entry too (a cpio archive needs them listed)."""
        have = {e.path for e in self.entries}
        for entry in list(self.entries):
            parts = entry.path.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                folder = "/".join(parts[:depth])
                if folder not in have:
                    self.add_dir(folder)
                    have.add(folder)
        return self

    def overlay(self, other: Tree, what: str) -> None:
        """Lay `other` over this tree: its files, symlinks and nodes replace ours; a folder of
        ours keeps its mode unless `other` sets one on purpose (anything but 0755). A symlink or
        file of `other` where we have a folder holding entries is refused: it would drop them."""
        for entry in sorted(other.entries, key=lambda e: e.path):
            mine = self.get(entry.path)
            if mine is None:
                self.add(entry)
                continue
            if mine.kind == "dir" and entry.kind == "dir":
                if entry.mode != DEFAULT_DIR_MODE:
                    self._replace(mine, replace(mine, mode=entry.mode))
                continue
            if mine.kind == "dir" and self.below(mine.path):
                held = ", ".join(e.path for e in self.below(mine.path)[:3])
                raise TreeError(f"{what}: {entry.path} is a {entry.kind}, but the image has a folder there "
                                f"holding {held} ...: make it a folder in {what}")  # fmt: skip
            self._replace(mine, entry)

    def _replace(self, old: Entry, new: Entry) -> None:
        self.entries[self.entries.index(old)] = new


# ---------------------------------------------------------------------------- serialising


def tar_bytes(tree: Tree, mtime: int | None = None) -> bytes:
    """A reproducible tar: sorted entries, fixed mtime, uid/gid 0, no user names."""
    stamp = source_date_epoch() if mtime is None else mtime
    tar_types = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "fifo": tarfile.FIFOTYPE,
                 "chardev": tarfile.CHRTYPE, "blockdev": tarfile.BLKTYPE}  # fmt: skip
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(tree.check().entries, key=lambda e: e.path):
            info = tarfile.TarInfo(entry.path)
            info.mode, info.mtime, info.uid, info.gid = entry.mode, stamp, 0, 0
            info.uname = info.gname = ""
            if entry.kind == "file":
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
                continue
            info.type = tar_types[entry.kind]
            info.linkname = entry.target
            info.devmajor, info.devminor = entry.rdev
            tar.addfile(info)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- disk


def write_tree(tree: Tree, root: Path, devices: bool = False) -> list[Entry]:
    """Write the tree's entries below `root`, a folder musltool made. Every parent is opened
    with O_NOFOLLOW from `root` down, so no entry lands outside it. Device nodes need root and
    are only made with `devices`; the ones left out are returned (the caller says where they
    go instead). Folder modes are set last, so a read-only folder still gets its entries."""
    skipped: list[Entry] = []
    folders: list[Entry] = []
    with folder_fd(root) as root_fd:
        for entry in sorted(tree.check().entries, key=lambda e: e.path):
            *parents, name = entry.path.split("/")
            try:
                with walk_to(root_fd, parents) as parent:
                    if entry.kind in DEVICE_KINDS and not devices:
                        skipped.append(entry)
                    elif _make(entry, name, parent):
                        folders.append(entry)
            except OSError as exc:
                raise TreeError(f"cannot write {entry.path} below {root}: {exc.strerror}") from exc
        for entry in sorted(folders, key=lambda e: e.path, reverse=True):
            *parents, name = entry.path.split("/")
            with walk_to(root_fd, [*parents, name]) as fd:
                os.fchmod(fd, entry.mode)
    return skipped


def _make(entry: Entry, name: str, parent: int) -> bool:
    """Make one entry in the folder `parent`; True for a folder (its mode is set later)."""
    if entry.kind == "dir":
        try:
            os.mkdir(name, 0o700, dir_fd=parent)
        except FileExistsError:
            os.close(os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent))
        return True
    if entry.kind == "symlink":
        os.symlink(entry.target, name, dir_fd=parent)
    elif entry.kind == "fifo":
        os.mkfifo(name, 0o600, dir_fd=parent)
        _chmod_at(parent, name, entry.mode)
    elif entry.kind in DEVICE_KINDS:
        os.mknod(name, 0o600 | entry.type_bits, os.makedev(*entry.rdev), dir_fd=parent)
        _chmod_at(parent, name, entry.mode)
    else:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(entry.data)
            os.fchmod(handle.fileno(), entry.mode)
    return False


def _chmod_at(parent: int, name: str, mode: int) -> None:
    """chmod of a node just made here (no descriptor can be opened on a FIFO without blocking)."""
    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW, dir_fd=parent)
    try:
        os.chmod(f"/proc/self/fd/{fd}", mode)
    finally:
        os.close(fd)


def read_folder(folder: Path, prefix: str = "", what: str = "", keep_modes: bool = True,
                limit: int = READ_LIMIT) -> Tree:  # fmt: skip
    """A user's folder as a tree below `prefix`, without following a symlink in it (symlinks are
    copied as symlinks), without opening FIFOs or devices (they are recorded as nodes), and at
    most `limit` bytes of files. A socket cannot go into an image: refused. `keep_modes`
    keeps every permission bit (setuid included); without it a file is 0755 or 0644 by its
    owner's execute bit and a folder 0755, so the tree does not depend on a checkout's umask."""
    what = what or str(folder)
    tree = Tree()
    budget = [limit, limit]  # the limit, and what is left of it
    try:
        with folder_fd(folder) as fd:
            _read_into(tree, fd, prefix, what, keep_modes, budget)
    except NotADirectoryError as exc:
        raise TreeError(f"{what}: not a folder") from exc
    except FileNotFoundError as exc:
        raise TreeError(f"{what}: not found") from exc
    return tree


def _read_into(tree: Tree, fd: int, prefix: str, what: str, keep_modes: bool, budget: list[int]) -> None:
    for name in sorted(os.listdir(fd)):
        path = f"{prefix}/{name}".lstrip("/")
        problem = path_problem(path)
        if problem:
            raise TreeError(f"{what}: {problem}")
        info = os.lstat(name, dir_fd=fd)
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISDIR(info.st_mode):
            tree.add_dir(path, mode if keep_modes else DEFAULT_DIR_MODE)
            with walk_to(fd, [name]) as child:
                _read_into(tree, child, path, what, keep_modes, budget)
        elif stat.S_ISLNK(info.st_mode):
            tree.add_symlink(path, os.readlink(name, dir_fd=fd))
        elif stat.S_ISREG(info.st_mode):
            if info.st_size > budget[1]:
                raise TreeError(f"{what}: holds more than {budget[0] >> 20} MiB of files (reached at {path})")
            try:
                data = read_regular(name, limit=budget[1], dir_fd=fd)
            except NotRegularFile as exc:
                raise TreeError(f"{what}: {path} {exc.strerror}") from exc
            budget[1] -= len(data)
            if not keep_modes:
                mode = 0o755 if mode & 0o100 else 0o644
            tree.add_file(path, data, mode)
        elif stat.S_ISFIFO(info.st_mode):
            tree.add(Entry(path, mode=mode, kind="fifo"))
        elif stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
            kind = "chardev" if stat.S_ISCHR(info.st_mode) else "blockdev"
            tree.add(Entry(path, mode=mode, kind=kind, rdev=(os.major(info.st_rdev), os.minor(info.st_rdev))))
        else:
            raise TreeError(f"{what}: {path} is a {file_kind(info.st_mode)}: it cannot go into an image")


def total_bytes(entries: Iterable[Entry]) -> int:
    return sum(len(e.data) for e in entries)
