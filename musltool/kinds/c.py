"""Kind `c`: C (or C++) sources compiled and linked in one compiler call."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, ClassVar

from musltool.errors import UsageError
from musltool.files import sha256_file
from musltool.kinds.base import Builder, Built, prefix_map_flags
from musltool.process import run
from musltool.recipes import Recipe
from musltool.schema import Key
from musltool.toolchain.base import BASE_CFLAGS, BASE_LDFLAGS

CXX_SUFFIXES = (".cpp", ".cc", ".cxx", ".c++", ".C")


class CBuilder(Builder):
    kind = "c"
    build_keys: ClassVar[dict[str, Key]] = {
        "sources": Key(list, required=True, items=str, check=lambda v: None if v else "is empty"),
        "cflags": Key(list, items=str),
    }

    @classmethod
    def check_recipe(cls, recipe: Recipe, source: str) -> None:
        super().check_recipe(recipe, source)
        missing = [str(p) for p in recipe.sources if not p.is_file()]
        if missing:
            raise UsageError(f"{source}: build.sources: file not found: {', '.join(missing)}")

    def inputs(self) -> dict[str, Any]:
        """Besides the sources, the headers they include (the compiler's own -MM list, system
        headers aside): an edited header rebuilds, even for `--src` files outside a recipe."""
        return {**super().inputs(), "headers": self.included_headers}

    def work_key(self) -> dict[str, Any]:
        """The work folder stays the same when a header changes (zig's cache keeps the rest)."""
        key = super().work_key()
        key["inputs"] = {k: v for k, v in key["inputs"].items() if k != "headers"}
        return key

    @functools.cached_property
    def included_headers(self) -> list[tuple[str, str]]:
        """(name relative to its source's folder where it lies below it, sha256), sorted."""
        found: dict[str, str] = {}
        for source in self.recipe.sources:
            compiler = self.toolchain.tool("g++" if source.suffix in CXX_SUFFIXES else "gcc")
            done = run([compiler, BASE_CFLAGS, *self.recipe.cflags, "-MM", source], cwd=source.parent,
                       env=self.toolchain.env(), what=f"listing the headers of {source.name}")  # fmt: skip
            for header in make_rule_files(done.stdout)[1:]:
                path = (source.parent / header).resolve()
                name = str(path.relative_to(source.parent)) if path.is_relative_to(source.parent) else str(path)
                found[name] = sha256_file(path)
        return sorted(found.items())

    def compile(self, workdir: Path) -> Built:
        output = workdir / self.recipe.binary
        flags = [BASE_CFLAGS, *self.recipe.cflags]
        folders = [src.parent for src in self.recipe.sources]
        cxx = any(src.suffix in CXX_SUFFIXES for src in self.recipe.sources)
        cmd = [
            self.toolchain.tool("g++" if cxx else "gcc"),
            *flags,
            *prefix_map_flags(workdir, *folders),
            BASE_LDFLAGS,
            "-o",
            output,
            *self.recipe.sources,
        ]
        run(cmd, cwd=workdir, env=self.toolchain.env(), what=f"compiling {self.recipe.name}",
            log_file=workdir / "build.log")  # fmt: skip
        self.strip(output)
        return Built(output, self.version, flags={"CFLAGS": flags, "LDFLAGS": [BASE_LDFLAGS]})


def make_rule_files(rule: str) -> list[str]:
    """The files a `cc -MM` make rule names after its target: escaped spaces kept, line
    continuations joined."""
    text = rule.replace("\\\n", " ")
    _, _, files = text.partition(": ")
    return [name.replace("\\ ", " ") for name in re.split(r"(?<!\\)\s+", files.strip()) if name]
