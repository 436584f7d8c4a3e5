"""BusyBox per ISA: wall time for defconfig and minimal, size, applets, verification time,
and the overhead of musltool's build over the plain `make` it runs (same compiler, same .config).

Usage: python benchmarks/busybox_build.py [ISA,...] [config,...]
Needs the BusyBox tarballs reachable (MUSLTOOL_MIRRORS, e.g. file://.../shared/mirror).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musltool.build import BuildOptions, build
from musltool.busybox import BusyboxBuilder, source_tree
from musltool.isa import resolve_isas
from musltool.recipes import load_recipe
from musltool.toolchain import get_toolchain

DEBIAN_BUSYBOX_STATIC = (1_982_256, 269)  # busybox-static 1.35.0 amd64 (glibc): bytes, applets


def plain_make_seconds(recipe, isa, options, config: Path) -> float:
    """The same make invocation musltool runs, on the same .config, without musltool."""
    builder = BusyboxBuilder(recipe, isa, get_toolchain("zig", isa), options)
    _, src, _ = source_tree(recipe, None, ())
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        shutil.copyfile(config, out / ".config")
        env = builder.build_env()
        subprocess.run(builder.make_command(src, out, "oldconfig"), input="\n" * 5000, env=env,
                       capture_output=True, text=True, check=True)  # fmt: skip
        start = time.perf_counter()
        subprocess.run(builder.make_command(src, out, "busybox", jobs=os.cpu_count() or 1),
                       env=env, capture_output=True, check=True)  # fmt: skip
        return time.perf_counter() - start


def main() -> None:
    isas = resolve_isas(sys.argv[1] if len(sys.argv) > 1 else "all")
    configs = (sys.argv[2] if len(sys.argv) > 2 else "minimal,defconfig").split(",")
    recipe = load_recipe("busybox")
    print(f"{'isa':<8} {'config':<9} {'build s':>8} {'make s':>7} {'ratio':>6} {'verify s':>8} "
          f"{'bytes':>9} {'applets':>7} {'pass/fail/n-t':>13}")  # fmt: skip
    for config in configs:
        for isa in isas:
            with tempfile.TemporaryDirectory() as dist:
                options = BuildOptions(config=config, dist=Path(dist), force=True)
                start = time.perf_counter()
                result = build(recipe, isa, options)
                total = time.perf_counter() - start
                compile_s, verify_s = result.timings["compile"], result.timings["verify"]
                make_s = plain_make_seconds(
                    recipe, isa, options, Path(dist) / isa.name / "busybox.config"
                )
                results = result.report["verification"]["results"]
                counts = "/".join(
                    str(sum(r["status"] == s for r in results))
                    for s in ("passed", "failed", "not-testable")
                )
                print(f"{isa.name:<8} {config:<9} {compile_s:>8.1f} {make_s:>7.1f} {compile_s / make_s:>6.2f} "
                      f"{verify_s:>8.1f} {result.report['size']:>9} "
                      f"{result.report['details']['applet_count']:>7} {counts:>13}   (total {total:.1f}s)")  # fmt: skip
    size, applets = DEBIAN_BUSYBOX_STATIC
    print(f"reference: Debian busybox-static 1.35.0 amd64 (glibc): {size} bytes, {applets} applets")


if __name__ == "__main__":
    main()
