"""Integration tests need docker, qemu-user-static and binfmt: missing parts fail, never skip.

Builds are shared: `shared.dist(...)` builds a recipe for an ISA once per test run (across
pytest-xdist workers too, under a lock) and every test that needs that build reads the same
dist folder (it copies it before writing: the next use fails when a file changed). A test
about building itself uses its own dist folder. With MUSLTOOL_TEST_BUILDS, the shared builds
are kept for the next run of the same checkout (kept_builds.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

from musltool.build import build
from musltool.cache import cache_dir
from musltool.catalog import load_recipe
from musltool.docker import require_docker
from musltool.fetch import fetch_options
from musltool.isa import ISAS, TIERS, get_isa
from musltool.kinds.base import BuildOptions
from musltool.runners import DockerRunner, QemuRunner
from tests.conftest import cpu_seconds, record_time
from tests.integration.kept_builds import KEY_VARIABLE, kept_builds_folder
from tests.sentinel import snapshot

ROOT = Path(__file__).resolve().parents[2]


# The order tests are dealt out to workers in (`invoke test` passes --no-loadscope-reorder:
# the collection order is the queue). The long ones go first, so that a run ends on short
# tests, not with one worker idle while the other finishes a five-minute one (3.5 minutes of
# one idle worker at the end of a cold run before this order); those needing every row's shared
# builds (the workflows, the image index) after them, when each worker's warm-up is done. An
# entry is a test name's start or an xdist group; minutes are from CI's time budget.
DEALT_FIRST = [
    "group debian-gcc",  # its own musl builds and BusyBox 1.35: about 7 minutes
    "test_release.py::test_warm_and_cold_builds_are_bit_identical",  # its own armv7 libc: 4
    "test_firmware.py::test_boots_to_a_login_runs_the_suites_and_powers_off",  # 1.5 to 3 each
    "test_libraries.py::test_meson_finds_the_libraries",  # s390x's debug libc: 2
    "test_firmware.py::test_firmware_bundle_is_reproducible",  # 2
    "test_oldest_cpu.py::test_armv7_neon_is_refused",  # a Cortex-A8 libc: 1.5
    "test_firmware.py::test_your_own_kernel_boots",  # 1
    "test_gcc_toolchains.py::test_muslcc_builds_busybox_minimal",  # 1
    "test_workflows.py::",  # 5, every row's builds
    "group busybox-images",  # every row's BusyBox minimal
]


def dealing_rank(item) -> int:
    group = item.get_closest_marker("xdist_group")
    names = [item.nodeid.split("/")[-1], *([f"group {group.args[0]}"] if group else [])]
    return next((rank for rank, first in enumerate(DEALT_FIRST) if any(n.startswith(first) for n in names)),
                len(DEALT_FIRST))  # fmt: skip


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
    items.sort(key=dealing_rank)  # stable: the rest keep their order


@pytest.fixture(scope="session", autouse=True)
def host_parts_present():
    """Fails every integration test at once, with the reason, if a host part is missing."""
    require_docker()
    for isa in ISAS:  # every row, tier 3 too
        DockerRunner().check_ready(isa)
        QemuRunner().check_ready(isa)


def busybox_options(dist: Path, version: str | None = None, runner: str = "auto", **kind) -> BuildOptions:
    return BuildOptions(dist=dist, version=version, runner=runner, kind_options=kind)


class SharedBuilds:
    """Builds made once per test run and read by every test that needs them."""

    def __init__(self, root: Path, mirrors: tuple[str, ...], this_run: Path | None = None) -> None:
        self.root = root
        self.mirrors = mirrors
        self.this_run = this_run or root  # this run's own records (failed, made): never kept

    def dist(self, recipe: str, isa: str, runner: str = "auto", version: str | None = None,
             toolchain: str = "zig", **kind) -> Path:  # fmt: skip
        if recipe == "busybox" and not kind and isa in UPSTREAM_TESTSUITE_ISAS:
            # The default BusyBox build (defconfig) is made once per ISA with BusyBox's own
            # testsuite: the test of that mode and every test needing defconfig read it.
            kind = {"upstream_tests": True}
        options = self.options(recipe, runner, version, toolchain, **kind)
        dist = options.dist
        dist.parent.mkdir(parents=True, exist_ok=True)
        # One lock per ISA (builds of other ISAs go on beside it: the output folder takes
        # their files one transaction at a time); a failed build is failed once, not again
        # for every test that needs it.
        failed = self.this_run / f"{dist.name}.{isa}.failed"
        with FileLock(f"{dist}.{isa}.lock"):
            if failed.is_file():
                pytest.fail(f"shared build failed earlier in this run: {failed.read_text()}")
            self.require_untouched(dist, isa)
            try:
                wall, cpu = time.monotonic(), cpu_seconds()
                made_here = self.this_run / f"{dist.name}.{isa}.made"  # by this run, on any worker
                if not build(load_recipe(recipe), get_isa(isa), options).up_to_date:
                    made_here.touch()
                kind = "shared build" if made_here.exists() else "kept build"
                record_time(kind, f"{dist.name} {isa}", time.monotonic() - wall, cpu_seconds() - cpu)
            except Exception as exc:
                failed.write_text(f"{recipe} for {isa}: {type(exc).__name__}: {exc}")
                raise
            self.files_record(dist, isa).write_text(json.dumps(snapshot(dist / isa), sort_keys=True))
        return dist

    def files_record(self, dist: Path, isa: str) -> Path:
        return dist.parent / f"{dist.name}.{isa}.files.json"

    def require_untouched(self, dist: Path, isa: str) -> None:
        """A shared build's folder holds what its build left (tests copy it before writing):
        kept for the next run, a file a test wrote would stand in for what it should make."""
        record = self.files_record(dist, isa)
        if not record.is_file():
            return
        left, now = json.loads(record.read_text()), snapshot(dist / isa)
        changed = sorted(name for name in set(left) | set(now) if left.get(name) != now.get(name))
        if changed:
            pytest.fail(f"a test changed the shared build {dist.name} for {isa}: {', '.join(changed)}")

    def options(self, recipe: str, runner: str = "auto", version: str | None = None,
                toolchain: str = "zig", **kind) -> BuildOptions:  # fmt: skip
        """The options of the shared build `dist` makes with these arguments."""
        parts = [recipe, runner, toolchain, version or "default"]
        parts += [f"{k}-{','.join(v) if isinstance(v, tuple) else v}" for k, v in sorted(kind.items())]
        dist = self.root / re.sub(r"[^A-Za-z0-9.,_-]+", "_", "-".join(parts))
        return BuildOptions(
            dist=dist,
            runner=runner,
            version=version,
            toolchain=toolchain,
            fetch=fetch_options(list(self.mirrors)),
            kind_options=kind,
        )

    def report(self, recipe: str, isa: str, **options) -> dict:
        dist = self.dist(recipe, isa, **options)
        binary = load_recipe(recipe).binary
        return json.loads((dist / isa / f"{binary}.json").read_text())


@pytest.fixture(scope="session")
def shared(tmp_path_factory, mirror_url) -> SharedBuilds:
    """This run's shared builds, in the run's temporary folder, or with MUSLTOOL_TEST_BUILDS
    set, kept there for the next run of the same source on this host (kept_builds.py)."""
    base = tmp_path_factory.getbasetemp()
    run = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-builds"
    run.mkdir(parents=True, exist_ok=True)
    mirrors = (mirror_url,) if mirror_url else ()
    kept = os.environ.get("MUSLTOOL_TEST_BUILDS")
    if not kept:
        return SharedBuilds(run, mirrors)
    if not (key := os.environ.get(KEY_VARIABLE)):
        pytest.fail(f"MUSLTOOL_TEST_BUILDS is set but {KEY_VARIABLE} is not: the key cannot be told (git, dpkg-query)")
    return SharedBuilds(kept_builds_folder(Path(kept), key), mirrors, this_run=run)


# Where the shared defconfig build also runs BusyBox's own testsuite in CI: x86_64, natively,
# and s390x, emulated and big-endian (the most expensive check of the run, so on two rows:
# README's CI time; aarch64, armv7 and riscv64 were measured here with the same code, and
# test_busybox's UPSTREAM_COUNTS keeps their numbers for `invoke test` runs that add them).
UPSTREAM_TESTSUITE_ISAS = {"x86_64", "s390x"}

# The expensive shared builds, each group with its wall seconds in a cold run (CI's time
# budget): with several workers each makes its share at the start of the run, beside the
# others, instead of one worker making a build while another waits on its lock. Groups are
# dealt heaviest first to the worker with the least so far. A group holds whole ISAs of
# BusyBox (defconfig and minimal share one work folder, which two workers would only take
# turns on), defconfig's variants before minimal (a switch of config recompiles what it changes).
def _busybox(isa: str, *variants: dict) -> list[tuple[str, str, dict]]:
    return [("busybox", isa, {}), *(("busybox", isa, v) for v in variants), ("busybox", isa, {"config": "minimal"})]


WARM_UP_GROUPS: list[tuple[int, list[tuple[str, str, dict]]]] = [
    (310, _busybox("armv7")), (235, _busybox("aarch64")), (290, _busybox("riscv64")),
    (520, _busybox("x86_64", {"knock_out": True})), (470, _busybox("s390x")),
    (280, _busybox("ppc64le")), (255, _busybox("x86")), (330, _busybox("armv6")),
    (285, _busybox("loongarch64")),
    (165, [("libarchive", "x86_64", {})]), (230, [("libarchive", "s390x", {})]),
    (205, [("cxx-demo", "aarch64", {})]), (115, [("cxx-demo", "x86_64", {})]), (110, [("cxx-demo", "s390x", {})]),
    (215, [("cxx-demo", "armv7", {})]), (210, [("cxx-demo", "riscv64", {})]),
]  # fmt: skip


def warm_up_share(index: int, count: int) -> list[tuple[str, str, dict]]:
    """Worker `index` of `count`'s builds: groups dealt heaviest first to the least loaded."""
    loads = [0] * count
    shares: list[list[tuple[str, str, dict]]] = [[] for _ in range(count)]
    for seconds, group in sorted(WARM_UP_GROUPS, key=lambda g: -g[0]):
        least = loads.index(min(loads))
        loads[least] += seconds
        shares[least] += group
    return shares[index]


