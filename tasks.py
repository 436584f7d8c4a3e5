"""musltool's tasks: thin wrappers that parse options and call the musltool library."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from invoke import Collection, task

from musltool import build as build_mod
from musltool import doctor as doctor_mod
from musltool.cli import one_line_errors, split_list
from musltool.isa import ISAS, resolve_isas
from musltool.recipes import load_recipe, recipe_for_sources
from musltool.toolchain import DEFAULT_TOOLCHAIN, get_toolchain

ARCH_HELP = (
    "ISA: x86_64, aarch64, armv7, riscv64 (or amd64, arm64, armhf ...), a comma list, or 'all'"
)
TOOLCHAIN_HELP = "toolchain provider: zig (default) or a GCC distribution (invoke toolchain.list)"


@task(
    help={
        "arch": ARCH_HELP,
        "recipe": "recipe under recipes/ (hello, musl-claims, crc32, busybox); default hello",
        "src": "your own C source file instead of a recipe (repeat for more files)",
        "name": "binary name for --src builds (default: first source's stem)",
        "toolchain": TOOLCHAIN_HELP,
        "runner": "how to verify: auto (docker if its daemon answers, else qemu), docker, qemu",
        "dist": "output folder (default dist)",
        "force": "rebuild even when inputs are unchanged",
        "config": "BusyBox base config: defconfig, minimal, or a path to a .config",
        "applets": "BusyBox: build exactly these applets (comma list) from allnoconfig",
        "fragment": "BusyBox: a config fragment merged over the base config",
        "version": "recipe version where a recipe offers several (BusyBox: 1.37.0, 1.35.0)",
        "list_applets": "BusyBox: list the applets the source offers and exit",
    },
    iterable=["src"],
)
@one_line_errors
def build(
    c,
    arch="aarch64",
    recipe="",
    src=None,
    name="",
    toolchain=DEFAULT_TOOLCHAIN,
    runner="auto",
    dist="dist",
    force=False,
    config="",
    applets="",
    fragment="",
    version="",
    list_applets=False,
):
    """Build a static musl binary, check its ELF, verify it under qemu, put it in dist/<isa>/."""
    if src and recipe:
        raise_usage("give --recipe or --src, not both")
    chosen = recipe_for_sources(src, name or None) if src else load_recipe(recipe or "hello")
    if list_applets:
        from musltool.busybox import list_applets_for

        mirrors = tuple(c.config.musltool.mirrors)
        print("\n".join(list_applets_for(chosen, version or None, mirrors)))
        return
    isas = resolve_isas(arch)
    options = build_mod.BuildOptions(
        mirrors=tuple(c.config.musltool.mirrors),
        toolchain=toolchain,
        runner=runner,
        dist=Path(dist),
        force=force,
        config=config or None,
        applets=tuple(split_list(applets)),
        fragment=Path(fragment) if fragment else None,
        version=version or None,
    )
    for isa in isas:
        result = build_mod.build(chosen, isa, options)
        state = "up to date" if result.up_to_date else "built and verified"
        print(f"{isa.name}: {result.binary} ({result.report['size']} bytes, {state})")


def raise_usage(message):
    from musltool.errors import UsageError

    raise UsageError(message)


@task(
    help={
        "arch": ARCH_HELP,
        "toolchain": TOOLCHAIN_HELP,
        "shell": "output syntax: sh (export lines, default) or json",
    }
)
@one_line_errors
def env(c, arch="aarch64", toolchain=DEFAULT_TOOLCHAIN, shell="sh"):
    """Print the toolchain environment (CC, CFLAGS, CROSS_COMPILE ...) to build your own projects.

    Use it as: eval "$(invoke toolchain.env --arch aarch64)"
    """
    from musltool.toolchain.base import ENV_KEYS

    chosen = resolve_isas(arch)
    if len(chosen) != 1:
        raise_usage("toolchain.env takes exactly one ISA")
    isa = chosen[0]
    environment = get_toolchain(toolchain, isa).env(base={})
    selected = {key: environment[key] for key in ENV_KEYS}
    if shell == "json":
        print(json.dumps(selected, indent=2, sort_keys=True))
        return
    for key, value in selected.items():
        print(f"export {key}={shlex.quote(value)}")


@task
@one_line_errors
def isas(c):
    """Show the ISA table: names accepted, triples, qemu and docker platforms."""
    print(f"{'ISA':<8} {'triple':<24} {'zig target':<22} {'qemu':<22} {'docker':<14} aliases")
    for isa in ISAS:
        print(
            f"{isa.name:<8} {isa.musl_triple:<24} {isa.zig_target:<22} {isa.qemu_binary:<22} "
            f"{isa.docker_platform:<14} {', '.join(isa.aliases)}"
        )


@task(help={"arch": "ISAs whose binfmt entries to report (default all)"})
@one_line_errors
def doctor(c, arch="all"):
    """Report what this host has: docker daemon, qemu-user-static, binfmt entries, zig, cache."""
    ok = doctor_mod.print_report(resolve_isas(arch))
    if not ok:
        sys.exit(1)


@task(
    help={
        "arch": "ISAs to register in binfmt_misc (default all)",
        "packages": "install missing Debian packages (docker.io, qemu-user-static) with apt-get",
        "docker": "start dockerd (no bridge, no iptables) when it is not answering",
    }
)
@one_line_errors
def setup(c, arch="all", packages=True, docker=True):
    """Install and register what is missing (Debian packages, binfmt with the F flag, dockerd)."""
    doctor_mod.setup(resolve_isas(arch), install_packages=packages, start_docker=docker)


@task(
    help={
        "unit": "run only the fast unit tests",
        "k": "only tests matching this pytest -k expression",
        "verbose": "list every test",
    }
)
def test(c, unit=False, k="", verbose=False):
    """Run the tests with pytest: unit tests, then integration tests under qemu and docker."""
    args = [sys.executable, "-m", "pytest", "tests/unit" if unit else "tests"]
    if k:
        args += ["-k", k]
    if verbose:
        args.append("-v")
    c.run(" ".join(shlex.quote(a) for a in args), pty=False)


@task(
    name="fetch",
    help={
        "arch": ARCH_HELP,
        "toolchain": "GCC distribution to fetch (invoke toolchain.list); zig needs no fetch",
        "sha256": "the archive's sha256, for an entry without a pinned hash (one ISA)",
        "trust": "accept an unpinned archive and record its hash in toolchains/lock.toml",
        "quiet": "no progress bar",
    },
)
@one_line_errors
def fetch_toolchain(c, arch="aarch64", toolchain="bootlin", sha256="", trust=False, quiet=False):
    """Download, verify, extract and cache a GCC musl cross toolchain per ISA (once)."""
    from musltool.fetch import default_options
    from musltool.toolchain.gcc import GccToolchain

    if toolchain == "zig":
        print("zig comes with the ziglang wheel: nothing to fetch")
        return
    get_toolchain(toolchain, ISAS[0])  # validates the name with a one-line error
    chosen = resolve_isas(arch)
    if sha256 and len(chosen) != 1:
        raise_usage("--sha256 goes with exactly one ISA")
    options = default_options(list(c.config.musltool.mirrors), quiet=quiet)
    for isa in chosen:
        tc = GccToolchain(toolchain, isa, options, sha256=sha256 or None, trust=trust)
        state = "already cached" if tc.is_cached() else "fetched"
        tc.bin_dir()
        print(f"{isa.name}: {tc.describe()} {state} in {tc.root}")


@task(name="list")
@one_line_errors
def list_toolchains(c):
    """Show each GCC distribution x ISA: version, hash status, cached or not, size on disk."""
    from musltool.toolchain.gcc import status_rows
    from musltool.toolchain.zig import zig_version

    columns = ("toolchain", "isa", "version", "gcc", "musl", "hash", "cached", "size")
    rows = status_rows()
    widths = {col: max(len(col), *(len(r[col]) for r in rows)) for col in columns}
    print("  ".join(col.ljust(widths[col]) for col in columns).rstrip())
    for row in rows:
        print("  ".join(row[col].ljust(widths[col]) for col in columns).rstrip())
    print(f"zig {zig_version()} (ziglang wheel): all ISAs, nothing to fetch")


@task(
    help={
        "cache": "also empty musltool's cache (downloads, toolchains, zig cache)",
        "dist": "output folder",
    }
)
@one_line_errors
def clean(c, cache=False, dist="dist"):
    """Remove dist/ (and with --cache the download/toolchain cache)."""
    import shutil

    from musltool import settings

    for folder in [Path(dist), *([settings.cache_dir()] if cache else [])]:
        if folder.exists():
            shutil.rmtree(folder)
            print(f"removed {folder}")


@task(
    help={
        "arch": ARCH_HELP,
        "recipe": "what to package (default hello)",
        "dist": "folder holding the builds; tarballs, SHA256SUMS and the manifest go here",
        "build": "build (and verify) what is missing or stale first; --no-build packages only what is there",
        "toolchain": TOOLCHAIN_HELP + " (with --build)",
    }
)
@one_line_errors
def package(c, arch="all", recipe="hello", dist="dist", build=True, toolchain=DEFAULT_TOOLCHAIN):
    """Reproducible <name>-<version>-<isa>.tar.gz per ISA, SHA256SUMS and a manifest.

    Only verified builds are packaged: a build that failed verification, or a binary that
    changed since, is refused.
    """
    from musltool.package import package as make_packages

    chosen_recipe = load_recipe(recipe)
    isas = resolve_isas(arch)
    if build:
        options = build_mod.BuildOptions(
            mirrors=tuple(c.config.musltool.mirrors), toolchain=toolchain, dist=Path(dist)
        )
        for isa in isas:
            build_mod.build(chosen_recipe, isa, options)
    for pkg in make_packages(chosen_recipe, isas, Path(dist)):
        print(f"{pkg.isa.name}: {pkg.path} sha256 {pkg.sha256}")
    print(f"{Path(dist) / 'SHA256SUMS'}, {Path(dist) / (chosen_recipe.name + '.manifest.json')}")


@task(help={"arch": ARCH_HELP, "dist": "folder holding the BusyBox builds"})
@one_line_errors
def rootfs(c, arch="aarch64", dist="dist"):
    """A reproducible root filesystem tar from a verified BusyBox build (links, /etc, /tmp ...)."""
    from musltool.rootfs import build_rootfs

    for isa in resolve_isas(arch):
        fs = build_rootfs(Path(dist), isa)
        print(f"{isa.name}: {fs.path} ({fs.path.stat().st_size} bytes, {fs.applets} applet links)")


@task(help={"arch": ARCH_HELP, "dist": "folder holding the BusyBox builds"})
@one_line_errors
def image(c, arch="aarch64", dist="dist"):
    """Local docker images (musltool/busybox:<version>-<isa>) of the root filesystem, verified.

    No registry is touched: images are loaded from a tar written here, and checked by running
    a shell script in each under qemu.
    """
    from musltool.rootfs import build_rootfs, check_image, make_image

    alpine = 5 * 1024 * 1024
    for isa in resolve_isas(arch):
        tag, size = make_image(build_rootfs(Path(dist), isa))
        check_image(tag, isa)
        print(
            f"{isa.name}: {tag} {size / 1e6:.2f} MB ({size / alpine:.0%} of Alpine's ~5 MB base), sh ran ok"
        )


toolchain_ns = Collection("toolchain")
toolchain_ns.add_task(env)
toolchain_ns.add_task(fetch_toolchain)
toolchain_ns.add_task(list_toolchains)

ns = Collection(build, isas, doctor, setup, test, clean, package, rootfs, image)
ns.add_collection(toolchain_ns)
# Mirrors tried before upstream, for sources and toolchains (MUSLTOOL_MIRRORS adds more).
ns.configure({"musltool": {"mirrors": []}})
