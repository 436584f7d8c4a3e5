"""musltool's tasks: thin wrappers that parse options and call the musltool library.

`invoke <task>` in a checkout (tasks.py imports `ns` from here) and the `musltool <task>`
console command (Invoke's Program over the same collection) run the same code.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from invoke import Collection, Program, task

from musltool import __version__, settings
from musltool import build as build_mod
from musltool import doctor as doctor_mod
from musltool.builder import BuildOptions
from musltool.catalog import load_recipe
from musltool.cli import (
    exit_on_broken_invoke_config,
    musltool_settings_problem,
    one_line_errors,
    one_line_parse_errors,
    split_list,
)
from musltool.errors import UsageError
from musltool.fetch import fetch_options
from musltool.isa import ISAS, resolve_isas
from musltool.recipes import recipe_for_sources
from musltool.toolchain import DEFAULT_TOOLCHAIN, get_toolchain

if TYPE_CHECKING:
    from musltool.isa import Isa
    from musltool.kernels import Kernel

ARCH_HELP = (
    "ISA: x86_64, aarch64, armv7, riscv64 (or amd64, arm64, armhf ...), a comma list, or 'all'"
)
TOOLCHAIN_HELP = "toolchain provider: zig (default), a GCC archive (bootlin, muslcc) or debian-gcc (invoke toolchain.list)"
RECIPE_HELP = (
    "a recipe by name (hello, musl-claims, crc32, cxx-demo, busybox; then ./recipes/<name>) or a folder "
    "holding a recipe.toml; default hello"
)


def config_mirrors(c) -> object:
    settings = c.config.get("musltool", {})
    problem = musltool_settings_problem(settings)
    if problem:
        raise UsageError(f"invalid Invoke config: {problem}")
    return settings.get("mirrors")


@task(
    help={
        "arch": ARCH_HELP,
        "recipe": RECIPE_HELP,
        "src": "your own C source file instead of a recipe (repeat for more files)",
        "name": "binary name for --src builds (default: first source's stem); a plain file name",
        "toolchain": TOOLCHAIN_HELP,
        "runner": "how to verify: auto (docker if its daemon answers, else qemu), docker, qemu",
        "dist": "output folder (default dist)",
        "force": "rebuild even when inputs are unchanged",
        "config": "BusyBox base config: defconfig, minimal, or a path to a .config",
        "applets": "BusyBox: build exactly these applets (comma list) from allnoconfig",
        "fragment": "BusyBox: a config fragment merged over the base config",
        "version": "recipe version where a recipe offers several (BusyBox: 1.37.0, 1.35.0)",
        "list_applets": "BusyBox: list the applets the source offers and exit",
        "upstream_tests": "BusyBox: also run the testsuite/ shipped in its source against the build (under emulation, sandboxed)",
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
    upstream_tests=False,
):
    """Build a static musl binary, check its ELF, verify it under qemu, put it in dist/<isa>/."""
    if src and recipe:
        raise UsageError("give --recipe or --src, not both")
    if name and not src:
        raise UsageError("--name goes with --src (a recipe names its own binary)")
    chosen = recipe_for_sources(src, name or None) if src else load_recipe(recipe or "hello")
    download = fetch_options(config_mirrors(c))
    if list_applets:
        from musltool.busybox.builder import list_applets as busybox_applets

        print("\n".join(busybox_applets(chosen, version or None, download)))
        return
    isas = resolve_isas(arch)
    options = BuildOptions(
        toolchain=toolchain,
        runner=runner,
        dist=Path(dist),
        force=force,
        version=version or None,
        fetch=download,
        kind_options={
            "config": config or None,
            "applets": tuple(split_list(applets)),
            "fragment": fragment or None,
            "upstream_tests": upstream_tests,
        },
    )
    builders = [build_mod.prepare(chosen, isa, options) for isa in isas]  # all checked first
    for builder in builders:
        result = build_mod.run_build(builder)
        state = "up to date" if result.up_to_date else "built and verified"
        print(f"{builder.isa.name}: {result.binary} ({result.report.size} bytes, {state})")


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
    download = fetch_options(config_mirrors(c))
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
        "packages": "install missing Debian packages (docker.io, qemu-user-static, qemu-system-*, e2fsprogs...) with apt-get",
        "docker": "start dockerd (no bridge, no iptables) when it is not answering",
        "toolchain": "also make this toolchain ready: debian-gcc installs Debian's cross GCC and builds musl for it",
    }
)
@one_line_errors
def setup(c, arch="all", packages=True, docker=True, toolchain=""):
    """Install and register what is missing (Debian packages, binfmt with the F flag, dockerd)."""
    from musltool.toolchain.distro import distro_names

    isas = resolve_isas(arch)
    if toolchain and toolchain not in distro_names():
        get_toolchain(toolchain, isas[0])  # an unknown name is one line; zig and archives need nothing here
    doctor_mod.setup(isas, install_packages=packages, start_docker=docker)
    if toolchain in distro_names():
        _fetch_distro_toolchain(toolchain, isas, fetch_options(config_mirrors(c)))


@task(
    help={
        "unit": "run only the fast unit tests (they need nothing but Python)",
        "k": "only tests matching this pytest -k expression",
        "verbose": "list every test",
        "jobs": "pytest workers for the integration tests (default 2: one builds while another verifies)",
    }
)
@one_line_errors
def test(c, unit=False, k="", verbose=False, jobs=2):
    """Run the tests with pytest: unit tests, then integration tests under qemu and docker.

    Integration tests run on `jobs` workers; those marked `serial` (they look at machine-wide
    state such as docker's containers) run alone afterwards.
    """
    tests = Path.cwd() / "tests"
    if not tests.is_dir():
        raise UsageError(f"no tests/ folder in {Path.cwd()}: run this in a musltool checkout")
    common = [*(["-k", k] if k else []), *(["-v"] if verbose else [])]
    pytest = [sys.executable, "-m", "pytest"]
    if unit:
        runs = [[*pytest, str(tests / "unit"), *common]]
    else:
        parallel = ["-n", str(jobs), "--dist", "loadgroup"] if jobs > 1 else []
        runs = [
            [*pytest, str(tests), "-m", "not serial", *parallel, *common],
            [*pytest, str(tests), "-m", "serial", *common],
        ]
    for args in runs:
        c.run(" ".join(shlex.quote(a) for a in args), pty=False)


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
    """Download, verify, extract and cache a GCC musl cross toolchain per ISA (once).

    For debian-gcc: install Debian's gcc-<triple> packages that are missing (as root) and build
    musl from its pinned source into a sysroot for each ISA (once).
    """
    from musltool.toolchain.gcc import GccToolchain, check_sha256

    if toolchain == "zig":
        print("zig comes with the ziglang wheel: nothing to fetch")
        return
    get_toolchain(toolchain, ISAS[0])  # validates the name with a one-line error
    chosen = resolve_isas(arch)
    from musltool.toolchain.distro import distro_names

    if toolchain in distro_names():
        _fetch_distro_toolchain(toolchain, chosen, fetch_options(config_mirrors(c), quiet=quiet))
        return
    if sha256:
        check_sha256(sha256)
        if len(chosen) != 1:
            raise UsageError("--sha256 goes with exactly one ISA")
    options = fetch_options(config_mirrors(c), quiet=quiet)
    for isa in chosen:
        tc = GccToolchain(toolchain, isa, options, sha256=sha256 or None, trust=trust)
        state = "already cached" if tc.is_cached() else "fetched"
        tc.bin_dir()
        print(f"{isa.name}: {tc.describe()} {state} in {tc.root}")


def _fetch_distro_toolchain(name: str, isas: list[Isa], options) -> None:
    """Install the distribution's compilers that are missing, then build musl for each ISA."""
    from musltool.doctor import apt_install
    from musltool.process import which
    from musltool.toolchain.distro import DistroGccToolchain

    toolchains = [DistroGccToolchain(name, isa, options) for isa in isas]
    missing = [tc.package for tc in toolchains if which(f"{tc.gnu_triple}-gcc") is None]
    if missing:
        apt_install(sorted(set(missing)))
    for tc in toolchains:
        state = "already built" if tc.is_cached() else "built"
        tc.bin_dir()
        print(f"{tc.isa.name}: {tc.describe()} {state} in {tc.root}")


@task(name="list")
@one_line_errors
def list_toolchains(c):
    """Show each GCC distribution x ISA: version, hash status, cached or not, size on disk."""
    from musltool.toolchain.gcc import status_rows
    from musltool.toolchain.zigexe import zig_version

    columns = ("toolchain", "isa", "version", "gcc", "musl", "hash", "cached", "size")
    rows = status_rows()
    widths = {col: max(len(col), *(len(r[col]) for r in rows)) for col in columns}
    print("  ".join(col.ljust(widths[col]) for col in columns).rstrip())
    for row in rows:
        print("  ".join(row[col].ljust(widths[col]) for col in columns).rstrip())
    print(f"zig {zig_version()} (ziglang wheel): all ISAs, nothing to fetch")
    from musltool.toolchain.distro import distro_names, distro_summary

    for name in distro_names():
        print(distro_summary(name))


def _remainder(c) -> list[str]:
    """The words after `--`, as typed (Invoke's remainder is one joined string)."""
    if "--" in sys.argv:
        return sys.argv[sys.argv.index("--") + 1 :]
    return shlex.split(c.remainder)


@task(
    name="run",
    iterable=["file"],
    help={
        "arch": "ISA of the program (default: read from the binary)",
        "runner": "auto (docker when it answers, else qemu), docker or qemu",
        "file": "LOCAL[:GUEST] a file put beside the program, read-only (repeatable)",
        "timeout": "whole seconds before the program is stopped (default 600)",
    },
)
@one_line_errors
def run_program(c, arch="", runner="auto", file=None, timeout="600"):
    """Run a static binary under qemu on its ISA's oldest CPU: invoke run --arch riscv64 -- PROG ARGS.

    The program and the --file files go into a fresh scratch container (or a temporary folder
    with --runner qemu). Our stdin is its stdin; its stdout and stderr are passed through as
    they come (a run printing more than 64 MiB is stopped there) and its exit code is ours.
    """
    from musltool.isa import get_isa
    from musltool.runbinary import parse_file, parse_timeout, run_binary

    seconds = parse_timeout(timeout)
    files = [parse_file(spec) for spec in file or []]
    isa = get_isa(arch) if arch else None
    result = run_binary(_remainder(c), isa, runner, files, seconds)
    sys.stdout.write(result.stdout)
    sys.stdout.flush()
    sys.stderr.write(result.stderr)
    if result.timed_out or result.signal or result.cut:
        print(f"musltool: {Path(_remainder(c)[0]).name} {result.describe()}", file=sys.stderr)
    sys.exit(result.exit_code if result.exit_code >= 0 else 255)


@task(
    help={
        "cache": "also empty musltool's cache (downloads, toolchains, work folders, zig cache); refused while another run uses it",
        "dist": "output folder: only the files musltool recorded writing there are removed",
    }
)
@one_line_errors
def clean(c, cache=False, dist="dist"):
    """Remove what musltool wrote in dist/ (and with --cache its cache), and what killed runs left.

    Only entries musltool recorded making go: a file changed since, or anything else in the
    folder, stays. Containers, images, temporary folders and processes are removed only when
    the run that made them is gone: builds running elsewhere are never touched.
    """
    from musltool.cleanup import clean_everything

    for line in clean_everything(Path(dist), cache):
        print(line)


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

    settings.source_date_epoch()  # checked before any work
    chosen_recipe = load_recipe(recipe)
    isas = resolve_isas(arch)
    if build:
        options = BuildOptions(
            toolchain=toolchain, dist=Path(dist), fetch=fetch_options(config_mirrors(c))
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
    from musltool.busybox.rootfs import build_rootfs

    settings.source_date_epoch()
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
    from musltool.busybox.rootfs import build_rootfs, check_image, make_image

    settings.source_date_epoch()
    alpine = 5 * 1024 * 1024
    for isa in resolve_isas(arch):
        tag, size = make_image(build_rootfs(Path(dist), isa))
        check_image(tag, isa)
        print(
            f"{isa.name}: {tag} {size / 1e6:.2f} MB ({size / alpine:.0%} of Alpine's ~5 MB base), sh ran ok"
        )


FIRMWARE_HELP = {
    "arch": ARCH_HELP,
    "dist": "folder holding the verified BusyBox build (and --add builds); images and reports go to dist/<isa>/",
    "kernel": "boot your own kernel image instead of musltool's pinned Debian kernel (one ISA only)",
    "add": "verified builds in dist to put in /usr/bin too (comma list, e.g. hello)",
    "overlay": "a folder laid over the image's root last (your /etc files, scripts ...)",
}


def _firmware_inputs(arch: str, kernel: str) -> tuple[list[Isa], Callable[[Isa], Kernel]]:
    """The ISAs, and a function giving each ISA's kernel (all checked before any work)."""
    from musltool.kernels import fetch_kernel, user_kernel

    isas = resolve_isas(arch)
    if kernel and len(isas) > 1:
        raise UsageError("--kernel boots one ISA: give --arch too")
    if kernel:
        user_kernel(kernel, isas[0])
    return isas, (lambda isa: user_kernel(kernel, isa) if kernel else fetch_kernel(isa))


@task(
    help={
        **FIRMWARE_HELP,
        "applet_suite": "also run the applet suite on the booted system (default yes)",
    }
)
@one_line_errors
def boot(c, arch="aarch64", dist="dist", kernel="", add="", overlay="", applet_suite=True):
    """Boot the verified BusyBox as firmware under qemu-system and prove the system works.

    Builds an initramfs and an ext4 image in dist/<isa>/, boots them with a pinned kernel on
    the ISA's oldest CPU model, logs in on the serial console, runs the boot suite (init,
    mounts, mdev, modules, loop devices, clock, network on lo, namespaces, the ext4 image) and
    the applet suite, powers off. Writes dist/<isa>/boot.txt (checks + transcript) and boot.json.
    """
    from musltool.boot import boot as boot_machine
    from musltool.boot import record
    from musltool.firmware import build_images

    settings.source_date_epoch()
    isas, kernel_for = _firmware_inputs(arch, kernel)
    overlay_dir = Path(overlay) if overlay else None
    for isa in isas:
        chosen_kernel = kernel_for(isa)
        images = build_images(Path(dist), isa, split_list(add), overlay_dir, chosen_kernel)
        report = record(boot_machine(isa, chosen_kernel, images, applet_suite), Path(dist))
        print(f"{isa.name}: booted and proven -> {report} ({report.with_name('boot.txt')})")


@task(help=FIRMWARE_HELP)
@one_line_errors
def firmware(c, arch="all", dist="dist", kernel="", add="", overlay=""):
    """Firmware release bundles per ISA: kernel, initramfs, ext4 image, run-qemu.sh, checksums.

    The images are booted and proven first, unless dist/<isa>/boot.json already proves these
    very images with this kernel. Bundles go to dist/ with SHA256SUMS and
    busybox-firmware.manifest.json.
    """
    from musltool.boot import boot as boot_machine
    from musltool.boot import proven_boot, record
    from musltool.bundle import MANIFEST, write_bundles
    from musltool.firmware import build_images

    settings.source_date_epoch()
    isas, kernel_for = _firmware_inputs(arch, kernel)
    overlay_dir = Path(overlay) if overlay else None
    proven = []
    for isa in isas:
        chosen_kernel = kernel_for(isa)
        images = build_images(Path(dist), isa, split_list(add), overlay_dir, chosen_kernel)
        report = proven_boot(Path(dist), images, chosen_kernel)
        if report is None:
            record(boot_machine(isa, chosen_kernel, images), Path(dist))
            report = proven_boot(Path(dist), images, chosen_kernel)
            assert report is not None
        proven.append((images, chosen_kernel, report))
    for bundle in write_bundles(proven, Path(dist)):
        print(f"{bundle.images.isa.name}: {bundle.path} sha256 {bundle.sha256}")
    print(f"{Path(dist) / 'SHA256SUMS'}, {Path(dist) / MANIFEST}")


toolchain_ns = Collection("toolchain")
toolchain_ns.add_task(env)
toolchain_ns.add_task(fetch_toolchain)
toolchain_ns.add_task(list_toolchains)

ns = Collection(build, run_program, isas, doctor, setup, test, clean, package, rootfs, image, boot, firmware)
ns.add_collection(toolchain_ns)
# Mirrors tried before upstream, for sources and toolchains (MUSLTOOL_MIRRORS adds more): a
# list in invoke.yaml, or one string of space-separated URLs (INVOKE_MUSLTOOL_MIRRORS).
ns.configure({"musltool": {"mirrors": ""}})


class MusltoolProgram(Program):
    """The `musltool` console command: the same tasks and config files as `invoke` in a
    checkout, with ./invoke.yaml in the current folder as the project's config."""

    def create_config(self) -> None:
        super().create_config()
        self.config.set_project_location(str(Path.cwd()))
        self.config.load_project()

    def run(self, argv: list[str] | None = None, exit: bool = True) -> None:
        exit_on_broken_invoke_config([Path.cwd()])
        super().run(argv, exit)


one_line_parse_errors(MusltoolProgram)
program = MusltoolProgram(namespace=ns, version=__version__, name="musltool", binary="musltool")
