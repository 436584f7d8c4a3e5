"""Tasks about this machine and musltool itself: `isas`, `doctor`, `setup`, `clean`, `test`."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from invoke import task

from musltool import doctor as doctor_mod
from musltool.cli import download_options, one_line_errors
from musltool.errors import UsageError
from musltool.isa import ISAS, resolve_isas
from musltool.toolchain import prepare_toolchain, provider_of


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
    """Report what this host has: docker, qemu, binfmt entries, leftovers, zig, cache.

    Leftovers are containers, images, temporary folders and processes of runs that are gone
    (after kill -9); builds running elsewhere are not. Exit 1 when something is missing.
    """
    ok = doctor_mod.print_report(resolve_isas(arch))
    if not ok:
        sys.exit(1)


@task(
    help={
        "arch": "ISAs to register in binfmt_misc (default all)",
        "packages": "install missing Debian packages (docker.io, qemu-user-static, qemu-system-*, e2fsprogs...) with apt-get",
        "docker": "start dockerd (no bridge, no iptables) when it is not answering",
        "toolchain": "also make this toolchain ready (as toolchain.fetch does): debian-gcc installs Debian's cross GCC and builds musl for it",
    }
)
@one_line_errors
def setup(c, arch="all", packages=True, docker=True, toolchain=""):
    """Install and register what is missing (Debian packages, binfmt with the F flag, dockerd)."""
    isas = resolve_isas(arch)
    if toolchain:
        provider_of(toolchain)  # an unknown name is one line, before anything is installed
    doctor_mod.setup(isas, install_packages=packages, start_docker=docker)
    if toolchain:
        for line in prepare_toolchain(toolchain, isas, download_options(c)):
            print(line)


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
            [*pytest, str(tests), "-m", "not serial", *parallel, "--durations=25", *common],
            [*pytest, str(tests), "-m", "serial", *common],
        ]
    # The whole suite on several workers: each makes its share of the expensive shared builds
    # first (tests/integration/conftest.py), so no worker waits on another's.
    env = {"MUSLTOOL_TEST_WARM_UP": "1"} if not (unit or k) and jobs > 1 else {}
    for args in runs:
        c.run(" ".join(shlex.quote(a) for a in args), pty=False, env=env)
