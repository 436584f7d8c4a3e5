"""Toolchain manifests (`toolchains/*.toml`, or MUSLTOOL_TOOLCHAINS_DIR): each names a toolchain
and its `family`, the provider that reads the rest of it (musltool.toolchain's table)."""

from __future__ import annotations

import tomllib
from typing import Any

from musltool import settings


def manifests(family: str | None = None) -> dict[str, dict[str, Any]]:
    """Every manifest by toolchain name (the lock file of recorded hashes aside), or those of
    one family. A manifest with no family describes a GCC archive."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(settings.toolchains_dir().glob("*.toml")):
        if path == settings.lock_file():
            continue
        data = tomllib.loads(path.read_text())
        if family is None or data.get("family", "archive") == family:
            found[data["name"]] = data
    return found


def names(family: str) -> list[str]:
    return list(manifests(family))
