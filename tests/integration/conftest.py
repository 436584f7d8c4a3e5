"""Integration tests need docker, qemu-user-static and binfmt: missing parts fail, never skip.

Builds are shared: `shared.dist(...)` builds a recipe for an ISA once per test run (across
pytest-xdist workers too, under a lock) and every test that needs that build reads the same
dist folder. A test about building itself uses its own dist folder.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

from musltool.build import build
from musltool.catalog import load_recipe
from musltool.docker import require_docker
from musltool.fetch import fetch_options
from musltool.isa import ISAS, get_isa
from musltool.kinds.base import BuildOptions
from musltool.runners import DockerRunner, QemuRunner

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def host_parts_present():
    """Fails every integration test at once, with the reason, if a host part is missing."""
    require_docker()
    for isa in ISAS:
        DockerRunner().check_ready(isa)
        QemuRunner().check_ready(isa)


def busybox_options(dist: Path, version: str | None = None, runner: str = "auto", **kind) -> BuildOptions:
    return BuildOptions(dist=dist, version=version, runner=runner, kind_options=kind)


class SharedBuilds:
    """Builds made once per test run and read by every test that needs them."""

    def __init__(self, root: Path, mirrors: tuple[str, ...]) -> None:
        self.root = root
        self.mirrors = mirrors

    def dist(self, recipe: str, isa: str, runner: str = "auto", version: str | None = None,
             toolchain: str = "zig", **kind) -> Path:  # fmt: skip
        if recipe == "busybox" and not kind:
            # The default BusyBox build (defconfig) is made once per ISA with BusyBox's own
            # testsuite: the test of that mode and every test needing defconfig read it.
            kind = {"upstream_tests": True}
        parts = [recipe, runner, toolchain, version or "default"]
        parts += [f"{k}-{','.join(v) if isinstance(v, tuple) else v}" for k, v in sorted(kind.items())]
        dist = self.root / re.sub(r"[^A-Za-z0-9.,_-]+", "_", "-".join(parts))
        options = BuildOptions(
            dist=dist,
            runner=runner,
            version=version,
            toolchain=toolchain,
            fetch=fetch_options(list(self.mirrors)),
            kind_options=kind,
        )
        dist.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(dist) + ".lock"):
            build(load_recipe(recipe), get_isa(isa), options)
        return dist

    def report(self, recipe: str, isa: str, **options) -> dict:
        dist = self.dist(recipe, isa, **options)
        binary = load_recipe(recipe).binary
        return json.loads((dist / isa / f"{binary}.json").read_text())


@pytest.fixture(scope="session")
def shared(tmp_path_factory, mirror_url) -> SharedBuilds:
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return SharedBuilds(root / "shared-builds", (mirror_url,) if mirror_url else ())


@pytest.fixture(scope="session")
def busybox_minimal_dist(shared) -> Path:
    """BusyBox minimal built and verified for all four ISAs, once for the run."""
    for isa in ISAS:
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
