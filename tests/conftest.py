"""Shared test setup: one musltool cache for the whole run, the shared source mirror."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MIRROR = Path(os.environ.get("MUSLTOOL_TEST_MIRROR", ROOT.parent / "shared" / "mirror"))

# One cache for every test (zig's libc builds are the slow part); CI may point it elsewhere.
os.environ.setdefault("MUSLTOOL_CACHE", str(ROOT / ".cache" / "test"))
os.environ.pop("MUSLTOOL_OFFLINE", None)


@pytest.fixture(scope="session")
def mirror_url() -> str:
    """The loopback-free source mirror (file://) holding BusyBox tarballs. Missing is an error."""
    if not (MIRROR / "SHA256SUMS").is_file():
        raise RuntimeError(f"source mirror not found at {MIRROR} (set MUSLTOOL_TEST_MIRROR)")
    return MIRROR.as_uri()


@pytest.fixture
def with_mirror(mirror_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MUSLTOOL_MIRRORS", mirror_url)
    return mirror_url


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty musltool cache for tests about caching itself."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("MUSLTOOL_CACHE", str(cache))
    return cache
