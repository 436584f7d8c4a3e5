"""Tasks about this machine and musltool itself: `isas`, `doctor`, `setup`, `clean`, `test`."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from invoke import task

from musltool import doctor as doctor_mod
from musltool.cli import download_options, one_line_errors
from musltool.errors import UsageError
from musltool.isa import ISAS, TIER_PROOF, TIERS, resolve_isas
from musltool.toolchain import prepare_toolchain, provider_of

ARMHF_NOTE = (
    "armhf means armv7 here, as in Debian and Docker (linux/arm/v7); Alpine's armhf is ARMv6 "
    "with VFPv2: that is armv6 (linux/arm/v6)."
)


@task
@one_line_errors
def isas(c):
    """Show the ISA table: tiers, names accepted, triples, oldest CPUs, qemu and docker platforms."""
    print(f"{'ISA':<12} {'tier':<5} {'triple':<24} {'zig target':<25} {'qemu-user -cpu':<20} {'docker':<15} aliases")
    for isa in ISAS:
        qemu = f"Debian {isa.qemu_user_suite}'s {isa.binfmt_name} (fetched)" if isa.qemu_user_suite else isa.qemu_binary
        print(
            f"{isa.name:<12} {isa.tier:<5} {isa.musl_triple:<24} {isa.zig_target:<25} {isa.qemu_cpu:<20} "
            f"{isa.docker_platform:<15} {', '.join(isa.aliases)}"
        )
        print(f"{'':<18} oldest CPU: {isa.oldest_cpu}; runs under {qemu}")
        booted = f"{isa.qemu_system} -M {isa.boot_machine} -cpu {isa.boot_cpu}" if isa.qemu_system else "no kernel pinned"
        print(f"{'':<18} boots: {booted}")
    print()
    for tier, proof in TIER_PROOF.items():
        print(f"tier {tier} proves: {proof}")
    print(ARMHF_NOTE)
    print("--arch takes a name or alias, a comma list, all, " + ", ".join(TIERS))


EVERY_ROW = ",".join(TIERS)  # setup and doctor: tier 3 rows too


@task(help={"arch": "ISAs whose binfmt entries to report (default every row, tier 3 too)"})
@one_line_errors
def doctor(c, arch=EVERY_ROW):
    """Report what this host has: docker, qemu, binfmt entries, leftovers, zig, cache.

    Leftovers are containers, images, temporary folders and processes of runs that are gone
    (after kill -9); builds running elsewhere are not. Exit 1 when something is missing.
    """
    ok = doctor_mod.print_report(resolve_isas(arch))
    if not ok:
        sys.exit(1)


@task(
    help={
        "arch": "ISAs to register in binfmt_misc (default every row, tier 3 too)",
        "packages": "install missing Debian packages (docker.io, qemu-user-static, qemu-system-*, e2fsprogs...) with apt-get",
        "docker": "start dockerd (no bridge, no iptables) when it is not answering",
        "toolchain": "also make this toolchain ready (as toolchain.fetch does): debian-gcc installs Debian's cross GCC and builds musl for it",
    }
)
@one_line_errors
def setup(c, arch=EVERY_ROW, packages=True, docker=True, toolchain=""):
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
        "jobs": "pytest workers for the integration tests (default: one per CPU; one more made every "
        "compile take half as much CPU time again on 2 cores, measured)",
    }
)
@one_line_errors
def test(c, unit=False, k="", verbose=False, jobs=0):
    """Run the tests with pytest: unit tests, then integration tests under qemu and docker.

    Integration tests run on `jobs` workers; those marked `serial` (they look at machine-wide
    state such as docker's containers) run alone afterwards.
    """
    tests = Path.cwd() / "tests"
    if not tests.is_dir():
        raise UsageError(f"no tests/ folder in {Path.cwd()}: run this in a musltool checkout")
    jobs = jobs or max(2, len(os.sched_getaffinity(0)))
    common = [*(["-k", k] if k else []), *(["-v"] if verbose else [])]
    pytest = [sys.executable, "-m", "pytest"]
    if unit:
        runs = [[*pytest, str(tests / "unit"), *common]]
    else:
        # --no-loadscope-reorder: tests are dealt out in the order the tests' conftest gives them
        parallel = ["-n", str(jobs), "--dist", "loadgroup", "--no-loadscope-reorder"] if jobs > 1 else []
        runs = [
            [*pytest, str(tests), "-m", "not serial", *parallel, "--durations=25", *common],
            [*pytest, str(tests), "-m", "serial", *common],
        ]
    # The whole suite on several workers: each makes its share of the expensive shared builds
    # first (tests/integration/conftest.py), so no worker waits on another's.
    env = {"MUSLTOOL_TEST_WARM_UP": "1"} if not (unit or k) and jobs > 1 else {}
    for args in runs:
        c.run(" ".join(shlex.quote(a) for a in args), pty=False, env=env)
