"""Kind `c`: C (or C++) sources compiled and linked in one compiler call."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from musltool.builder import Builder, Built, prefix_map_flags
from musltool.errors import UsageError
from musltool.recipes import Recipe
from musltool.schema import Key
from musltool.toolchain.base import BASE_CFLAGS, BASE_LDFLAGS
from musltool.util import run

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
