"""Firmware images from a file tree: a gzip'd newc cpio initramfs and an ext4 disk image.

Both are reproducible: entries in a fixed order, owned by root, dated SOURCE_DATE_EPOCH. The
cpio archive is written here (the format is a few fixed-width hex fields); the ext4 image is
made by e2fsprogs' `mke2fs -d`, without root and without a loop mount, with a fixed UUID, hash
seed and time. Both hold FIFOs and device nodes (the ext4 image gets its device nodes from
debugfs, so that no root is needed to stage them).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

from musltool.errors import BuildError
from musltool.filetree import DEVICE_KINDS, Entry, Tree, TreeError, write_tree
from musltool.hostparts import require_program
from musltool.owners import temp_prefix
from musltool.package import gzip_bytes
from musltool.process import run
from musltool.settings import source_date_epoch

CPIO_MAGIC = "070701"  # newc
# The fixed identity of every ext4 image: derived from a constant, so two builds agree.
EXT4_UUID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://musltool.invalid/ext4-image"))
EXT4_HASH_SEED = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://musltool.invalid/ext4-hash-seed"))


def _mode(entry: Entry) -> int:
    return entry.type_bits | (0o777 if entry.kind == "symlink" else entry.mode)


def cpio_newc(tree: Tree, mtime: int | None = None) -> bytes:
    """The tree as a newc cpio archive (what the kernel unpacks as an initramfs)."""
    stamp = source_date_epoch() if mtime is None else mtime
    out = bytearray()

    def add(name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0), ino: int = 0) -> None:
        encoded = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, stamp, len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0)
        out.extend((CPIO_MAGIC + "".join(f"{v:08X}" for v in fields)).encode() + encoded)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    for number, entry in enumerate(sorted(tree.check().entries, key=lambda e: e.path), start=1):
        data = entry.target.encode() if entry.kind == "symlink" else entry.data
        add(entry.path, _mode(entry), data if entry.kind in ("file", "symlink") else b"", entry.rdev, number)
    add("TRAILER!!!", 0)
    return bytes(out)


def initramfs(tree: Tree) -> bytes:
    """A gzip'd newc initramfs (no gzip timestamp or name)."""
    return gzip_bytes(cpio_newc(tree))


def ext4_image(tree: Tree, size_mb: int, label: str = "musltool") -> bytes:
    """An ext4 image holding the tree, made with `mke2fs -d` from a staging folder."""
    mke2fs = require_program("mke2fs")
    stamp = source_date_epoch()
    quoted = [e.path for e in tree.entries if '"' in e.path or "\\" in e.path]
    if quoted:
        raise TreeError(f"{quoted[0]!r}: a name with a double quote or a backslash cannot go into the ext4 image")
    with tempfile.TemporaryDirectory(prefix=temp_prefix("ext4")) as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        devices = _stage(tree, root, stamp)
        image = Path(tmp) / "disk.img"
        # e2fsprogs reads a fake time of 0 as "none" and stamps the superblock with the clock
        fake_time = str(max(stamp, 1))
        env = {**os.environ, "E2FSPROGS_FAKE_TIME": fake_time, "MKE2FS_DEVICE_SECTSIZE": "512"}
        options = f"root_owner=0:0,hash_seed={EXT4_HASH_SEED},lazy_itable_init=0,lazy_journal_init=0"
        run(
            [mke2fs, "-q", "-F", "-t", "ext4", "-b", "4096", "-L", label, "-U", EXT4_UUID,
             "-E", options, "-d", str(root), str(image), f"{size_mb}M"],
            env=env,
            error=BuildError,
            what="mke2fs -d",
        )  # fmt: skip
        _settle_change_times(tree, devices, image, fake_time, env)
        return image.read_bytes()


def _device_commands(entry: Entry, stamp: str) -> str:
    """debugfs makes a device node in its folder (mknod takes a plain name), then sets it."""
    folder, _, name = f"/{entry.path}".rpartition("/")
    kind = "c" if entry.kind == "chardev" else "b"
    path = f'"/{entry.path}"'
    return (f'cd "{folder or "/"}"\nmknod "{name}" {kind} {entry.rdev[0]} {entry.rdev[1]}\ncd /\n'
            f"sif {path} mode 0{_mode(entry):o}\nsif {path} mtime @{stamp}\nsif {path} atime @{stamp}\n")


def _settle_change_times(tree: Tree, devices: list[Entry], image: Path, stamp: str, env: dict[str, str]) -> None:
    """mke2fs -d copies each staged file's change time, which is when staging wrote it (no
    call can set it): debugfs sets every inode's to the fixed stamp afterwards. Device nodes,
    which staging needs no root for because it leaves them out, are made here."""
    debugfs = require_program("debugfs")
    commands = "".join(_device_commands(device, stamp) for device in devices)
    paths = ["/", *(f"/{e.path}" for e in tree.entries)]
    commands += "".join(f'set_inode_field "{path}" ctime @{stamp}\n' for path in paths)
    with tempfile.NamedTemporaryFile("w", prefix="musltool-debugfs-", suffix=".txt") as script:
        script.write(commands)
        script.flush()
        result = run([debugfs, "-w", "-f", script.name, str(image)], env=env, error=BuildError, what="debugfs")
    complaints = [line for line in result.stdout.splitlines()
                  if line.strip() and not line.startswith(("debugfs", "Allocated inode"))]
    if complaints:
        raise BuildError(f"debugfs could not settle the image's times: {complaints[0]}")


def _stage(tree: Tree, root: Path, stamp: int) -> list[Entry]:
    """Write the tree where mke2fs -d reads it: modes as given, every time SOURCE_DATE_EPOCH.
    (Owners come from -E root_owner and mke2fs copies uid/gid: staging runs as whoever runs
    musltool, so every inode is made root's below.) Device nodes are left out and returned:
    debugfs makes them in the image."""
    devices = write_tree(tree, root)
    for path in sorted(root.rglob("*"), reverse=True):
        os.utime(path, (stamp, stamp), follow_symlinks=False)
        if os.geteuid() == 0:
            os.lchown(path, 0, 0)
    os.utime(root, (stamp, stamp))
    assert all(d.kind in DEVICE_KINDS for d in devices)
    return devices

