"""How many libcs zig compiled into musltool's cache, per machine, and of which kind.

zig compiles musl (with compiler-rt) at link time, once per target, CPU and the link line's
runtime flags (optimization, -g, unwind tables, frame pointers), 75-110 s of two cores each.
One per ISA row is the goal: every link of a row should ask for the same one. Run after a test
run or builds:

    python benchmarks/zig_libcs.py [--cache ~/.cache/musltool-ci]

Prints one line per libc (machine, size, unwind tables, debug info) and a count per machine;
numbers, not assertions.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musltool.cache import cache_dir
from musltool.toolchain.zigexe import compiled_libcs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=None, help="musltool's cache (default: MUSLTOOL_CACHE)")
    args = parser.parse_args()
    libcs = compiled_libcs((args.cache or cache_dir()) / "zig-cache")
    for libc in libcs:
        kind = ("unwind tables" if libc.unwind_tables else "no unwind tables") + ", " + (
            "debug info" if libc.debug_info else "no debug info"
        )
        print(f"{libc.machine:<14} {libc.path.stat().st_size:>9} bytes  {kind:<36} {libc.path.parent.name}")
    per_machine = collections.Counter(libc.machine for libc in libcs)
    print(f"libcs: {len(libcs)}")
    for machine, count in sorted(per_machine.items()):
        print(f"  {machine:<14} {count}")


if __name__ == "__main__":
    main()
