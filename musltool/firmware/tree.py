"""Firmware images from the verified system build (BusyBox): the file tree, an initramfs and an
ext4 disk.

The tree is the system kind's root filesystem with its init as process 1 (/init and
/sbin/init), the kind's system files (inittab, rcS, a console login, the boot suite and the
applet suite with its data), any other verified binaries the user adds (`--add hello`), an
overlay folder of the user's own (laid over last; see musltool.filetree), and the kernel's
modules when musltool provides the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from musltool.catalog import load_recipe
from musltool.dist import Dist
from musltool.errors import UsageError
from musltool.files import sha256_bytes
from musltool.filetree import Tree, read_folder
from musltool.firmware.images import ext4_image, initramfs
from musltool.firmware.kernels import Kernel
from musltool.isa import Isa
from musltool.kinds import builder_class
from musltool.kinds.base import Builder
from musltool.recipes import require_file_name
from musltool.report import BuildReport

SYSTEM_RECIPE = "busybox"  # the recipe whose builds are the system firmware boots
SHARE = "usr/share/musltool"  # where the suites go in the image
DISK_MB = 16  # the smallest ext4 image; it holds the same tree, so it grows with it
MIB = 1024 * 1024


def disk_mb(tree: Tree) -> int:
    """The ext4 image's size for `tree`, from the tree alone (so two builds agree): its data,
    a 4 KiB block more per entry (partial blocks, inodes, folders), a quarter more, and 8 MiB
    for the journal and the rest of ext4's own, rounded up to 8 MiB. (riscv64's kernel
    modules alone take 16 MiB.)"""
    data = sum(len(e.data) for e in tree.entries if e.kind == "file")
    need = (data + 4096 * len(tree.entries)) * 5 // 4 + 8 * MIB
    return max(DISK_MB, -(-need // (8 * MIB)) * 8)


@dataclass(frozen=True)
class FirmwareImages:
    isa: Isa
    busybox: BuildReport
    initramfs: Path
    disk: Path
    sha256: dict[str, str]


def system_kind() -> type[Builder]:
    return builder_class(load_recipe(SYSTEM_RECIPE))


def system_build(dist: Dist, isa: Isa) -> tuple[type[Builder], BuildReport, bytes]:
    """The system kind, and the verified system build in dist: its report and its binary."""
    report = dist.verified_report(isa, SYSTEM_RECIPE)
    binary = dist.read(f"{isa.name}/{report.binary}")
    assert binary is not None  # verified_report read it
    return system_kind(), report, binary


def require_boot_parts(kind: type[Builder], report: BuildReport) -> None:
    """A system without what the boot needs would wait for a login prompt that never comes."""
    missing = [a for a in kind.boot_needs if a not in report.details.get("applets", [])]
    if missing:
        raise UsageError(f"this BusyBox for {report.isa} cannot boot to a login prompt: it lacks "
                         f"{', '.join(missing)} (build it with them, e.g. the default config)")  # fmt: skip


def firmware_tree(dist: Dist, isa: Isa, add: list[str], overlay: Path | None, kernel: Kernel | None) -> tuple[Tree, BuildReport]:
    kind, report, binary = system_build(dist, isa)
    require_boot_parts(kind, report)
    tree = kind.root_tree(report, binary).without("etc/inittab")
    tree.overlay(kind.system_files(load_recipe(SYSTEM_RECIPE), SHARE), "the system's own files")
    tree.add_symlink("init", f"bin/{report.binary}")
    tree.add_chardev("dev/console", 5, 1)  # before devtmpfs is mounted, init's stdio is here
    for name in add:
        _add_binary(tree, dist, isa, name)
    if overlay is not None:
        tree.overlay(read_folder(overlay, what=f"--overlay {overlay}"), f"--overlay {overlay}")
    if kernel is not None and kernel.modules is not None:
        for module in kernel.module_names:
            tree.add_file(f"lib/modules/{module}", (kernel.modules / module).read_bytes())
    return tree.with_parents().check(), report


def _add_binary(tree: Tree, dist: Dist, isa: Isa, name: str) -> None:
    require_file_name(name, "--add")
    report = dist.verified_report(isa, name)
    binary = dist.read(f"{isa.name}/{report.binary}")
    assert binary is not None
    tree.add_file(f"usr/bin/{report.binary}", binary, 0o755)


def image_names(report: BuildReport) -> tuple[str, str]:
    stem = f"{report.recipe}-{report.version}-{report.isa}"
    return f"{stem}.cpio.gz", f"{stem}.ext4"


def build_images(dist_folder: Path, isa: Isa, add: list[str], overlay: Path | None, kernel: Kernel | None) -> FirmwareImages:
    """The initramfs and the ext4 image in dist/<isa>/, from the same tree."""
    dist = Dist(dist_folder)
    tree, report = firmware_tree(dist, isa, add, overlay, kernel)
    ramfs, disk = initramfs(tree), ext4_image(tree.without("dev/console"), disk_mb(tree))
    ramfs_name, disk_name = image_names(report)
    dist.install({f"{isa.name}/{ramfs_name}": (ramfs, 0o644), f"{isa.name}/{disk_name}": (disk, 0o644)})
    sums = {ramfs_name: sha256_bytes(ramfs), disk_name: sha256_bytes(disk)}
    return FirmwareImages(isa, report, dist.path(f"{isa.name}/{ramfs_name}"), dist.path(f"{isa.name}/{disk_name}"), sums)
