"""The recipe catalog: finding, checking and loading recipes (the kinds are in musltool.kinds).

Recipes are looked up by name on a search path: musltool's built-in recipes, then
`./recipes` in the current folder; `--recipe` may also name a folder holding a recipe.toml.
Every recipe is checked against the common keys and its kind's keys before any work.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path

from musltool import settings
from musltool.errors import UsageError
from musltool.kinds import KINDS
from musltool.kinds.base import Builder
from musltool.recipes import COMMON_KEYS, Recipe, recipe_from_data
from musltool.schema import Key, Table, require

RECIPE_FILE = "recipe.toml"
__all__ = ["load_recipe", "recipe_names"]


def search_path() -> list[Path]:
    """Folders whose sub-folders are recipes: built-in first, then ./recipes."""
    folders = [settings.recipes_dir(), Path.cwd() / "recipes"]
    unique: list[Path] = []
    for folder in folders:
        if folder.is_dir() and folder.resolve() not in [u.resolve() for u in unique]:
            unique.append(folder)
    return unique


def recipe_names() -> list[str]:
    names = {p.parent.name for folder in search_path() for p in folder.glob(f"*/{RECIPE_FILE}")}
    return sorted(names)


def find_recipe(name: str) -> Path:
    """The recipe.toml for a name on the search path, or a folder given as a path."""
    given = Path(name).expanduser()
    if "/" in name or name.startswith("."):
        path = given / RECIPE_FILE if given.is_dir() else given
        if path.name != RECIPE_FILE or not path.is_file():
            raise UsageError(f"--recipe {name}: no {RECIPE_FILE} there")
        return path
    for folder in search_path():
        path = folder / name / RECIPE_FILE
        if path.is_file():
            return path
    known = recipe_names()
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise UsageError(f"unknown recipe {name!r}{hint}; known: {', '.join(known)}, or a folder path")


def recipe_schema(kind: type[Builder]) -> Table:
    keys = dict(COMMON_KEYS)
    keys["build"] = Key(dict, required=bool(kind.build_keys), values=None)
    keys.update(kind.recipe_keys)
    return Table(keys)


def load_recipe(name: str) -> Recipe:
    """A checked recipe by name or folder; any problem is one line naming file and key."""
    path = find_recipe(name)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from exc
    kind_name = data.get("kind")
    if kind_name not in KINDS:
        raise UsageError(f"{path}: kind: must be one of {', '.join(KINDS)}, not {kind_name!r}")
    kind = KINDS[kind_name]
    require(data, recipe_schema(kind), str(path))
    if kind.build_keys:
        require(data.get("build", {}), Table(kind.build_keys), str(path), where="build")
    recipe = recipe_from_data(data, path.parent.resolve())
    kind.check_recipe(recipe, str(path))
    return recipe
