"""The ext4 image grows with what it holds (riscv64's modules outgrew a fixed 16 MiB)."""

from __future__ import annotations

from musltool.filetree import Tree
from musltool.firmware.tree import DISK_MB, MIB, disk_mb


def tree_of(*sizes: int) -> Tree:
    tree = Tree()
    for number, size in enumerate(sizes):
        tree.add_file(f"lib/f{number}", b"\0" * size)
    return tree


def test_a_small_tree_gets_the_smallest_image() -> None:
    assert disk_mb(tree_of(1024, 2 * MIB)) == DISK_MB


def test_a_large_tree_gets_room_for_its_data_and_ext4s_own() -> None:
    size = disk_mb(tree_of(*[MIB] * 20))
    assert size % 8 == 0 and size >= 20 * 5 // 4 + 8
    assert disk_mb(tree_of(*[MIB] * 40)) > size
