"""BusyBox's root filesystem: the binary, a link per applet, a minimal /etc."""

from __future__ import annotations

from musltool.filetree import Tree

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
