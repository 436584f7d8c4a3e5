"""The toolchain driver: one small static program behind every provider's `<triple>-<tool>`.

`driver.c` is compiled once per host (musltool.toolchain.hostprograms) and made to show its argument
filter on a known command line before it is used. Each toolchain bin folder gets a copy of it, a
`musltool-driver.conf` saying which real command stands behind each tool name, and one
symlink per tool name. A compile then costs one exec more than the compiler itself.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

from musltool.errors import BuildError
from musltool.files import write_if_changed
from musltool.toolchain.base import TOOL_NAMES
from musltool.toolchain.hostprograms import host_program

SOURCE = Path(__file__).with_name("driver.c")
PROGRAM = "musltool-driver"
CONFIG = "musltool-driver.conf"
COMPILERS = ("gcc", "cc", "g++", "c++")


@dataclass(frozen=True)
class DriverConfig:
    """What stands behind each tool name, and how compiler arguments are filtered."""

    commands: dict[str, tuple[str, ...]]  # tool name -> the real command's argv prefix
    environment: dict[str, str] = field(default_factory=dict)
    dropped_flags: tuple[str, ...] = ()
    link_only_dropped_flags: tuple[str, ...] = ()  # dropped when a call compiles nothing
    dropped_linker_options: dict[str, int] = field(default_factory=dict)  # option -> values
    refused: dict[str, str] = field(default_factory=dict)  # tool name -> one-line message
    static: bool = True

    def render(self) -> str:
        lines = ["# written by musltool: the commands behind this folder's tools"]
        lines += [_record("set", name, value) for name, value in sorted(self.environment.items())]
        lines += [_record("drop", flag) for flag in self.dropped_flags]
        lines += [_record("drop-link", flag) for flag in self.link_only_dropped_flags]
        lines += [
            _record("drop-ld", option, str(count))
            for option, count in self.dropped_linker_options.items()
        ]
        lines.append(_record("static", "1" if self.static else "0"))
        lines += [_record("refuse", tool, message) for tool, message in self.refused.items()]
        for tool, argv in self.commands.items():
            kind = "compiler" if tool in COMPILERS else "plain"
            lines.append(_record("tool", tool, kind, *argv))
        return "\n".join(lines) + "\n"


def _record(*fields: str) -> str:
    bad = [f for f in fields if "\t" in f or "\n" in f]
    if bad:
        raise BuildError(f"toolchain driver: a tab or newline cannot be configured: {bad[0]!r}")
    return "\t".join(fields)


def driver_program() -> Path:
    """The driver compiled for this host (built and self-checked once, then cached)."""
    return host_program(PROGRAM, SOURCE, self_check)


# A command line whose filtered form is known: order kept, dropped flags and linker options
# (with their values, in -Wl lists and -Xlinker pairs) gone, response files read, -static added.
SELF_CHECK_ARGS = (
    "-O2", "-static-libgcc", "-Wl,--warn-common,--gc-sections", "-Xlinker", "--whole-archive",
    "libfoo.a", "-Xlinker", "--no-whole-archive", "-Xlinker", "-Map", "-Xlinker", "out.map",
    "@{rsp}", "-o", "prog",
)  # fmt: skip
SELF_CHECK_RESPONSE = "'a b.c' -Wl,-Map,x.map -lm\n"
# `-c` with two sources and no -o: one compile each (an empty line ends each printed command).
SELF_CHECK_SEPARATE_ARGS = ("-c", "-O2", "one.c", "two.S")
SELF_CHECK_SEPARATE_EXPECTED = (
    "/bin/echo", "-c", "-O2", "one.c", "", "/bin/echo", "-c", "-O2", "two.S", "",
)  # fmt: skip
# A call that only links loses the flags dropped from links; one that also compiles becomes
# the compile, with every flag, and then the link (objects in $TMPDIR/musltool-driver.XXXXXX).
SELF_CHECK_LINK_ARGS = ("-Os", "-fno-unwind-tables", "a.o", "libb.a", "-o", "prog")
SELF_CHECK_LINK_EXPECTED = ("/bin/echo", "-static", "-Os", "a.o", "libb.a", "-o", "prog")
SELF_CHECK_SPLIT_ARGS = ("-Os", "-fno-unwind-tables", "main.c", "-lm", "-o", "prog")
SELF_CHECK_SPLIT_EXPECTED = (
    "/bin/echo", "-static", "-Os", "-fno-unwind-tables", "main.c", "-lm",
    "-Wno-unused-command-line-argument", "-c", "-o", "{tmp}/musltool-driver.XXXXXX/0.o", "",
    "/bin/echo", "-static", "-Os", "{tmp}/musltool-driver.XXXXXX/0.o", "-lm", "-o", "prog",
    "-Wno-unused-command-line-argument", "",
)  # fmt: skip
SELF_CHECK_EXPECTED = (
    "/bin/echo", "-static", "-O2", "-Wl,--gc-sections", "-Xlinker", "--whole-archive",
    "libfoo.a", "-Xlinker", "--no-whole-archive", "a b.c", "-lm", "-o", "prog",
)  # fmt: skip


def self_check(program: Path) -> None:
    """Run the driver on SELF_CHECK_ARGS with a test configuration; it must print the known
    filtered command, or the driver is not used."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        copy = folder / PROGRAM
        copy.write_bytes(program.read_bytes())
        copy.chmod(0o755)
        config = DriverConfig(
            commands={"cc": ("/bin/echo",)},
            dropped_flags=("-static-libgcc",),
            link_only_dropped_flags=("-fno-unwind-tables",),
            dropped_linker_options={"--warn-common": 0, "-Map": 1},
        )
        (folder / CONFIG).write_text(config.render())
        (folder / "check-cc").symlink_to(PROGRAM)
        (folder / "args.rsp").write_text(SELF_CHECK_RESPONSE)
        args = [a.format(rsp=folder / "args.rsp") for a in SELF_CHECK_ARGS]
        for given, expected in (
            (args, SELF_CHECK_EXPECTED),
            (SELF_CHECK_SEPARATE_ARGS, SELF_CHECK_SEPARATE_EXPECTED),
            (SELF_CHECK_LINK_ARGS, SELF_CHECK_LINK_EXPECTED),
            (SELF_CHECK_SPLIT_ARGS, tuple(a.format(tmp=folder) for a in SELF_CHECK_SPLIT_EXPECTED)),
        ):
            proc = subprocess.run(
                [folder / "check-cc", *given],
                capture_output=True,
                text=True,
                env={**os.environ, "MUSLTOOL_DRIVER_PRINT": "1", "TMPDIR": str(folder)},
                check=False,
            )
            got = tuple(proc.stdout.splitlines())
            if proc.returncode != 0 or got != expected:
                raise BuildError(
                    f"musltool's toolchain driver failed its self-check: printed {got}, "
                    f"expected {expected} ({proc.stderr.strip()})"
                )


def install(bin_dir: Path, triple: str, program: Path, config: DriverConfig) -> None:
    """The driver, its configuration and one `<triple>-<tool>` link per tool in `bin_dir`;
    locked, because parallel builds (and test workers) set up the same folder at once."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(bin_dir) + ".lock"):
        write_if_changed(bin_dir / PROGRAM, program.read_bytes(), mode=0o755)
        write_if_changed(bin_dir / CONFIG, config.render().encode())
        for tool in TOOL_NAMES:
            link = bin_dir / f"{triple}-{tool}"
            if link.is_symlink() and os.readlink(link) == PROGRAM:
                continue
            tmp = bin_dir / f".{link.name}.tmp"
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(PROGRAM)
            os.replace(tmp, link)
