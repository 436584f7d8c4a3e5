"""Run any static binary for an ISA under qemu: in a scratch container or directly.

The building block for "run my test suite on riscv64": the program (and the files asked for,
read-only) go into a fresh session of the chosen runner, on the ISA's oldest CPU; its output
is passed through and its exit code becomes ours.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from musltool.container import Tree
from musltool.elf import check_binary, require_static_binary
from musltool.errors import UsageError
from musltool.isa import ISAS, Isa
from musltool.runners import RunResult, get_runner


@dataclass(frozen=True)
class GuestFile:
    local: Path
    guest: str  # a relative path inside the session


def parse_file(spec: str) -> GuestFile:
    """`LOCAL[:GUEST]`: a file put into the session, at GUEST (default: its own name)."""
    local, _, guest = spec.partition(":")
    path = Path(local).expanduser()
    if not path.is_file():
        raise UsageError(f"--file {spec}: {local} is not a file")
    where = PurePosixPath(guest or path.name)
    if where.is_absolute() or ".." in where.parts or not where.parts:
        raise UsageError(f"--file {spec}: the place in the session must be a relative path without ..")
    return GuestFile(path, str(where))


def isa_of(program: Path) -> Isa:
    """The ISA whose every check the binary passes (the binary says what it is)."""
    for isa in ISAS:
        if all(check.ok for check in check_binary(program, isa)):
            return isa
    raise UsageError(f"{program} is not a static musl binary of any ISA musltool knows: give --arch to see why")


def session_tree(program: Path, files: list[GuestFile]) -> Tree:
    tree = Tree()
    tree.add_file(program.name, program.read_bytes(), 0o555)
    made: set[str] = set()
    for item in files:
        for parent in reversed(PurePosixPath(item.guest).parents[:-1]):
            if str(parent) not in made:
                tree.add_dir(str(parent), 0o755)
                made.add(str(parent))
        tree.add_file(item.guest, item.local.read_bytes(), 0o444)
    return tree


def run_binary(command: list[str], isa: Isa | None, runner_name: str, files: list[GuestFile],
               timeout: float) -> RunResult:  # fmt: skip
    """Run `command` (a program path and its arguments); stdout and stderr come back."""
    if not command:
        raise UsageError("give the program to run after --, e.g.: invoke run --arch riscv64 -- dist/riscv64/hello")
    program = Path(command[0]).expanduser()
    if not program.is_file():
        raise UsageError(f"{command[0]}: no such file")
    isa = isa or isa_of(program)
    require_static_binary(program, isa)
    runner = get_runner(runner_name, isa)
    stdin = None if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    with runner.session(isa, session_tree(program, files)) as session:
        return session.run(program.name, command[1:], stdin=stdin, timeout=timeout)
