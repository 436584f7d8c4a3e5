"""The Builder interface every recipe kind implements, and the options a build takes.

A kind (c, command, busybox ...) is a Builder subclass registered in `musltool.catalog`. It
says which recipe keys and which command-line options it understands, checks them before any
work, compiles into a stable work folder, says what the emulated program sees and verifies it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from musltool.errors import UsageError
from musltool.fetch import FetchOptions, fetch_options
from musltool.filetree import Tree
from musltool.isa import Isa
from musltool.process import run
from musltool.recipes import Recipe
from musltool.report import TestResult
from musltool.runners import Session
from musltool.schema import Key
from musltool.toolchain.base import Toolchain
from musltool.verify import run_smoke_tests


@dataclass(frozen=True)
class BuildOptions:
    toolchain: str = "zig"
    runner: str = "auto"
    dist: Path = Path("dist")
    force: bool = False
    version: str | None = None  # one of the recipe's [versions], where it has several
    fetch: FetchOptions = field(default_factory=fetch_options)
    # Options only some kinds take (BusyBox: config, applets, fragment), by option name.
    kind_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Built:
    """What a builder made: the binary, files installed beside it, and how it was made."""

    binary: Path
    version: str
    companions: dict[str, Path] = field(default_factory=dict)  # installed and packaged with it
    programs: dict[str, Path] = field(default_factory=dict)  # more executables, checked like binary
    flags: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    installed: Path | None = None  # a library's headers, archives and .pc files (usr/...)


class Builder(ABC):
    """Turns one recipe into a static binary for one ISA and knows how to verify it."""

    kind: ClassVar[str]
    # Recipe keys this kind adds to the common ones, and its [build] table's keys.
    recipe_keys: ClassVar[dict[str, Key]] = {}
    build_keys: ClassVar[dict[str, Key]] = {}
    # Command-line options only this kind takes: option name -> what it means.
    option_help: ClassVar[dict[str, str]] = {}
    # Whether the recipe's [[verify]] list is how this kind is verified (then it must hold runs).
    verified_by_recipe_runs: ClassVar[bool] = True

    def __init__(self, recipe: Recipe, isa: Isa, toolchain: Toolchain, options: BuildOptions):
        self.recipe = recipe
        self.isa = isa
        self.toolchain = toolchain
        self.options = options
        # The libraries this recipe depends on, transitively, each before those needing it;
        # the sysroot holding them is set once they are built.
        self.dependencies: list[Builder] = []
        self.sysroot: Path | None = None

    @classmethod
    def check_recipe(cls, recipe: Recipe, source: str) -> None:
        """Problems the schema cannot see (files that must exist ...): one UsageError."""
        if cls.verified_by_recipe_runs and not recipe.smoke:
            raise UsageError(f"{source}: verify: no [[verify]] runs: an unverified recipe proves nothing")
        programs = {recipe.binary, *cls.program_names(recipe)}
        for test in recipe.smoke:
            if test.program and test.program not in programs:
                raise UsageError(f"{source}: verify: {test.name}: program {test.program!r} is not built "
                                 f"(programs: {', '.join(sorted(programs))})")  # fmt: skip
        files = recipe.data.get("verify_files", [])
        missing = [name for name in files if recipe.folder is None or not (recipe.folder / name).is_file()]
        if missing:
            raise UsageError(f"{source}: verify_files: not found in the recipe folder: {', '.join(missing)}")

    @classmethod
    def program_names(cls, recipe: Recipe) -> list[str]:
        """Programs the build makes besides the recipe's binary (a [[verify]] run may pick one)."""
        return []

    @classmethod
    def check_options(cls, recipe: Recipe, kind_options: Mapping[str, Any]) -> None:
        """Refuse options this kind does not take, before any work."""
        given = [name for name, value in kind_options.items() if value]
        unknown = [name for name in given if name not in cls.option_help]
        if unknown:
            flags = ", ".join(f"--{n.replace('_', '-')}" for n in unknown)
            taken = ", ".join(f"--{n}" for n in cls.option_help) or "none of the kind options"
            raise UsageError(f"{flags}: not an option for {recipe.name} ({cls.kind} recipes take {taken})")

    @property
    def version(self) -> str:
        """The version this build makes."""
        return self.recipe.version_source(self.options.version)[0]

    def inputs(self) -> dict[str, Any]:
        """Everything besides recipe and toolchain that changes the output."""
        return {"version": self.version}

    def work_key(self) -> dict[str, Any]:
        """What names this build's work folder in the cache. The same key gives the same
        folder, so compiler arguments repeat and zig's cache (or make) reuses objects."""
        return {
            "recipe": self.recipe.name,
            "isa": self.isa.name,
            "toolchain": self.toolchain.identity(),
            "inputs": self.inputs(),
        }

    @abstractmethod
    def compile(self, workdir: Path) -> Built: ...

    def session_files(self, built: Built) -> Tree:
        """What the emulated program sees: by default the binary alone."""
        tree = Tree()
        tree.add_file(self.recipe.binary, built.binary.read_bytes(), 0o755)
        for name, path in built.programs.items():
            tree.add_file(name, path.read_bytes(), 0o755)
        names = self.recipe.data.get("verify_files", [])
        for folder in sorted({str(parent) for name in names for parent in Path(name).parents} - {"."}):
            tree.add_dir(folder)
        for name in names:
            tree.add_file(name, (self.recipe.folder / name).read_bytes(), 0o644)
        return tree

    def session_private(self) -> tuple[str, ...]:
        """Folders the verification may write to where the session is isolated (/etc ...)."""
        return ()

    def session_dns(self) -> dict[str, str]:
        """Names a resolver in the session answers (name -> IPv4), from [verify_dns]."""
        return dict(self.recipe.data.get("verify_dns", {}))

    def verify(self, session: Session, built: Built) -> list[TestResult]:
        return run_smoke_tests(session, self.recipe.binary, self.recipe.smoke)

    def strip(self, binary: Path) -> None:
        run([self.toolchain.tool("strip"), binary], what=f"strip {binary.name}")


def prefix_map_flags(*folders: Path) -> list[str]:
    """Flags that keep build folders out of the binary (reproducible from any checkout)."""
    return [f"-ffile-prefix-map={folder}=." for folder in sorted(set(folders))]
