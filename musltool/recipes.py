"""Recipes: declarative TOML under recipes/<name>/ saying what to build and how to check it."""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from musltool import settings
from musltool.errors import UsageError
from musltool.isa import Isa

KINDS = ("c", "command", "busybox")


@dataclass(frozen=True)
class SmokeTest:
    """One run of the built binary and what it must print."""

    name: str
    args: tuple[str, ...] = ()
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
    smoke: tuple[SmokeTest, ...] = ()
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    def fingerprint(self) -> str:
        """A hash of everything that defines the recipe: its folder's files, or its sources."""
        digest = hashlib.sha256(f"{self.name}\0{self.kind}\0{self.cflags}\0".encode())
        files = sorted(p for p in self.folder.rglob("*") if p.is_file()) if self.folder else []
        for path in [*files, *self.sources]:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()


def recipe_names() -> list[str]:
    return sorted(p.parent.name for p in settings.RECIPES_DIR.glob("*/recipe.toml"))


def _smoke_tests(entries: list[dict[str, Any]]) -> tuple[SmokeTest, ...]:
    return tuple(
        SmokeTest(
            name=entry.get("name", " ".join(entry.get("args", [])) or "run"),
            args=tuple(entry.get("args", [])),
            stdin=entry.get("stdin"),
            stdout=entry.get("stdout"),
            exit_code=entry.get("exit_code", 0),
        )
        for entry in entries
    )


def load_recipe(name: str) -> Recipe:
    """The recipe recipes/<name>/recipe.toml, or a one-line error naming the known ones."""
    path = settings.RECIPES_DIR / name / "recipe.toml"
    if not path.is_file():
        known = recipe_names()
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(f"unknown recipe {name!r}{hint}; known: {', '.join(known)}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from exc
    kind = data.get("kind")
    if kind not in KINDS:
        raise UsageError(f"{path}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    build = data.get("build", {})
    folder = path.parent
    return Recipe(
        name=data["name"],
        version=str(data["version"]),
        description=data.get("description", ""),
        kind=kind,
        binary=data.get("binary", data["name"]),
        folder=folder,
        sources=tuple(folder / s for s in build.get("sources", [])),
        cflags=tuple(build.get("cflags", [])),
        command=build.get("command"),
        output=build.get("output"),
        smoke=_smoke_tests(data.get("verify", [])),
        data=data,
    )


def recipe_for_sources(sources: list[str], binary: str | None = None) -> Recipe:
    """A recipe for a user's own C files, with no TOML: the binary must just run and exit 0."""
    paths = [Path(s).resolve() for s in sources]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise UsageError(f"source file not found: {', '.join(missing)}")
    name = binary or paths[0].stem
    return Recipe(
        name=name,
        version="local",
        description=f"built from {', '.join(p.name for p in paths)}",
        kind="c",
        binary=name,
        folder=None,
        sources=tuple(paths),
        smoke=(SmokeTest(name="runs and exits 0"),),
    )
