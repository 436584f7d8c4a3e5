"""The zig compiler from the ziglang wheel: where it is, its version, its cache folders."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from musltool.cache import cache_dir


def zig_version() -> str:
    return metadata.version("ziglang")


def zig_executable() -> str:
    import ziglang

    return str(Path(ziglang.__file__).parent / "zig")


def zig_cache_dir() -> Path:
    return cache_dir() / "zig-cache"


def zig_environment() -> dict[str, str]:
    """zig's caches in musltool's cache: shared by every build, checkout and ISA."""
    cache = str(zig_cache_dir())
    return {"ZIG_GLOBAL_CACHE_DIR": cache, "ZIG_LOCAL_CACHE_DIR": cache}
