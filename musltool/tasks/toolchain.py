"""Toolchain tasks: `toolchain.env`, `toolchain.fetch`, `toolchain.list` (the providers do the work)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from invoke import Collection, task

from musltool import build as build_mod
from musltool.cli import ARCH_HELP, TOOLCHAIN_HELP, download_options, one_line_errors, split_list
from musltool.errors import UsageError
from musltool.isa import resolve_isas
from musltool.kinds.base import BuildOptions
from musltool.toolchain import DEFAULT_TOOLCHAIN, get_toolchain, prepare_toolchain, toolchain_table


@task(
    help={
        "arch": ARCH_HELP,
        "toolchain": TOOLCHAIN_HELP,
        "format": "output: sh (export lines, default), fish (set -gx lines), json, cmake (a toolchain file) or meson (a cross file)",
        "output": "write to this file instead of printing",
        "libs": "library recipes (comma list: bzip2,xz,lz4) to build first and point at: -I/-L, pkg-config, CMAKE_FIND_ROOT_PATH, Meson sys_root",
        "dist": "where --libs puts its verified builds (default dist)",
    }
)
@one_line_errors
def env(c, arch="aarch64", toolchain=DEFAULT_TOOLCHAIN, format="sh", output="", libs="", dist="dist"):
    """Print the toolchain environment (CC, CFLAGS, CROSS_COMPILE ...) to build your own projects.

    Use it as: eval "$(invoke toolchain.env --arch aarch64)"
    """
    from musltool.envfiles import FORMATS, render_environment

    if format not in FORMATS:
        raise UsageError(f"unknown --format {format!r}; valid: {', '.join(FORMATS)}")
    chosen = resolve_isas(arch)
    if len(chosen) != 1:
        raise UsageError("toolchain.env takes exactly one ISA")
    download = download_options(c)
    tc = get_toolchain(toolchain, chosen[0], download)
    sysroot = None
    if libs and not split_list(libs):
        raise UsageError(f"--libs {libs!r} names no library (a comma list: bzip2,xz,lz4)")
    if libs:
        options = BuildOptions(toolchain=toolchain, dist=Path(dist), fetch=download)
        with contextlib.redirect_stdout(sys.stderr):  # stdout is the environment only
            sysroot = build_mod.library_sysroot(split_list(libs), chosen[0], options)
    text = render_environment(tc, format, sysroot)
    if output:
        from musltool.files import atomic_write_text

        atomic_write_text(Path(output), text)
        print(f"wrote {output}")
    else:
        sys.stdout.write(text)


@task(
    name="fetch",
    help={
        "arch": ARCH_HELP,
        "toolchain": "GCC archive to fetch, or debian-gcc to install Debian's cross GCC and build musl for it (invoke toolchain.list); zig needs no fetch",
        "sha256": "the archive's sha256, for an entry without a pinned hash (one ISA)",
        "trust": "accept an unpinned archive and record its hash in the lock file",
        "quiet": "no progress bar",
    },
)
@one_line_errors
def fetch_toolchain(c, arch="aarch64", toolchain="bootlin", sha256="", trust=False, quiet=False):
    """Make a toolchain ready per ISA, once: a GCC archive is downloaded, verified, extracted
    and cached; debian-gcc installs Debian's gcc-<triple> packages that are missing (as root)
    and builds musl from its pinned source into a sysroot per ISA."""
    for line in prepare_toolchain(toolchain, resolve_isas(arch), download_options(c, quiet), sha256, trust):
        print(line)


@task(name="list")
@one_line_errors
def list_toolchains(c):
    """Show each toolchain: GCC distributions x ISA (version, hash status, cached, size), zig,
    and the distribution compilers with the ISAs musl is built for."""
    for line in toolchain_table():
        print(line)


toolchain_ns = Collection("toolchain")
toolchain_ns.add_task(env)
toolchain_ns.add_task(fetch_toolchain)
toolchain_ns.add_task(list_toolchains)
