"""Build speed per ISA: musltool against the floor a bare tool reaches with the same compiler.

  1. one compile on a cache hit: musltool's `<triple>-gcc` driver vs `zig cc` called directly
     (median of paired runs);
  2. BusyBox defconfig from an empty cache: musltool's build (configure + make, no
     verification) vs `make` on the same tree and .config with CC = `zig cc -target ...` behind
     a tiny shell filter (the only filtering BusyBox needs), its own empty zig cache;
  3. BusyBox minimal: cold build, forced rebuild on a warm cache, an applet change on a warm
     cache, each as a share of the cold build;
  4. verification time per build.

Usage: python benchmarks/build_speed.py [ISA,...|all] [--no-defconfig]
Needs the BusyBox tarball reachable (MUSLTOOL_MIRRORS, e.g. file://.../shared/mirror).
Prints a markdown table; numbers, not assertions.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musltool.build import build, prepare
from musltool.catalog import load_recipe
from musltool.fetch import fetch_options
from musltool.isa import Isa, resolve_isas
from musltool.kinds.base import BuildOptions
from musltool.kinds.busybox.kind import source_tree
from musltool.toolchain.zigexe import zig_executable

# The bare baseline's compiler: zig cc for the target, minus the linker flags lld rejects.
BARE_CC = """#!/bin/sh
zcc() {{
    for a; do
        shift
        case "$a" in
        -Wl,--warn-common|-Wl,--sort-common|-Wl,--sort-section,*|-Wl,-Map,*|-Wl,--verbose) ;;
        *) set -- "$@" "$a" ;;
        esac
    done
    exec {zig} cc -target {target} -mcpu={cpu} "$@"
}}
zcc "$@"
"""
PAIRED_RUNS = 21


def seconds(cmd: list[str], **kw) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kw)
    return time.perf_counter() - start


def driver_vs_zig(isa: Isa, cache: Path) -> tuple[float, float]:
    """Median ms of one cached compile through musltool's driver and through zig cc."""
    from musltool.toolchain import get_toolchain

    gcc = str(get_toolchain("zig", isa).tool("gcc"))
    env = {**os.environ, "ZIG_GLOBAL_CACHE_DIR": str(cache / "zig-cache"),
           "ZIG_LOCAL_CACHE_DIR": str(cache / "zig-cache")}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "one.c"
        source.write_text("int one(void) { return 1; }\n")
        wrapped = [gcc, "-Os", "-c", str(source), "-o", f"{tmp}/a.o"]
        direct = [zig_executable(), "cc", "-target", isa.zig_target, f"-mcpu={isa.zig_cpu}",
                  "-Os", "-c", str(source), "-o", f"{tmp}/b.o"]  # fmt: skip
        seconds(wrapped, env=env)  # fill zig's cache for both forms
        seconds(direct, env=env)
        pairs = [(seconds(wrapped, env=env), seconds(direct, env=env)) for _ in range(PAIRED_RUNS)]
    return statistics.median(p[0] for p in pairs) * 1000, statistics.median(p[1] for p in pairs) * 1000


def bare_make_seconds(isa: Isa, config: Path, mirrors: list[str]) -> float:
    """`make busybox` (after oldconfig on musltool's .config) with a bare zig cc, cold."""
    recipe = load_recipe("busybox")
    builder = prepare(recipe, isa, BuildOptions(fetch=fetch_options(mirrors)))
    src = source_tree(recipe, builder.version, builder.source, builder.options.fetch)
    with tempfile.TemporaryDirectory() as tmp:
        out, bin_dir, cache = Path(tmp) / "out", Path(tmp) / "bin", Path(tmp) / "zig-cache"
        out.mkdir()
        bin_dir.mkdir()
        cc = bin_dir / "zcc"
        cc.write_text(BARE_CC.format(zig=zig_executable(), target=isa.zig_target, cpu=isa.zig_cpu))
        cc.chmod(0o755)
        shutil.copyfile(config, out / ".config")
        env = {**os.environ, "ZIG_GLOBAL_CACHE_DIR": str(cache), "ZIG_LOCAL_CACHE_DIR": str(cache),
               "KCONFIG_NOTIMESTAMP": "1", "SOURCE_DATE_EPOCH": "0", "LC_ALL": "C"}  # fmt: skip
        make = ["make", "-C", str(src), f"O={out}", f"ARCH={isa.kbuild_arch}", "HOSTCC=gcc",
                f"CC={cc}", f"LD={cc} -nostdlib", f"AR={zig_executable()} ar", "SKIP_STRIP=y"]  # fmt: skip
        start = time.perf_counter()
        subprocess.run([*make, "oldconfig"], input="\n" * 5000, text=True, env=env,
                       check=True, capture_output=True)  # fmt: skip
        subprocess.run([*make, f"-j{os.cpu_count()}", "busybox"], env=env, check=True, capture_output=True)
        return time.perf_counter() - start


