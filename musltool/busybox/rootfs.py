"""A minimal root filesystem from a verified BusyBox build, and local docker images of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from musltool.dist import Dist
from musltool.docker import PRODUCT_LABEL, image_size, load_image, run_once
from musltool.errors import UsageError, VerificationError
from musltool.filetree import Tree, tar_bytes
from musltool.isa import Isa
from musltool.runners import DockerRunner

PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"
HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
INITTAB = """\
::sysinit:/bin/mount -t proc proc /proc
::sysinit:/bin/mount -t sysfs sysfs /sys
::sysinit:/bin/mount -t devtmpfs devtmpfs /dev
::sysinit:/bin/hostname -F /etc/hostname
::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/umount -a -r
"""
# docker replaces /etc/hostname and /etc/hosts in containers; /etc/passwd stays ours.
IMAGE_CHECK = "echo ok; ls /bin | grep -c . ; grep -q '^root:x:0:0:' /etc/passwd && echo etc-ok"


@dataclass(frozen=True)
class Rootfs:
    isa: Isa
    version: str
    path: Path
    applets: int
    tree: Tree = field(repr=False, compare=False)
    applet_names: tuple[str, ...] = ()


def link_target(path: str) -> str:
    """The relative link from an applet path to bin/busybox."""
    if path.count("/") == 1 and path.startswith("bin/"):
        return "busybox"
    return "../" * path.count("/") + "bin/busybox"


def rootfs_tree(busybox: bytes, install_paths: list[str]) -> tuple[Tree, int]:
    tree = Tree()
    for folder in (
        "bin",
        "sbin",
        "usr",
        "usr/bin",
        "usr/sbin",
        "etc",
        "proc",
        "sys",
        "dev",
        "var",
        "run",
    ):
        tree.add_dir(folder)
    tree.add_dir("tmp", 0o1777)
    tree.add_dir("root", 0o700)
    tree.add_file("bin/busybox", busybox, 0o755)
    paths = [p for p in install_paths if p != "bin/busybox"]
    for path in paths:
        tree.add_symlink(path, link_target(path))
    for name, text in (
        ("etc/passwd", PASSWD),
        ("etc/group", GROUP),
        ("etc/hosts", HOSTS),
        ("etc/inittab", INITTAB),
        ("etc/hostname", "musltool\n"),
    ):
        tree.add_file(name, text.encode())
    return tree, len(paths)


def verified_busybox(dist: Dist, isa: Isa):
    """The verified BusyBox build in dist (its report and binary)."""
    report = dist.verified_report(isa, "busybox")
    binary = dist.read(f"{isa.name}/busybox")
    assert binary is not None  # verified_report read it
    return report, binary


def build_rootfs(dist_folder: Path, isa: Isa) -> Rootfs:
    dist = Dist(dist_folder)
    report, binary = verified_busybox(dist, isa)
    tree, count = rootfs_tree(binary, report.details["install_paths"])
    out = dist.write(f"{isa.name}/busybox-rootfs-{report.version}-{isa.name}.tar", tar_bytes(tree))
    return Rootfs(isa, report.version, out, count, tree, tuple(report.details["applets"]))


def image_tag(rootfs: Rootfs) -> str:
    return f"musltool/busybox:{rootfs.version}-{rootfs.isa.name}"


def make_image(rootfs: Rootfs) -> tuple[str, int]:
    """A local image of the root filesystem (no registry), checked by running sh in it."""
    tag = image_tag(rootfs)
    require_image_applets(rootfs)
    DockerRunner().check_ready(rootfs.isa)
    load_image(rootfs.tree, rootfs.isa, tag, ["/bin/sh"], {PRODUCT_LABEL: rootfs.version})
    return tag, image_size(tag)


# What the image's own check runs (IMAGE_CHECK).
IMAGE_CHECK_APPLETS = ("sh", "echo", "ls", "grep")


def require_image_applets(rootfs: Rootfs) -> None:
    missing = [a for a in IMAGE_CHECK_APPLETS if a not in rootfs.applet_names]
    if missing:
        raise UsageError(
            f"an image is checked by running {', '.join(IMAGE_CHECK_APPLETS)} in it; this BusyBox "
            f"for {rootfs.isa.name} lacks {', '.join(missing)}: build it with them (or a --config "
            "that has them)"
        )


def check_image(tag: str, isa: Isa) -> list[str]:
    """Run a shell script in the image under qemu (no network); the lines it printed."""
    result = run_once(tag, isa, ["-c", IMAGE_CHECK], entrypoint="/bin/sh")
    lines = result.stdout.decode(errors="replace").split()
    if result.returncode != 0 or lines[:1] != ["ok"] or "etc-ok" not in lines:
        raise VerificationError(
            f"image {tag} did not run its shell check: exit {result.returncode} "
            f"{result.stderr.decode(errors='replace').strip()}"
        )
    return lines
