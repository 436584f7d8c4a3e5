"""Root filesystems of the system build (BusyBox) as a reproducible tar, and local docker
images of them, checked by running a shell script in each under qemu. No registry is touched."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from musltool.dist import Dist
from musltool.docker import PRODUCT_LABEL, image_size, load_image, run_once
from musltool.errors import UsageError, VerificationError
from musltool.filetree import Tree, tar_bytes
from musltool.firmware.tree import system_build
from musltool.isa import Isa
from musltool.runners import DockerRunner

# docker replaces /etc/hostname and /etc/hosts in containers; /etc/passwd stays ours.
IMAGE_CHECK = "echo ok; ls /bin | grep -c . ; grep -q '^root:x:0:0:' /etc/passwd && echo etc-ok"
IMAGE_CHECK_NEEDS = ("sh", "echo", "ls", "grep")  # what IMAGE_CHECK runs


@dataclass(frozen=True)
class Rootfs:
    isa: Isa
    version: str
    path: Path
    applets: int
    tree: Tree = field(repr=False, compare=False)
    applet_names: tuple[str, ...] = ()


def build_rootfs(dist_folder: Path, isa: Isa) -> Rootfs:
    dist = Dist(dist_folder)
    kind, report, binary = system_build(dist, isa)
    tree = kind.root_tree(report, binary)
    out = dist.write(f"{isa.name}/busybox-rootfs-{report.version}-{isa.name}.tar", tar_bytes(tree))
    links = sum(1 for e in tree.entries if e.kind == "symlink")
    return Rootfs(isa, report.version, out, links, tree, tuple(report.details["applets"]))


def image_tag(rootfs: Rootfs) -> str:
    return f"musltool/busybox:{rootfs.version}-{rootfs.isa.name}"


def make_image(rootfs: Rootfs) -> tuple[str, int]:
    """A local image of the root filesystem (no registry), checked by running sh in it."""
    tag = image_tag(rootfs)
    require_image_applets(rootfs)
    DockerRunner().check_ready(rootfs.isa)
    load_image(rootfs.tree, rootfs.isa, tag, ["/bin/sh"], {PRODUCT_LABEL: rootfs.version})
    return tag, image_size(tag)


def require_image_applets(rootfs: Rootfs) -> None:
    missing = [a for a in IMAGE_CHECK_NEEDS if a not in rootfs.applet_names]
    if missing:
        raise UsageError(
            f"an image is checked by running {', '.join(IMAGE_CHECK_NEEDS)} in it; this BusyBox "
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