def timed_build(isa: Isa, dist: Path, mirrors: list[str], force: bool = False, **kind) -> tuple[float, float]:
    options = BuildOptions(dist=dist, force=force, fetch=fetch_options(mirrors), kind_options=kind)
    result = build(load_recipe("busybox"), isa, options)
    return result.timings["compile"], result.timings["verify"]


def hello_seconds(isa: Isa, dist: Path, mirrors: list[str]) -> float:
    start = time.perf_counter()
    build(load_recipe("hello"), isa, BuildOptions(dist=dist, fetch=fetch_options(mirrors)))
    return time.perf_counter() - start


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    isas = resolve_isas(args[0] if args else "all")
    with_defconfig = "--no-defconfig" not in sys.argv
    mirrors = [m for m in os.environ.get("MUSLTOOL_MIRRORS", "").split() if m]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    rows = []
    for isa in isas:
        row: dict[str, str] = {"isa": isa.name}
        with tempfile.TemporaryDirectory() as tmp:
            dist = Path(tmp) / "dist"
            # An empty cache: the first build pays for musltool's driver and zig's libc.
            os.environ["MUSLTOOL_CACHE"] = str(Path(tmp) / "cache-a")
            row["first hello s"] = f"{hello_seconds(isa, dist / 'hello', mirrors):.1f}"
            wrapper_ms, zig_ms = driver_vs_zig(isa, Path(tmp) / "cache-a")
            row["driver ms"] = f"{wrapper_ms:.1f}"
            row["zig cc ms"] = f"{zig_ms:.1f}"
            row["driver/zig"] = f"{wrapper_ms / zig_ms:.2f}"
            # BusyBox minimal: libc is cached, BusyBox's objects are not.
            cold, verify = timed_build(isa, dist / "minimal", mirrors, config="minimal")
            forced, _ = timed_build(isa, dist / "minimal", mirrors, force=True, config="minimal")
            switched, _ = timed_build(isa, dist / "applets", mirrors, applets=("sh", "ls", "cat", "grep", "sed"))
            back, _ = timed_build(isa, dist / "minimal", mirrors, force=True, config="minimal")
            row["minimal cold s"] = f"{cold:.1f}"
            row["forced warm"] = f"{forced / cold:.0%}"
            row["applet switch"] = f"{switched / cold:.0%}"
            row["switch back"] = f"{back / cold:.0%}"
            row["minimal verify s"] = f"{verify:.1f}"
            if with_defconfig:
                # Both from empty caches (each builds zig's libc for the ISA).
                os.environ["MUSLTOOL_CACHE"] = str(Path(tmp) / "cache-b")
                cold, verify = timed_build(isa, dist / "defconfig", mirrors, config="defconfig")
                bare = bare_make_seconds(isa, dist / "defconfig" / isa.name / "busybox.config", mirrors)
                row["defconfig cold s"] = f"{cold:.1f}"
                row["bare make s"] = f"{bare:.1f}"
                row["cold/bare"] = f"{cold / bare:.2f}"
                row["defconfig verify s"] = f"{verify:.1f}"
        rows.append(row)
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    columns = list(rows[0])
    print("\n| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(row[c] for c in columns) + " |")


if __name__ == "__main__":
    main()
