"""Library recipes and their dependent, per ISA: build and verification seconds (verification
includes each library's own upstream tests) and the sizes of what each ships.

Each recipe is built in dependency order into a fresh dist folder, so every one is built and
verified (objects may come from zig's cache when it is warm: the build folders are stable).

Usage: python benchmarks/libraries.py [ISA,...|all] [--recipe libarchive]
Needs the source tarballs reachable (MUSLTOOL_MIRRORS, e.g. file://.../shared/mirror).
Prints a markdown table; numbers, not assertions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musltool.build import prepare, run_build
from musltool.catalog import load_recipe
from musltool.dependencies import dependency_order
from musltool.fetch import fetch_options
from musltool.isa import resolve_isas
from musltool.kinds.base import BuildOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("isas", nargs="?", default="all")
    parser.add_argument("--recipe", default="libarchive")
    args = parser.parse_args()
    top = load_recipe(args.recipe)
    recipes = [*dependency_order(top, load_recipe), top]
    print("| isa | recipe | build s | verify s | shipped (bytes) |")
    print("|---|---|---|---|---|")
    for isa in resolve_isas(args.isas):
        with tempfile.TemporaryDirectory(prefix="musltool-bench-") as dist:
            options = BuildOptions(dist=Path(dist), fetch=fetch_options())
            total = time.perf_counter()
            for recipe in recipes:
                result = run_build(prepare(recipe, isa, options))
                report = result.report
                sizes = ", ".join(f"{name} {size:,}" for name, size in shipped(Path(dist) / isa.name, report))
                print(f"| {isa.name} | {recipe.name} | {result.timings['compile']:.1f} | "
                      f"{result.timings['verify']:.1f} | {sizes} |", flush=True)  # fmt: skip
            print(f"| {isa.name} | all | {time.perf_counter() - total:.1f} (total) | | |", flush=True)


def shipped(folder: Path, report) -> list[tuple[str, int]]:
    names = [report.binary, *report.programs]
    return [(name, (folder / name).stat().st_size) for name in names]


if __name__ == "__main__":
    main()
