"""Boots to a login prompt on a busy host: how many hang, per TCG threading mode.

A CI host runs builds and emulated suites beside a boot; qemu-system's virtual CPUs then wait
for host time. This boots an ISA's firmware images (as `invoke boot` made them in --dist)
again and again, with N busy loops beside it, and counts the boots that show no login prompt
within the limit. It is the measurement behind the ISA table's `boot_tcg_thread`.

Usage: python benchmarks/boot_under_load.py [--arch riscv64] [--dist dist] [--runs 20]
           [--load 10] [--thread table|multi|single] [--limit 150]
Needs `invoke boot --arch ISA --dist DIST` run first (the images and the kernel in the cache).
Prints one line per mode; numbers, not assertions. A hung boot's transcript goes to the
working folder as boot-hang-<isa>-<mode>-<n>.txt.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musltool.dist import Dist
from musltool.firmware.boot import LOGIN_PROMPT, Console, qemu_command
from musltool.firmware.kernels import fetch_kernel
from musltool.firmware.tree import image_names, system_build
from musltool.isa import Isa, resolve_isas


def _spin() -> None:
    while True:
        pass


def boot_once(isa: Isa, kernel: Path, initramfs: Path, disk: Path, limit: float) -> tuple[bool, float, str]:
    started = time.monotonic()
    with Console(qemu_command(isa, kernel, initramfs, disk)) as console:
        up = console.wait_for(LOGIN_PROMPT, limit)
        return up, time.monotonic() - started, console.text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="riscv64")
    parser.add_argument("--dist", default="dist")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--load", type=int, default=10, help="busy loops beside each boot")
    parser.add_argument("--thread", default="table", choices=("table", "multi", "single", "both"))
    parser.add_argument("--limit", type=float, default=150.0, help="seconds to a login prompt")
    args = parser.parse_args()

    (isa,) = resolve_isas(args.arch)
    _, report, _ = system_build(Dist(Path(args.dist)), isa)
    initramfs, disk = (Path(args.dist) / isa.name / name for name in image_names(report))
    kernel = fetch_kernel(isa).path
    modes = {"table": [isa.boot_tcg_thread], "both": ["multi", "single"]}.get(args.thread, [args.thread])

    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.load)]
    for spinner in spinners:
        spinner.start()
    try:
        for mode in modes:
            threaded = dataclasses.replace(isa, boot_tcg_thread=mode)
            times, hung = [], 0
            for run in range(args.runs):
                up, seconds, transcript = boot_once(threaded, kernel, initramfs, disk, args.limit)
                if up:
                    times.append(seconds)
                else:
                    hung += 1
                    Path(f"boot-hang-{isa.name}-{mode}-{run}.txt").write_text(transcript)
            median = f"{statistics.median(times):.1f} s" if times else "-"
            print(f"{isa.name} tcg thread={mode}, {args.load} busy loops: {hung} of {args.runs} "
                  f"boots hung (no login prompt in {args.limit:.0f} s); median to login {median}",
                  flush=True)  # fmt: skip
    finally:
        for spinner in spinners:
            spinner.kill()


if __name__ == "__main__":
    main()
