"""Recipes: what to build and how to check it, as declarative TOML (`<folder>/recipe.toml`).

This module holds the recipe types and the keys every kind shares; `musltool.catalog` finds
recipes on the search path and checks them against their kind's keys before any work.
"""

from __future__ import annotations

import dataclasses
import hashlib
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from musltool.errors import UsageError
from musltool.fetch import Source
from musltool.files import plain_name_problem
from musltool.isa import Isa
from musltool.schema import Key, Table

ISA_FIELDS = frozenset(f.name for f in dataclasses.fields(Isa))


def plain_file_name(name: str) -> str | None:
    """Why `name` cannot be a binary's file name in dist/<isa>/, or None when it can."""
    problem = plain_name_problem(name)
    if problem:
        return f"{problem.replace('a plain name', 'a plain file name')} (no '/', not '.' or '..', not starting with '-', no glob or control characters)"
    if name.startswith("."):
        return f"{name!r} would be a hidden file"
    return None


def version_problem(version: str) -> str | None:
    """A version becomes part of file names (tarballs, images, logs): a plain name too."""
    problem = plain_name_problem(version)
    return f"version {problem}" if problem else None


def _version_keys(table: dict[str, Any]) -> str | None:
    return next(filter(None, map(version_problem, table)), None)


def require_file_name(name: str, what: str = "binary name") -> str:
    problem = plain_file_name(name)
    if problem:
        raise UsageError(f"{what}: {problem}")
    return name


def placeholders_problem(text: str) -> str | None:
    """Placeholders other than the ISA table's fields ({uname_machine} ...), or bad braces."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        return f"bad placeholder: {exc} (write {{{{ and }}}} for literal braces)"
    unknown = sorted(f for f in fields if f not in ISA_FIELDS)
    if unknown:
        return f"unknown placeholder {{{unknown[0]}}}; known: {', '.join(sorted(ISA_FIELDS))}"
    return None


VERIFY = Table(
    {
        "name": Key(str),
        "program": Key(str, check=plain_file_name),  # another program the build installs
        "args": Key(list, items=str),
        "stdin": Key(str),
        "stdout": Key(str, check=placeholders_problem),
        "exit_code": Key(int, check=lambda v: None if 0 <= v <= 255 else "must be 0..255"),
    }
)
SOURCE = Table({
    "url": Key(str, required=True),
    "sha256": Key(str, required=True),
    # the archive's top folder to build in, when it is not its only top-level entry
    "top": Key(str, check=lambda v: plain_name_problem(v)),
})


def relative_path_problem(value: str) -> str | None:
    if not value or value.startswith("/") or ".." in value.split("/"):
        return f"{value!r} must be a path inside the recipe folder"
    return None


def _ipv4_values(table: dict[str, Any]) -> str | None:
    for name, address in table.items():
        parts = address.split(".") if isinstance(address, str) else []
        if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
            return f"{name}: {address!r} is not an IPv4 address"
    return None

# Files of a recipe folder that are review data, not build input: no part of its fingerprint.
REVIEW_FILES = ("cves.toml",)

# Keys every recipe may have; a kind adds its own (its builder's `recipe_keys`).
COMMON_KEYS: dict[str, Key] = {
    "name": Key(str, required=True, check=plain_file_name),
    "version": Key(str, required=True, check=version_problem),
    "description": Key(str),
    "license": Key(str),  # an SPDX license expression, declared in the SBOM
    "kind": Key(str, required=True),
    "binary": Key(str, check=plain_file_name),
    "verify": Key(list, items=VERIFY),
    # Files of the recipe folder the verification runs see, at the same relative path.
    "verify_files": Key(list, items=str, check=lambda v: next(filter(None, map(relative_path_problem, v)), None)),
    "versions": Key(dict, values=SOURCE, check=_version_keys),
    # Names a DNS server in the verification session answers (name = "IPv4"); nothing else
    # resolves them: the session's hosts file knows localhost only.
    "verify_dns": Key(dict, check=_ipv4_values),
}


@dataclass(frozen=True)
class VerifyRun:
    """One run of the built binary and what it must print."""

    name: str
    args: tuple[str, ...] = ()
    program: str | None = None  # None: the recipe's binary
    stdin: str | None = None
    stdout: str | None = None  # exact; "{uname_machine}" and other ISA fields are filled in
    exit_code: int = 0

    def expected_stdout(self, isa: Isa) -> str | None:
        return None if self.stdout is None else self.stdout.format(**vars(isa))


@dataclass(frozen=True)
class Recipe:
    name: str
    version: str
    description: str
    kind: str
    binary: str
    folder: Path | None
    sources: tuple[Path, ...] = ()
    cflags: tuple[str, ...] = ()
    command: str | None = None
    output: str | None = None
    runs: tuple[VerifyRun, ...] = ()  # the [[verify]] runs
    depends: tuple[str, ...] = ()  # library recipes built first, this one is built against
    versions: dict[str, Source] = field(default_factory=dict, compare=False)
    data: dict[str, Any] = field(default_factory=dict, compare=False)
    license: str = "NOASSERTION"  # SPDX: not stated

    def fingerprint(self) -> str:
        """A hash of everything that defines the recipe: its folder's files, or its sources."""
        digest = hashlib.sha256(f"{self.name}\0{self.kind}\0{self.cflags}\0".encode())
        files = sorted(p for p in self.folder.rglob("*") if p.is_file() and p.name not in REVIEW_FILES) if self.folder else []
        for path in [*files, *self.sources]:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def version_source(self, version: str | None) -> tuple[str, Source | None]:
        """The version to build (the recipe's default unless one of [versions] is asked for)
        and its source, if the recipe fetches one."""
        chosen = version or self.version
        if chosen in self.versions:
            return chosen, self.versions[chosen]
        if version and version != self.version:
            known = ", ".join(self.versions) or self.version
            raise UsageError(f"unknown {self.name} version {version!r}; known: {known}")
        return chosen, None


