"""Kind `command`: the recipe's own build commands (make, configure ...) with the toolchain env.

The source is the recipe folder, or an upstream tarball from the recipe's [versions]. A
library recipe also says how it installs (`install`, into $DESTDIR with prefix /usr) and what
it installs (`installs`); recipes that `depends` on libraries are built against a sysroot
holding them. `check` runs the project's own tests: the programs it builds run under binfmt's
qemu on the ISA's oldest CPU.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, ClassVar

from musltool.binfmt import binfmt_ready
from musltool.errors import BuildError, MissingToolError, UsageError
from musltool.kinds.base import Builder, Built, prefix_map_flags
from musltool.process import run
from musltool.recipes import Recipe, relative_path_problem
from musltool.report import Evidence, Status, TestResult
from musltool.runners import Session, oldest_cpu_env
from musltool.schema import Key
from musltool.sources import prepared_source
from musltool.toolchain.base import sysroot_env

CHECK_TIMEOUT = 1800


def _relative_paths(values: list[str]) -> str | None:
    return next(filter(None, map(relative_path_problem, values)), None)


class CommandBuilder(Builder):
    kind = "command"
    recipe_keys: ClassVar[dict[str, Key]] = {
        "depends": Key(list, items=str),
    }
    build_keys: ClassVar[dict[str, Key]] = {
        "command": Key(str, required=True),
        "output": Key(str, required=True, check=relative_path_problem),
        # more programs the build makes, installed and verified beside `output`
        "programs": Key(list, items=str, check=_relative_paths),
        "check": Key(str),
        # lines the check's log must hold (the last test ran, nothing skipped): exit 0 is not enough
        "check_shows": Key(list, items=str),
        "install": Key(str),
        "installs": Key(list, items=str, check=_relative_paths),
    }

    workdir: Path | None = None  # set by compile(); the check runs in its source tree

    @classmethod
    def check_recipe(cls, recipe: Recipe, source: str) -> None:
        super().check_recipe(recipe, source)
        build = recipe.data.get("build", {})
        if bool(build.get("check")) != bool(build.get("check_shows")):
            raise UsageError(f"{source}: build: a check says both what runs (check) and what its log must show (check_shows)")
        if bool(build.get("install")) != bool(build.get("installs")):
            raise UsageError(f"{source}: build: a library says both how it installs (install) and what (installs)")

    @classmethod
    def program_names(cls, recipe: Recipe) -> list[str]:
        return [Path(p).name for p in recipe.data.get("build", {}).get("programs", [])]

    @property
    def build_table(self) -> dict[str, Any]:
        return self.recipe.data.get("build", {})

    def build_env(self, workdir: Path) -> dict[str, str]:
        env = self.toolchain.env()
        source = workdir / "src"
        env["CFLAGS"] = " ".join([env["CFLAGS"], *prefix_map_flags(source)])
        env["CXXFLAGS"] = " ".join([env["CXXFLAGS"], *prefix_map_flags(source)])
        if self.sysroot is not None:
            env.update(sysroot_env(self.sysroot, env))
        env["RECIPE_DIR"] = str(self.recipe.folder)
        env["JOBS"] = str(os.cpu_count() or 1)
        return env

    def copy_source(self, workdir: Path) -> Path:
        """A fresh copy of the source each time (zig's cache keeps the objects)."""
        source = workdir / "src"
        if source.exists():
            shutil.rmtree(source)
        version, upstream = self.recipe.version_source(self.options.version)
        if upstream is not None:
            tree = prepared_source(self.recipe.name, version, upstream, [], self.options.fetch)
            shutil.copytree(tree, source, symlinks=True)
        else:
            assert self.recipe.folder is not None
            shutil.copytree(self.recipe.folder, source)
        return source

    def compile(self, workdir: Path) -> Built:
        assert self.recipe.command and self.recipe.output
        source = self.copy_source(workdir)
        self.workdir = workdir
        env = self.build_env(workdir)
        self._run(self.recipe.command, source, env, "build command", workdir / "build.log")
        outputs = [self.recipe.output, *self.build_table.get("programs", [])]
        for output in outputs:
            if not (source / output).is_file():
                raise BuildError(f"{self.recipe.name}: build command made no {output} (log: {workdir / 'build.log'})")
            self.strip(source / output)
        built = Built(
            source / self.recipe.output,
            self.version,
            programs={Path(p).name: source / p for p in outputs[1:]},
            flags={"command": self.recipe.command, "CFLAGS": env["CFLAGS"], "LDFLAGS": env["LDFLAGS"]},
        )
        if self.build_table.get("install"):
            built.installed = self.install_library(source, env, workdir)
            built.details["installs"] = sorted(
                str(p.relative_to(built.installed)) for p in built.installed.rglob("*") if p.is_file()
            )
        return built

    def install_library(self, source: Path, env: dict[str, str], workdir: Path) -> Path:
        """The library's headers, archives and .pc files in a fresh $DESTDIR (prefix /usr)."""
        stage = workdir / "install"
        if stage.exists():
            shutil.rmtree(stage)
        stage.mkdir()
        self._run(self.build_table["install"], source, {**env, "DESTDIR": str(stage)}, "install command",
                  workdir / "install.log")  # fmt: skip
        for path in stage.rglob("*.la"):  # libtool archives name the build folder; pkg-config is enough
            path.unlink()
        missing = [p for p in self.build_table["installs"] if not (stage / p).is_file()]
        if missing:
            raise BuildError(f"{self.recipe.name}: install command did not install {', '.join(missing)} "
                             f"(log: {workdir / 'install.log'})")  # fmt: skip
        return stage

    def _run(self, command: str, cwd: Path, env: dict[str, str], what: str, log_file: Path) -> None:
        run(["sh", "-ec", command], cwd=cwd, env=env, what=f"{self.recipe.name} {what}", log_file=log_file)

    def verify(self, session: Session, built: Built) -> list[TestResult]:
        results = super().verify(session, built)
        if self.build_table.get("check"):
            results.append(self.run_check())
        return results

    def run_check(self) -> TestResult:
        """The project's own tests on the build machine: its test programs are foreign
        binaries the kernel hands to qemu (binfmt), on the ISA's oldest CPU."""
        ready, detail = binfmt_ready(self.isa)
        if not ready:
            raise MissingToolError(f"cannot run {self.isa.name} test programs: {detail}; run: invoke setup")
        assert self.workdir is not None, "compile() sets the work folder"
        command = self.build_table["check"]
        env = {**self.build_env(self.workdir), **oldest_cpu_env(self.isa)}
        log_file = self.workdir / "check.log"
        name = f"upstream tests: {command.strip().splitlines()[0]}"
        try:
            run(["sh", "-ec", command], cwd=self.workdir / "src", env=env, what=name, log_file=log_file,
                timeout=CHECK_TIMEOUT)  # fmt: skip
        except BuildError as exc:
            return TestResult(name, Status.FAILED, str(exc), Evidence.NONE, "upstream")
        lines = {line.strip() for line in log_file.read_text().splitlines()}
        absent = [shown for shown in self.build_table["check_shows"] if shown not in lines]
        if absent:  # exit 0 alone: a suite that skipped or ran nothing would pass
            return TestResult(name, Status.FAILED, f"exit 0, but the log lacks {absent[0]!r} (log: {log_file})",
                              Evidence.NONE, "upstream")  # fmt: skip
        shown = len(self.build_table["check_shows"])
        return TestResult(name, Status.PASSED, f"exit 0, log shows the {shown} required lines (log: {log_file})",
                          Evidence.FUNCTIONAL, "upstream")  # fmt: skip
