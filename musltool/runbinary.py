"""Run any static binary for an ISA under qemu: in a scratch container or directly.

The building block for "run my test suite on riscv64": the program (and the files asked for,
read-only) go into a fresh session of the chosen runner, on the ISA's oldest CPU. Its stdin is
ours (passed as a descriptor, never read here), its output is passed through as it comes (up
to the output limit), and its exit code becomes ours.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from musltool.elf import check_binary, require_static_binary
from musltool.errors import UsageError
from musltool.files import read_regular
from musltool.filetree import Tree, path_problem
from musltool.isa import ISAS, Isa
from musltool.runners import SESSION_PATHS, RunResult, get_runner


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
    if where.is_absolute() or ".." in where.parts or not where.parts or path_problem(str(where)):
        raise UsageError(f"--file {spec}: the place in the session must be a relative path without .. or control characters")
    return GuestFile(path, str(where))


def parse_timeout(value: str) -> int:
    """Whole seconds, 1 or more."""
    text = str(value).strip()
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"--timeout {value!r}: give whole seconds, 1 or more")
    return int(text)


def isa_of(program: Path) -> Isa:
    """The ISA whose every check the binary passes (the binary says what it is)."""
    for isa in ISAS:
        if all(check.ok for check in check_binary(program, isa)):
            return isa
    raise UsageError(f"{program} is not a static musl binary of any ISA musltool knows: give --arch to see why")


def _clash(guest: str, taken: dict[str, str]) -> str | None:
    """What a file at `guest` would collide with: a path taken, or one below or above it."""
    for path, owner in taken.items():
        if guest == path or guest.startswith(path + "/") or path.startswith(guest + "/"):
            return owner
    return None


def session_tree(program: Path, files: list[GuestFile]) -> Tree:
    """The program and the --file files; a file may not take the program's place, another
    file's, or one the session keeps for itself (SESSION_PATHS)."""
    tree = Tree()
    tree.add_file(program.name, read_regular(program), 0o555)
    taken = {program.name: "the program under test", **{p: "the session's own files" for p in SESSION_PATHS}}
    made: set[str] = set()
    for item in files:
        clash = _clash(item.guest, taken)
        if clash:
            raise UsageError(f"--file {item.local}:{item.guest}: that place is {clash}'s")
        taken[item.guest] = f"--file {item.local}"
        for parent in reversed(PurePosixPath(item.guest).parents[:-1]):
            if str(parent) not in made:
                tree.add_dir(str(parent), 0o755)
                made.add(str(parent))
        tree.add_file(item.guest, read_regular(item.local), 0o444)
    return tree


def run_binary(command: list[str], isa: Isa | None, runner_name: str, files: list[GuestFile],
               timeout: float) -> RunResult:  # fmt: skip
    """Run `command` (a program path and its arguments) with our stdin; its stdout and stderr
    go to ours as they come, but for the last bytes of stderr, which come back in the result."""
    if not command:
        raise UsageError("give the program to run after --, e.g.: invoke run --arch riscv64 -- dist/riscv64/hello")
    program = Path(command[0]).expanduser()
    if not program.is_file():
        raise UsageError(f"{command[0]}: no such file")
    isa = isa or isa_of(program)
    require_static_binary(program, isa)
    tree = session_tree(program, files)
    runner = get_runner(runner_name, isa)
    stdin = None if sys.stdin is None or sys.stdin.isatty() else sys.stdin.fileno()
    sys.stdout.flush()
    with runner.session(isa, tree) as session:
        return session.run(program.name, command[1:], stdin=stdin, timeout=timeout,
                           output=(sys.stdout.buffer, sys.stderr.buffer))  # fmt: skip
