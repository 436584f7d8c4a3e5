"""Kind `command`: the recipe's own build command (make, configure ...) with the toolchain env."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import ClassVar

from musltool.builder import Builder, Built, prefix_map_flags
from musltool.errors import BuildError
from musltool.schema import Key
from musltool.util import run


def _relative_path(value: str) -> str | None:
    if not value or value.startswith("/") or ".." in value.split("/"):
        return f"{value!r} must be a path inside the recipe folder"
    return None


class CommandBuilder(Builder):
    kind = "command"
    build_keys: ClassVar[dict[str, Key]] = {
        "command": Key(str, required=True),
        "output": Key(str, required=True, check=_relative_path),
    }

    def compile(self, workdir: Path) -> Built:
        assert self.recipe.folder is not None and self.recipe.command and self.recipe.output
        source = workdir / "src"
        if source.exists():
            shutil.rmtree(source)  # a fresh copy each time; zig's cache keeps the objects
        shutil.copytree(self.recipe.folder, source)
        env = self.toolchain.env()
        env["CFLAGS"] = " ".join([env["CFLAGS"], *prefix_map_flags(source)])
        run(
            ["sh", "-c", self.recipe.command],
            cwd=source,
            env=env,
            what=f"{self.recipe.name} build command",
            log_file=workdir / "build.log",
        )
        output = source / self.recipe.output
        if not output.is_file():
            raise BuildError(
                f"{self.recipe.name}: build command made no {self.recipe.output} "
                f"(log: {workdir / 'build.log'})"
            )
        self.strip(output)
        return Built(
            output,
            self.version,
            flags={
                "command": self.recipe.command,
                "CFLAGS": env["CFLAGS"],
                "LDFLAGS": env["LDFLAGS"],
            },
        )


