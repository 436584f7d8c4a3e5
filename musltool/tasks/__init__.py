"""musltool's tasks: thin wrappers that parse options and call the musltool library.

`invoke <task>` in a checkout (tasks.py imports `ns` from here) and the `musltool <task>`
console command (Invoke's Program over the same collection) run the same code. The tasks live
in `build` (build, run, package), `toolchain` (toolchain.*), `host` (isas, doctor, setup, clean,
test), `release` (release, verify-release) and musltool.firmware.tasks (rootfs, image, boot, firmware).
"""

from __future__ import annotations

from pathlib import Path

from invoke import Collection, Program

from musltool import __version__
from musltool.cli import exit_on_broken_invoke_config, one_line_parse_errors
from musltool.firmware.tasks import boot, firmware, image, rootfs
from musltool.tasks.build import build, package, run_program
from musltool.tasks.host import clean, doctor, isas, setup, test
from musltool.tasks.release import release, verify_release
from musltool.tasks.toolchain import toolchain_ns

ns = Collection(build, run_program, isas, doctor, setup, test, clean, package, rootfs, image, boot, firmware,
                release, verify_release)
ns.add_collection(toolchain_ns)
# Mirrors tried before upstream, for sources and toolchains (MUSLTOOL_MIRRORS adds more): a
# list in invoke.yaml, or one string of space-separated URLs (INVOKE_MUSLTOOL_MIRRORS).
ns.configure({"musltool": {"mirrors": ""}})


class MusltoolProgram(Program):
    """The `musltool` console command: the same tasks and config files as `invoke` in a
    checkout, with ./invoke.yaml in the current folder as the project's config."""

    def create_config(self) -> None:
        super().create_config()
        self.config.set_project_location(str(Path.cwd()))
        self.config.load_project()

    def run(self, argv: list[str] | None = None, exit: bool = True) -> None:
        exit_on_broken_invoke_config([Path.cwd()])
        super().run(argv, exit)


one_line_parse_errors(MusltoolProgram)
program = MusltoolProgram(namespace=ns, version=__version__, name="musltool", binary="musltool")
