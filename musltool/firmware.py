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

from musltool.busybox.rootfs import rootfs_tree, verified_busybox
from musltool.catalog import load_recipe
from musltool.dist import Dist
from musltool.errors import UsageError
from musltool.files import sha256_bytes
from musltool.filetree import Entry, Tree, read_folder
from musltool.images import ext4_image, initramfs
from musltool.isa import Isa
from musltool.kernels import Kernel
from musltool.recipes import require_file_name
from musltool.report import BuildReport

FIRMWARE_FILES = "firmware"  # in the BusyBox recipe folder
SHARE = "usr/share/musltool"  # where the suites go in the image
DISK_MB = 16  # the ext4 image holds the same tree
PRIVATE_FILES = {"etc/shadow": 0o600}
# What the image's inittab and rcS run to reach a login prompt, and what powers it off.
BOOT_APPLETS = ("init", "sh", "mount", "mkdir", "mdev", "hostname", "ifconfig", "echo", "getty", "login",
                "poweroff")  # fmt: skip


@dataclass(frozen=True)
class FirmwareImages:
    isa: Isa
    busybox: BuildReport
    initramfs: Path
    disk: Path
    sha256: dict[str, str]


def require_boot_applets(report: BuildReport) -> None:
    """A BusyBox without what the boot needs would wait for a login prompt that never comes."""
    missing = [a for a in BOOT_APPLETS if a not in report.details.get("applets", [])]
    if missing:
        raise UsageError(f"this BusyBox for {report.isa} cannot boot to a login prompt: it lacks "
                         f"{', '.join(missing)} (build it with them, e.g. the default config)")  # fmt: skip


def firmware_tree(dist: Dist, isa: Isa, add: list[str], overlay: Path | None, kernel: Kernel | None) -> tuple[Tree, BuildReport]:
    report, busybox = verified_busybox(dist, isa)
    require_boot_applets(report)
    tree, _ = rootfs_tree(busybox, report.details["install_paths"])
    tree = tree.without("etc/inittab")
    recipe = load_recipe("busybox")
    assert recipe.folder is not None
    tree.overlay(_recipe_files(recipe.folder / FIRMWARE_FILES, ""), "the recipe's firmware files")
    tree.add_symlink("init", "bin/busybox")
    tree.add_chardev("dev/console", 5, 1)  # before devtmpfs is mounted, init's stdio is here
    tree.add_dir("usr/share")
    tree.add_dir(SHARE)
    tree.add_file(f"{SHARE}/boot-suite.sh", (recipe.folder / "boot-suite.sh").read_bytes())
    tree.add_file(f"{SHARE}/suite.sh", (recipe.folder / "suite.sh").read_bytes())
    tree.overlay(_recipe_files(recipe.folder / "suite-data", f"{SHARE}/suite-data"), "the suite's data")
    for name in add:
        _add_binary(tree, dist, isa, name)
    if overlay is not None:
        tree.overlay(read_folder(overlay, what=f"--overlay {overlay}"), f"--overlay {overlay}")
    if kernel is not None and kernel.modules is not None:
        for module in kernel.module_names:
            tree.add_file(f"lib/modules/{module}", (kernel.modules / module).read_bytes())
    return tree.with_parents().check(), report


def _recipe_files(folder: Path, prefix: str) -> Tree:
    """Files of the recipe folder, modes by their execute bit (a checkout's umask does not
    change the image); etc/shadow is root's alone."""
    tree = read_folder(folder, prefix, keep_modes=False)
    if prefix:
        tree.add_dir(prefix)
    for path, mode in PRIVATE_FILES.items():
        entry = tree.get(path)
        if entry is not None:
            tree.entries[tree.entries.index(entry)] = Entry(entry.path, entry.data, mode)
    return tree


def _add_binary(tree: Tree, dist: Dist, isa: Isa, name: str) -> None:
    require_file_name(name, "--add")
    report = dist.verified_report(isa, name)
    binary = dist.read(f"{isa.name}/{report.binary}")
    assert binary is not None
    tree.add_file(f"usr/bin/{report.binary}", binary, 0o755)


def image_names(report: BuildReport) -> tuple[str, str]:
    stem = f"busybox-{report.version}-{report.isa}"
    return f"{stem}.cpio.gz", f"{stem}.ext4"


def build_images(dist_folder: Path, isa: Isa, add: list[str], overlay: Path | None, kernel: Kernel | None) -> FirmwareImages:
    """The initramfs and the ext4 image in dist/<isa>/, from the same tree."""
    dist = Dist(dist_folder)
    tree, report = firmware_tree(dist, isa, add, overlay, kernel)
    ramfs, disk = initramfs(tree), ext4_image(tree.without("dev/console"), DISK_MB)
    ramfs_name, disk_name = image_names(report)
    dist.install({f"{isa.name}/{ramfs_name}": (ramfs, 0o644), f"{isa.name}/{disk_name}": (disk, 0o644)})
    sums = {ramfs_name: sha256_bytes(ramfs), disk_name: sha256_bytes(disk)}
    return FirmwareImages(isa, report, dist.path(f"{isa.name}/{ramfs_name}"), dist.path(f"{isa.name}/{disk_name}"), sums)
