"""Firmware images from a verified BusyBox build: the file tree, an initramfs, an ext4 disk.

The tree is BusyBox's root filesystem (musltool.busybox.rootfs) with BusyBox init as process 1
(/init and /sbin/init), the recipe's firmware files (inittab, rcS, a console login), the boot
suite and the applet suite with its data, any other verified binaries the user adds
(`--add hello`), an overlay folder of the user's own, and the kernel's modules when musltool
provides the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from musltool.busybox.rootfs import rootfs_tree
from musltool.catalog import load_recipe
from musltool.container import Tree
from musltool.errors import UsageError
from musltool.images import ext4_image, initramfs
from musltool.isa import Isa
from musltool.kernels import Kernel
from musltool.package import verified_report
from musltool.recipes import require_file_name
from musltool.report import BuildReport
from musltool.util import atomic_write_bytes, sha256_bytes

FIRMWARE_FILES = "firmware"  # in the BusyBox recipe folder
SHARE = "usr/share/musltool"  # where the suites go in the image
DISK_MB = 16  # the ext4 image holds the same tree
PRIVATE_FILES = {"etc/shadow": 0o600}


@dataclass(frozen=True)
class FirmwareImages:
    isa: Isa
    busybox: BuildReport
    initramfs: Path
    disk: Path
    sha256: dict[str, str]


def firmware_tree(dist: Path, isa: Isa, add: list[str], overlay: Path | None, kernel: Kernel | None) -> tuple[Tree, BuildReport]:
    report = verified_report(dist, isa, "busybox")
    busybox = (dist / isa.name / "busybox").read_bytes()
    tree, _ = rootfs_tree(busybox, report.details["install_paths"])
    tree = tree.without("etc/inittab")
    recipe = load_recipe("busybox")
    assert recipe.folder is not None
    _add_folder(tree, recipe.folder / FIRMWARE_FILES, "")
    tree.add_symlink("init", "bin/busybox")
    tree.add_chardev("dev/console", 5, 1)  # before devtmpfs is mounted, init's stdio is here
    tree.add_dir("usr/share")
    tree.add_dir(SHARE)
    tree.add_file(f"{SHARE}/boot-suite.sh", (recipe.folder / "boot-suite.sh").read_bytes())
    tree.add_file(f"{SHARE}/suite.sh", (recipe.folder / "suite.sh").read_bytes())
    _add_folder(tree, recipe.folder / "suite-data", f"{SHARE}/suite-data")
    for name in add:
        _add_binary(tree, dist, isa, name)
    if overlay is not None:
        if not overlay.is_dir():
            raise UsageError(f"--overlay {overlay}: not a folder")
        _add_folder(tree, overlay, "", replace=True)
    if kernel is not None and kernel.modules is not None:
        for module in kernel.module_names:
            tree.add_file(f"lib/modules/{module}", (kernel.modules / module).read_bytes())
    return _with_parents(tree), report


def _add_folder(tree: Tree, folder: Path, prefix: str, replace: bool = False) -> None:
    """Every file and folder below `folder` at `prefix` in the tree (modes: executable or not)."""
    if prefix:
        tree.add_dir(prefix)
    for path in sorted(folder.rglob("*")):
        name = f"{prefix}/{path.relative_to(folder)}".lstrip("/")
        if replace:
            tree.entries = [e for e in tree.entries if e.path != name]
        if path.is_symlink():
            tree.add_symlink(name, str(path.readlink()))
        elif path.is_dir():
            if not any(e.path == name for e in tree.entries):
                tree.add_dir(name)
        else:
            mode = PRIVATE_FILES.get(name, 0o755 if path.stat().st_mode & 0o111 else 0o644)
            tree.add_file(name, path.read_bytes(), mode)


def _add_binary(tree: Tree, dist: Path, isa: Isa, name: str) -> None:
    require_file_name(name, "--add")
    report = verified_report(dist, isa, name)
    tree.add_file(f"usr/bin/{report.binary}", (dist / isa.name / report.binary).read_bytes(), 0o755)


def _with_parents(tree: Tree) -> Tree:
    """Every folder an entry lives in is an entry too (a cpio archive needs them listed)."""
    have = {e.path for e in tree.entries}
    for entry in list(tree.entries):
        parts = entry.path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in have:
                tree.add_dir(folder)
                have.add(folder)
    return tree


def image_names(report: BuildReport) -> tuple[str, str]:
    stem = f"busybox-{report.version}-{report.isa}"
    return f"{stem}.cpio.gz", f"{stem}.ext4"


def build_images(dist: Path, isa: Isa, add: list[str], overlay: Path | None, kernel: Kernel | None) -> FirmwareImages:
    """The initramfs and the ext4 image in dist/<isa>/, from the same tree."""
    tree, report = firmware_tree(dist, isa, add, overlay, kernel)
    ramfs, disk = initramfs(tree), ext4_image(tree.without("dev/console"), DISK_MB)
    ramfs_name, disk_name = image_names(report)
    folder = dist / isa.name
    atomic_write_bytes(folder / ramfs_name, ramfs)
    atomic_write_bytes(folder / disk_name, disk)
    sums = {ramfs_name: sha256_bytes(ramfs), disk_name: sha256_bytes(disk)}
    return FirmwareImages(isa, report, folder / ramfs_name, folder / disk_name, sums)
