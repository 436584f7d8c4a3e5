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


def offline() -> bool:
    return os.environ.get("MUSLTOOL_OFFLINE", "") not in ("", "0", "false", "no")


def env_mirrors() -> list[str]:
    """Mirrors from MUSLTOOL_MIRRORS: whitespace- or comma-separated base URLs."""
    raw = os.environ.get("MUSLTOOL_MIRRORS", "")
    return [m for m in raw.replace(",", " ").split() if m]


# cpio (8 hex digits), ext4 and ustar hold times up to 2^32 - 1 (the year 2106).
EPOCH_MAX = 2**32 - 1


def source_date_epoch() -> int:
    """The fixed timestamp for reproducible outputs (SOURCE_DATE_EPOCH, default 0)."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "0").strip() or "0"
    if not raw.isdigit():
        raise UsageError(f"SOURCE_DATE_EPOCH={raw!r} is not a number of seconds since 1970")
    if int(raw) > EPOCH_MAX:
        raise UsageError(f"SOURCE_DATE_EPOCH={raw} is past {EPOCH_MAX}, the last second a cpio, ext4 or tar "
                         "image can hold")  # fmt: skip
    return int(raw)
