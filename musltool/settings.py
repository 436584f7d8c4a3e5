"""Where things live: the project's data folders, the cache and the output folder."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RECIPES_DIR = PROJECT_ROOT / "recipes"
TOOLCHAINS_DIR = PROJECT_ROOT / "toolchains"


def toolchains_dir() -> Path:
    """Toolchain manifests: toolchains/ in the project, or MUSLTOOL_TOOLCHAINS_DIR."""
    return Path(os.environ.get("MUSLTOOL_TOOLCHAINS_DIR") or TOOLCHAINS_DIR)


def cache_dir() -> Path:
    """MUSLTOOL_CACHE if set, else the platform's user cache folder."""
    configured = os.environ.get("MUSLTOOL_CACHE")
    path = Path(configured) if configured else Path(platformdirs.user_cache_dir("musltool"))
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def offline() -> bool:
    return os.environ.get("MUSLTOOL_OFFLINE", "") not in ("", "0", "false", "no")


def env_mirrors() -> list[str]:
    """Mirrors from MUSLTOOL_MIRRORS: whitespace- or comma-separated base URLs."""
    raw = os.environ.get("MUSLTOOL_MIRRORS", "")
    return [m for m in raw.replace(",", " ").split() if m]


def source_date_epoch() -> int:
    """The fixed timestamp for reproducible outputs (SOURCE_DATE_EPOCH, default 0)."""
    return int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
