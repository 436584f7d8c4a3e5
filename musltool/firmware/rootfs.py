"""Root filesystems of the system build (BusyBox) as a reproducible tar (musltool.images makes
container images of them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from musltool.dist import Dist
from musltool.errors import UsageError
from musltool.filetree import Tree, tar_bytes
from musltool.firmware.tree import system_build
from musltool.isa import Isa

# docker replaces /etc/hostname and /etc/hosts in containers; /etc/passwd stays ours.
IMAGE_CHECK = "echo ok; ls /bin | grep -c . ; grep -q '^root:x:0:0:' /etc/passwd && echo etc-ok"
IMAGE_CHECK_NEEDS = ("sh", "echo", "ls", "grep")  # what IMAGE_CHECK runs
IMAGE_CHECK_WORDS = ("ok", "etc-ok")  # what IMAGE_CHECK prints when the image works


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


def require_image_applets(rootfs: Rootfs) -> None:
    missing = [a for a in IMAGE_CHECK_NEEDS if a not in rootfs.applet_names]
    if missing:
        raise UsageError(
            f"an image is checked by running {', '.join(IMAGE_CHECK_NEEDS)} in it; this BusyBox "
            f"for {rootfs.isa.name} lacks {', '.join(missing)}: build it with them (or a --config "
            "that has them)"
        )