def verify_runs(entries: list[dict[str, Any]]) -> tuple[VerifyRun, ...]:
    return tuple(
        VerifyRun(
            name=entry.get("name", " ".join(entry.get("args", [])) or "run"),
            args=tuple(entry.get("args", [])),
            program=entry.get("program"),
            stdin=entry.get("stdin"),
            stdout=entry.get("stdout"),
            exit_code=entry.get("exit_code", 0),
        )
        for entry in entries
    )


def recipe_from_data(data: dict[str, Any], folder: Path) -> Recipe:
    """A Recipe from checked TOML data (see musltool.catalog)."""
    build = data.get("build", {})
    versions = {v: Source(e["url"], e["sha256"], e.get("top")) for v, e in data.get("versions", {}).items()}
    return Recipe(
        name=data["name"],
        version=data["version"],
        description=data.get("description", ""),
        kind=data["kind"],
        binary=data.get("binary", data["name"]),
        folder=folder,
        sources=tuple(folder / s for s in build.get("sources", [])),
        cflags=tuple(build.get("cflags", [])),
        command=build.get("command"),
        output=build.get("output"),
        runs=verify_runs(data.get("verify", [])),
        depends=tuple(data.get("depends", [])),
        versions=versions,
        data=data,
        license=data.get("license", "NOASSERTION"),
    )


def recipe_for_sources(sources: list[str], binary: str | None = None) -> Recipe:
    """A recipe for a user's own C files, with no TOML: the binary must just run and exit 0."""
    if not sources:
        raise UsageError("--src needs at least one C source file")
    paths = [Path(s).resolve() for s in sources]
    for path in paths:
        if path.is_dir():
            raise UsageError(f"--src {path} is a folder: give C source files")
        if not path.is_file():
            raise UsageError(f"source file not found: {path}")
    name = require_file_name(binary or paths[0].stem, "--name")
    return Recipe(
        name=name,
        version="local",
        description=f"built from {', '.join(p.name for p in paths)}",
        kind="c",
        binary=name,
        folder=None,
        sources=tuple(paths),
        runs=(VerifyRun(name="runs and exits 0"),),
    )
