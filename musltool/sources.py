"""Upstream sources for recipes: fetched through the download layer (pinned hash), extracted
safely into the cache, with the recipe's patches applied, once per (source, patches).

A recipe's patches are data: `[[patches]]` with the file, the versions it applies to and the
reason it exists. A patch that does not apply is an error, never silently skipped.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musltool.cache import cache_dir
from musltool.errors import BuildError
from musltool.extract import FIND_TOP, extract
from musltool.fetch import FetchOptions, Source, fetch
from musltool.files import COMPLETE_MARKER, made_once
from musltool.process import run
from musltool.schema import Key, Table

PATCH = Table(
    {
        "file": Key(str, required=True),
        "reason": Key(str, required=True),
        "versions": Key(list, items=str),
    }
)


@dataclass(frozen=True)
class Patch:
    path: Path
    reason: str

    def digest(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def patches_for(data: dict[str, Any], folder: Path, version: str) -> list[Patch]:
    """The recipe's patches that apply to `version`, in the order listed."""
    return [
        Patch(folder / entry["file"], entry["reason"])
        for entry in data.get("patches", [])
        if version in entry.get("versions", [version])
    ]


def missing_patch_files(data: dict[str, Any], folder: Path) -> list[str]:
    return [e["file"] for e in data.get("patches", []) if not (folder / e["file"]).is_file()]


def prepared_source(
    name: str, version: str, source: Source, patches: list[Patch], options: FetchOptions
) -> Path:
    """The extracted source tree of `name` `version` with `patches` applied (cached)."""
    archive = fetch(source, options)
    key = hashlib.sha256("".join(p.digest() for p in patches).encode()).hexdigest()[:12]
    base = f"{name}-{version}-{source.sha256[:12]}"
    top = FIND_TOP if source.top is None else source.top
    pristine = extract(archive, cache_dir() / "src" / base, strip_top=top)
    if not patches:
        return pristine
    dest = cache_dir() / "src" / f"{base}-patched-{key}"
    with made_once(dest, f"{archive.name} + {len(patches)} patches\n") as stage:
        if stage is not None:
            shutil.copytree(pristine, stage, symlinks=True, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(COMPLETE_MARKER))  # fmt: skip
            for patch in patches:
                run(
                    ["patch", "-p1", "--forward", "--batch", "--no-backup-if-mismatch", "-i", patch.path],
                    cwd=stage,
                    error=BuildError,
                    what=f"applying {patch.path.name} to {name} {version}",
                )
    return dest
