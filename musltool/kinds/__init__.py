"""Recipe kinds, and their registry: a kind is a Builder subclass in a module (or package) of
its own; a new kind is that file and one row in KINDS. Nothing outside a kind's module names
it: tasks read the options and actions a kind offers from here."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from musltool.kinds.base import Builder
from musltool.kinds.busybox.kind import BusyboxBuilder
from musltool.kinds.c import CBuilder
from musltool.kinds.command import CommandBuilder
from musltool.recipes import Recipe

KINDS: dict[str, type[Builder]] = {builder.kind: builder for builder in (CBuilder, CommandBuilder, BusyboxBuilder)}


def builder_class(recipe: Recipe) -> type[Builder]:
    return KINDS[recipe.kind]


def kind_options() -> dict[str, tuple[Any, str]]:
    """Every option some kind takes: name -> (its command-line default, its help)."""
    found: dict[str, tuple[Any, str]] = {}
    for builder in KINDS.values():
        for option in dataclasses.fields(builder.Options):
            default = "" if isinstance(option.default, tuple) else option.default
            found.setdefault(option.name, (default, option.metadata.get("help", "")))
    return found


def kind_actions() -> dict[str, tuple[str, Callable[..., list[str]], str]]:
    """Options that do something else than a build: name -> (help, what runs, kind)."""
    return {name: (help, run, builder.kind) for builder in KINDS.values() for name, (help, run) in builder.actions.items()}