@pytest.fixture(scope="session", autouse=True)
def shared_builds_warmed_up(shared) -> None:
    """`invoke test` (the whole suite on several workers) sets MUSLTOOL_TEST_WARM_UP: each
    worker then makes its share of WARM_UP_GROUPS before its first test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not os.environ.get("MUSLTOOL_TEST_WARM_UP") or not worker.startswith("gw"):
        return
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    for recipe, isa, kind in warm_up_share(int(worker[2:]), count):
        try:
            shared.dist(recipe, isa, **kind)
        except Exception as exc:
            print(f"warm-up: {recipe} for {isa} failed: {exc}", file=sys.stderr)


@pytest.fixture
def fresh_cache_but_compilers(tmp_path, monkeypatch) -> Path:
    """An empty musltool cache but for what compiling needs: musltool's own host programs (its
    driver and helper) copied from the run's cache, and zig's cache, the run's: an empty one
    compiles zig's x86_64 libc first (a minute of CI) for what the test is not about."""
    run_cache = cache_dir()
    cache = tmp_path / "cache"
    monkeypatch.setenv("MUSLTOOL_CACHE", str(cache))
    if (run_cache / "tools").is_dir():
        shutil.copytree(run_cache / "tools", cache_dir() / "tools", ignore=shutil.ignore_patterns("*.lock", "tmp*"))
    if (run_cache / "zig-cache").is_dir():
        (cache / "zig-cache").symlink_to(run_cache / "zig-cache")
    return cache


@pytest.fixture(scope="module")
def hello_dist(shared, tmp_path_factory) -> Path:
    """hello for the four tier-1 ISAs, copied so that packaging tests can write beside it."""
    for isa in TIERS["tier1"]:
        source = shared.dist("hello", isa.name)
    dist = tmp_path_factory.mktemp("hello") / "dist"
    shutil.copytree(source, dist)
    return dist


@pytest.fixture(scope="session")
def busybox_minimal_dist(shared) -> Path:
    """BusyBox minimal built and verified for all four ISAs, once for the run."""
    for isa in TIERS["tier1"]:
        dist = shared.dist("busybox", isa.name, config="minimal")
    return dist


def invoke(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = 1800):
    """The invoke command line, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(ROOT), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
