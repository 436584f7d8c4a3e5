"""Where things live and what the environment says: data folders, the cache, mirrors, time."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from musltool.errors import UsageError

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


def _data_dir(name: str) -> Path:
    """Built-in data (recipes, toolchain manifests): inside the installed package when it was
    installed from a wheel, else the checkout's top-level folder."""
    packaged = PACKAGE_DIR / f"builtin_{name}"
    return packaged if packaged.is_dir() else PROJECT_ROOT / name


def recipes_dir() -> Path:
    """musltool's own recipes (the first folder on the recipe search path)."""
    return _data_dir("recipes")


def builtin_toolchains_dir() -> Path:
    return _data_dir("toolchains")


def toolchains_dir() -> Path:
    """GCC toolchain archive manifests: musltool's own, or MUSLTOOL_TOOLCHAINS_DIR."""
    return Path(os.environ.get("MUSLTOOL_TOOLCHAINS_DIR") or builtin_toolchains_dir())


def lock_file() -> Path:
    """Where hashes recorded on first use go: beside the manifests in a checkout or a folder
    given by MUSLTOOL_TOOLCHAINS_DIR, else in the user's config folder."""
    folder = toolchains_dir()
    if folder == PACKAGE_DIR / "builtin_toolchains":
        folder = Path(platformdirs.user_config_dir("musltool"))
    return folder / "lock.toml"


CACHE_MARKER = ".musltool-cache"  # says a folder is musltool's cache: `clean --cache` may remove it
CACHE_PARTS = ("downloads", "src", "work", "zig-cache", "toolchains", "tools", "logs", "dockerd.log")


def cache_dir() -> Path:
    """MUSLTOOL_CACHE if set, else the platform's user cache folder; created if missing."""
    configured = os.environ.get("MUSLTOOL_CACHE")
    path = Path(configured) if configured else Path(platformdirs.user_cache_dir("musltool"))
    try:
        path.mkdir(parents=True, exist_ok=True)
        marker = path / CACHE_MARKER
        if not marker.is_file() and all(p.name in CACHE_PARTS for p in path.iterdir()):
            marker.write_text("musltool cache\n")
    except (FileExistsError, NotADirectoryError) as exc:
        raise UsageError(f"cache folder {path} (MUSLTOOL_CACHE) is not a folder") from exc
    except OSError as exc:
        raise UsageError(f"cache folder {path} (MUSLTOOL_CACHE) cannot be used: {exc.strerror}") from exc
    return path.resolve()


def is_cache(path: Path) -> bool:
    return (path / CACHE_MARKER).is_file()


def offline() -> bool:
    return os.environ.get("MUSLTOOL_OFFLINE", "") not in ("", "0", "false", "no")


def env_mirrors() -> list[str]:
    """Mirrors from MUSLTOOL_MIRRORS: whitespace- or comma-separated base URLs."""
    raw = os.environ.get("MUSLTOOL_MIRRORS", "")
    return [m for m in raw.replace(",", " ").split() if m]


def source_date_epoch() -> int:
    """The fixed timestamp for reproducible outputs (SOURCE_DATE_EPOCH, default 0)."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "0").strip() or "0"
    if not raw.isdigit():
        raise UsageError(f"SOURCE_DATE_EPOCH={raw!r} is not a number of seconds since 1970")
    return int(raw)
