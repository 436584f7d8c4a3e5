"""What a BusyBox build is configured from: its options, the base config they ask for, and the
recipe's fixups (data with the reason each exists)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musltool.errors import UsageError
from musltool.kconfig import read_config_file
from musltool.kinds.base import option
from musltool.recipes import Recipe
from musltool.schema import Key, Table

BUILTIN_CONFIGS = ("defconfig",)

FIXUP = Table(
    {
        "reason": Key(str, required=True),
        "versions": Key(list, items=str),
        "isas": Key(list, items=str),
        "except_isas": Key(list, items=str),
        "compilers": Key(list, items=str),
        "enable": Key(list, items=str),
        "disable": Key(list, items=str),
        "extra_cflags": Key(list, items=str),
    }
)
PRESET = Table({"applets": Key(list, required=True, items=str), "fragment": Key(list, items=str)})


@dataclass(frozen=True)
class Fixup:
    reason: str
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    extra_cflags: tuple[str, ...] = ()

    def values(self) -> dict[str, str]:
        return {**{s: "y" for s in self.enable}, **{s: "n" for s in self.disable}}


def applicable_fixups(data: dict[str, Any], version: str, isa: str, compiler: str) -> list[Fixup]:
    """The recipe's fixups whose version / ISA / compiler-family (gcc, clang) limits match."""
    chosen = []
    for entry in data.get("fixups", []):
        limits = (("versions", version), ("isas", isa), ("compilers", compiler))
        if all(value in entry.get(key, [value]) for key, value in limits) and isa not in entry.get("except_isas", []):
            chosen.append(
                Fixup(
                    entry["reason"],
                    tuple(entry.get("enable", [])),
                    tuple(entry.get("disable", [])),
                    tuple(entry.get("extra_cflags", [])),
                )
            )
    return chosen


@dataclass(frozen=True)
class BaseConfig:
    """Where a build's .config starts: a make target, a user's file, or a set of applets
    (from allnoconfig) with a fragment."""

    target: str | None = None
    text: str | None = None
    applets: tuple[str, ...] = ()
    fragment: tuple[str, ...] = ()

    def as_input(self) -> dict[str, Any]:
        if self.target:
            return {"make": self.target}
        if self.text is not None:
            return {"file": self.text}
        return {"applets": sorted(self.applets), "fragment": list(self.fragment)}


@dataclass(frozen=True)
class BusyboxOptions:
    """The options only BusyBox recipes take (`invoke build --recipe busybox ...`)."""

    config: str = option("", "BusyBox base config: defconfig, minimal, or a path to a .config")
    applets: tuple[str, ...] = option((), "BusyBox: build exactly these applets (comma list) from allnoconfig")
    fragment: str = option("", "BusyBox: a config fragment merged over the base config")
    upstream_tests: bool = option(False, "BusyBox: also run the testsuite/ shipped in its source against the "
                                         "build (under emulation, sandboxed)", evidence=True)  # fmt: skip
    knock_out: bool = option(False, "BusyBox: run every check again with its applet replaced by stand-ins "
                                    "(exits 0, exits 1, echoes): a check that still passes proves nothing")  # fmt: skip


def base_config(recipe: Recipe, options: BusyboxOptions) -> BaseConfig:
    """The base config the options ask for, checked before any work."""
    if options.applets:
        if options.config:
            raise UsageError("give --config or --applets, not both")
        # Usage text, so that every applet has at least usage evidence when no test reaches it.
        return BaseConfig(applets=options.applets, fragment=("CONFIG_SHOW_USAGE=y",))
    name = options.config or "defconfig"
    if name in BUILTIN_CONFIGS:
        return BaseConfig(target=name)
    presets = recipe.data.get("configs", {})
    if name in presets:
        return BaseConfig(applets=tuple(presets[name]["applets"]), fragment=tuple(presets[name].get("fragment", [])))
    path = Path(name)
    if not path.is_file():
        known = ", ".join([*BUILTIN_CONFIGS, *presets])
        raise UsageError(f"BusyBox config {name!r} is neither a file nor one of: {known}")
    return BaseConfig(text=read_config_file(path, "--config"))
