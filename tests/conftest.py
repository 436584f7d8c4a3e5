"""Shared test setup: one musltool cache for the whole run, and the source mirror if any."""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MIRROR = ROOT.parent / "shared" / "mirror"

# One cache for every test (zig's libc builds are the slow part); CI may point it elsewhere.
os.environ.setdefault("MUSLTOOL_CACHE", str(ROOT / ".cache" / "test"))
os.environ.pop("MUSLTOOL_OFFLINE", None)
os.environ.pop("MUSLTOOL_MIRRORS", None)


def pytest_configure(config):
    """With MUSLTOOL_TEST_BUILDS (shared builds kept between runs), the run's first process
    tells their key once: its xdist workers start later and inherit it."""
    if os.environ.get("MUSLTOOL_TEST_BUILDS") and not os.environ.get("PYTEST_XDIST_WORKER"):
        from tests.integration.kept_builds import KEY_VARIABLE, run_key

        os.environ[KEY_VARIABLE] = run_key(ROOT) or ""


def mirror_folder() -> Path | None:
    """MUSLTOOL_TEST_MIRROR (must exist), else ../shared/mirror if present, else None:
    then sources are fetched from their upstream URLs."""
    configured = os.environ.get("MUSLTOOL_TEST_MIRROR")
    if configured:
        if not (Path(configured) / "SHA256SUMS").is_file():
            raise RuntimeError(f"MUSLTOOL_TEST_MIRROR={configured} holds no SHA256SUMS")
        return Path(configured)
    return DEFAULT_MIRROR if (DEFAULT_MIRROR / "SHA256SUMS").is_file() else None


@pytest.fixture(scope="session")
def mirror_url() -> str | None:
    folder = mirror_folder()
    return folder.as_uri() if folder else None


@pytest.fixture
def with_mirror(mirror_url: str | None, monkeypatch: pytest.MonkeyPatch) -> str | None:
    if mirror_url:
        monkeypatch.setenv("MUSLTOOL_MIRRORS", mirror_url)
    return mirror_url


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty musltool cache for tests about caching itself."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("MUSLTOOL_CACHE", str(cache))
    return cache


# ---------------------------------------------------------------------------- time budget
# MUSLTOOL_TEST_TIMES=FILE: every test (and every shared build, tests/integration/conftest.py)
# appends one JSON line with its wall and CPU seconds; benchmarks/ci_budget.py makes the table
# .ci/run ends with. CPU is this process's and its waited-for children's (qemu-user, zig,
# make); what runs in docker containers belongs to containerd and is not counted.


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def record_time(kind: str, name: str, wall: float, cpu: float) -> None:
    path = os.environ.get("MUSLTOOL_TEST_TIMES")
    if path:
        line = json.dumps({"kind": kind, "name": name, "wall": round(wall, 2), "cpu": round(cpu, 2)}) + "\n"
        with open(path, "a") as handle:  # one short write per line: appends do not interleave
            handle.write(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    wall, cpu = time.monotonic(), cpu_seconds()
    yield
    record_time("test", item.nodeid, time.monotonic() - wall, cpu_seconds() - cpu)
