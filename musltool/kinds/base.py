"""The Builder interface every recipe kind implements, and the options a build takes.

A kind is a Builder subclass registered in `musltool.kinds`. It says which recipe keys it
understands and which command-line options it takes (a frozen dataclass of its own, each field
with its help), checks them before any work, compiles into a stable work folder, says what the
emulated program sees and verifies it.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from musltool.errors import UsageError
from musltool.fetch import FetchOptions, fetch_options
from musltool.filetree import Tree
from musltool.isa import Isa
from musltool.process import run
from musltool.recipes import Recipe
from musltool.report import BuildReport, TestResult
from musltool.runners import Session
from musltool.schema import Key
from musltool.toolchain.base import Toolchain
from musltool.verify import run_verify_runs


@dataclass(frozen=True)
class BuildOptions:
    toolchain: str = "zig"
    runner: str = "auto"
    dist: Path = Path("dist")
    force: bool = False
    version: str | None = None  # one of the recipe's [versions], where it has several
    fetch: FetchOptions = field(default_factory=fetch_options)
    # Options only some kinds take, as given (option name -> value); the kind reads them into
    # its own typed Options.
    kind_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SuiteRun:
    """A suite a booted system runs on its console: what it is called, the records' source,
    the command typed, and the mark its last line prints."""

    label: str
    source: str
    command: str
    end: str


@dataclass(frozen=True)
class NoOptions:
    """A kind that takes no options of its own."""


def option(default: Any, help: str, evidence: bool = False) -> Any:
    """A field of a kind's Options: its default and what it means (the task's --help).
    `evidence`: it asks for more verification and leaves the binary as it is."""
    return field(default=default, metadata={"help": help, "evidence": evidence})


def read_options(options_class: type, given: Mapping[str, Any], recipe: str, kind: str) -> Any:
    """The kind's Options from the values given; an option given that the kind does not take is
    one UsageError. A comma list becomes a tuple where the field is one."""
    fields = {f.name: f for f in dataclasses.fields(options_class)}
    unknown = [name for name, value in given.items() if value and name not in fields]
    if unknown:
        flags = ", ".join(f"--{n.replace('_', '-')}" for n in unknown)
        taken = ", ".join(f"--{n.replace('_', '-')}" for n in fields) or "none of the kind options"
        raise UsageError(f"{flags}: not an option for {recipe} ({kind} recipes take {taken})")
    values = {}
    for name, value in given.items():
        if name in fields and value:
            default = fields[name].default
            if isinstance(default, tuple) and isinstance(value, str):
                value = tuple(part.strip() for part in value.split(",") if part.strip())
            values[name] = tuple(value) if isinstance(default, tuple) else value
    return options_class(**values)


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
    # Command-line options only this kind takes: a frozen dataclass, each field made with
    # `option(default, help)`.
    Options: ClassVar[type] = NoOptions
    # Options that do something else than build and exit (option name -> help, and what runs:
    # (recipe, version, fetch options) -> lines to print).
    actions: ClassVar[dict[str, tuple[str, Callable[..., list[str]]]]] = {}
    # Whether the recipe's [[verify]] list is how this kind is verified (then it must hold runs).
    verified_by_recipe_runs: ClassVar[bool] = True

    def __init__(self, recipe: Recipe, isa: Isa, toolchain: Toolchain, options: BuildOptions):
        self.recipe = recipe
        self.isa = isa
        self.toolchain = toolchain
        self.options = options
        self.kind_options = read_options(self.Options, options.kind_options, recipe.name, self.kind)
        # The libraries this recipe depends on, transitively, each before those needing it;
        # the sysroot holding them is set once they are built.
        self.dependencies: list[Builder] = []
        self.sysroot: Path | None = None

    @classmethod
    def check_recipe(cls, recipe: Recipe, source: str) -> None:
        """Problems the schema cannot see (files that must exist ...): one UsageError."""
        if cls.verified_by_recipe_runs and not recipe.runs:
            raise UsageError(f"{source}: verify: no [[verify]] runs: an unverified recipe proves nothing")
        programs = {recipe.binary, *cls.program_names(recipe)}
        for test in recipe.runs:
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
        read_options(cls.Options, kind_options, recipe.name, cls.kind)

    @property
    def version(self) -> str:
        """The version this build makes."""
        return self.recipe.version_source(self.options.version)[0]

    def inputs(self) -> dict[str, Any]:
        """Everything besides recipe and toolchain that changes the output."""
        return {"version": self.version}

    def extra_evidence(self) -> dict[str, bool]:
        """The options asking for verification beyond the default that leave the binary as it
        is (a source's own testsuite): kept out of the fingerprint and recorded in the report's
        details, so a build verified with more serves a later request for less."""
        fields = dataclasses.fields(self.kind_options) if dataclasses.is_dataclass(self.kind_options) else ()
        return {f.name: bool(getattr(self.kind_options, f.name)) for f in fields if f.metadata.get("evidence")}

    def serves(self, report: BuildReport) -> bool:
        """Whether a current build's report has every extra evidence this build asks for."""
        done = report.details.get("extra_evidence")
        done = done if isinstance(done, dict) else {}
        return all(done.get(name) is True for name, asked in self.extra_evidence().items() if asked)

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
        return run_verify_runs(session, self.recipe.binary, self.recipe.runs)

    # -- a kind whose builds are whole systems: a root filesystem that boots (firmware, images)

    # What a build must hold to boot to a login prompt.
    boot_needs: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def root_tree(cls, report: BuildReport, binary: bytes) -> Tree:
        """The root filesystem of a verified build."""
        raise UsageError(f"{report.recipe} is a {cls.kind} build, a program: it makes no root filesystem")

    @classmethod
    def system_files(cls, recipe: Recipe, share: str) -> Tree:
        """What a booted system needs besides the root filesystem (init's configuration, the
        suites at `share`)."""
        raise UsageError(f"{recipe.name} makes no bootable system")

    @classmethod
    def boot_suites(cls, share: str, isa: Isa) -> list[SuiteRun]:
        """The suites a booted system runs, in order (the first one always)."""
        return []

    @classmethod
    def proven_parts(cls, report: BuildReport) -> set[str]:
        """What the build's own verification proved with a known answer (a kind's parts)."""
        return set()

    def headline(self, results: list[TestResult], built: Built) -> str:
        """A line leading the verification table: what was proven, of what ("" for none)."""
        return ""

    def strip(self, binary: Path) -> None:
        run([self.toolchain.tool("strip"), binary], what=f"strip {binary.name}")


def prefix_map_flags(*folders: Path) -> list[str]:
    """Flags that keep build folders out of the binary (reproducible from any checkout)."""
    return [f"-ffile-prefix-map={folder}=." for folder in sorted(set(folders))]
