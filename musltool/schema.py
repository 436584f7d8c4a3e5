"""A small checker for declarative TOML data (recipes, toolchain manifests).

Each problem is one line naming the file and the key. Written here rather than taken from
jsonschema because its messages are long and generic, and the rules needed are few: types,
required keys, unknown keys, lists of a type, nested tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from musltool.errors import UsageError


@dataclass(frozen=True)
class Key:
    kind: type | tuple[type, ...]
    required: bool = False
    items: type | Table | None = None  # for lists: the type of each item, or a table schema
    values: Table | None = None  # for tables of tables ([versions."1.0"]): each value's schema
    check: Callable[[Any], str | None] | None = None  # returns a problem, or None
    help: str = ""


@dataclass(frozen=True)
class Table:
    keys: dict[str, Key] = field(default_factory=dict)
    open: bool = False  # unknown keys allowed


TYPE_NAMES = {str: "text", int: "an integer", bool: "true or false", list: "a list", dict: "a table"}


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(TYPE_NAMES.get(k, k.__name__) for k in kinds)


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        return False  # TOML true is not an integer here
    return isinstance(value, kind)


def problems(data: Any, schema: Table, where: str = "") -> list[str]:
    """Every way `data` breaks `schema`, each as 'key.path: what is wrong'."""
    if not isinstance(data, dict):
        return [f"{where or 'top level'}: must be a table"]
    found: list[str] = []
    prefix = f"{where}." if where else ""
    for name, key in schema.keys.items():
        if name not in data:
            if key.required:
                found.append(f"{prefix}{name}: missing (required)")
            continue
        found += _value_problems(data[name], key, f"{prefix}{name}")
    if not schema.open:
        for name in data:
            if name not in schema.keys:
                known = ", ".join(schema.keys) or "none"
                found.append(f"{prefix}{name}: unknown key (known: {known})")
    return found


def _value_problems(value: Any, key: Key, where: str) -> list[str]:
    if not _is(value, key.kind):
        return [f"{where}: must be {_type_name(key.kind)}, not {type(value).__name__} {value!r}"]
    found: list[str] = []
    if isinstance(value, list) and key.items is not None:
        for index, item in enumerate(value):
            if isinstance(key.items, Table):
                found += problems(item, key.items, f"{where}[{index}]")
            elif not _is(item, key.items):
                found.append(f"{where}[{index}]: must be {_type_name(key.items)}, not {item!r}")
    if isinstance(value, dict) and key.values is not None:
        for name, item in value.items():
            found += problems(item, key.values, f"{where}.{name}")
    if not found and key.check is not None:
        problem = key.check(value)
        if problem:
            found.append(f"{where}: {problem}")
    return found


def require(data: Any, schema: Table, source: str, where: str = "") -> None:
    """Raise one UsageError naming the file and the first problem (and how many more)."""
    found = problems(data, schema, where)
    if found:
        more = f" (and {len(found) - 1} more problem{'s' if len(found) > 2 else ''})" if len(found) > 1 else ""
        raise UsageError(f"{source}: {found[0]}{more}")
