"""Recipes built against libraries: the order `depends` asks for, each library's installed
files kept in the cache, and the per-ISA sysroot a dependent is built against.

A library's files are kept per fingerprint (recipe, version, ISA, toolchain, its own
dependencies), so a second dependent reuses them; a sysroot is the union of a dependent's
libraries, keyed by the ISA, the toolchain and each library's name, version and fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

from musltool.cache import cache_dir
from musltool.errors import BuildError, UsageError
from musltool.files import COMPLETE_MARKER, made_once
from musltool.recipes import Recipe


def dependency_order(recipe: Recipe, load: Callable[[str], Recipe]) -> list[Recipe]:
    """Every recipe `recipe` depends on, transitively, each one before those that need it.
    An unknown recipe, one that installs no library, or a cycle is a UsageError (exit 2)."""
    order: list[Recipe] = []

    def visit(current: Recipe, chain: tuple[str, ...]) -> None:
        for name in current.depends:
            if name in chain:
                raise UsageError(f"dependency cycle: {' -> '.join((*chain[chain.index(name):], name))}")
            if any(done.name == name for done in order):
                continue
            dependency = _load_dependency(current, name, load)
            visit(dependency, (*chain, name))
            order.append(dependency)

    visit(recipe, (recipe.name,))
    return order


def _load_dependency(dependent: Recipe, name: str, load: Callable[[str], Recipe]) -> Recipe:
    if "/" in name or name.startswith("."):
        raise UsageError(f"{dependent.name}: depends: {name!r} is not a recipe name")
    try:
        recipe = load(name)
    except UsageError as exc:
        raise UsageError(f"{dependent.name}: depends: {exc}") from exc
    if not recipe.data.get("build", {}).get("install"):
        raise UsageError(f"{dependent.name}: depends: {name} installs no library (its recipe has no build.install)")
    return recipe


def library_files(name: str, isa: str, fingerprint: str) -> Path:
    """Where a built library's files are kept: one folder per library build."""
    return cache_dir() / "sysroot" / "libraries" / f"{name}-{isa}-{fingerprint[:16]}"


def keep_library(name: str, isa: str, fingerprint: str, installed: Path) -> Path:
    """Copy a verified library's installed files into the cache (replacing a partial copy)."""
    dest = library_files(name, isa, fingerprint)
    with made_once(dest, f"{name} {fingerprint}\n") as stage:
        if stage is not None:
            shutil.copytree(installed, stage, symlinks=True, dirs_exist_ok=True)
    return dest


def sysroot_key(isa: str, toolchain: dict[str, str], libraries: list[tuple[str, str, str]]) -> str:
    """libraries: (name, version, fingerprint) of each library in the sysroot."""
    parts = {"isa": isa, "toolchain": toolchain, "libraries": sorted(libraries)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def assemble_sysroot(isa: str, key: str, folders: list[Path]) -> Path:
    """One folder holding every library's files (usr/include, usr/lib ...), made once per key.
    Two libraries installing the same path with different bytes is an error."""
    dest = cache_dir() / "sysroot" / f"{isa}-{key}"
    with made_once(dest, "\n".join(f.name for f in folders) + "\n") as stage:
        if stage is None:
            return dest
        owners: dict[Path, Path] = {}
        for folder in folders:
            for path in sorted(folder.rglob("*")):
                relative = path.relative_to(folder)
                if path.is_dir() or relative.name == COMPLETE_MARKER:
                    continue
                target = stage / relative
                if relative in owners and target.read_bytes() != path.read_bytes():
                    raise BuildError(f"sysroot: {relative} is installed differently by "
                                     f"{owners[relative].name} and {folder.name}")  # fmt: skip
                owners[relative] = folder
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target, follow_symlinks=False)
    return dest
