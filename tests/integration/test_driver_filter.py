"""musltool's compiler driver (musltool/toolchain/driver.c), built as musltool builds it, fed a
table of command lines: each must come out exactly as written here (argument order kept,
dropped flags and linker options gone with their values, response files read, -static added
to links and only to links, several sources with -c and no -o compiled one by one).

The driver runs with MUSLTOOL_DRIVER_PRINT=1: it prints the command it would run, one
argument a line, an empty line after each command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from musltool.isa import get_isa
from musltool.toolchain import get_toolchain
from musltool.toolchain.driver import CONFIG, PROGRAM, DriverConfig, driver_program

CC = "/usr/bin/true-cc"  # never run: the driver prints instead
DROPPED = ("-static-libgcc", "-lgcc_s", "-rdynamic")
LINK_ONLY = ("-fno-asynchronous-unwind-tables",)
SPLIT_COMPILE = ("-Wno-unused-command-line-argument", "-c", "-o")  # then the temporary object
DROPPED_LD = {"--warn-common": 0, "-Map": 1, "--sort-section": 1, "-Bsymbolic-functions": 0}

# (argv given, argv printed; "|" ends one command where the driver runs several)
CASES = [
    ("plain link gets -static first", ["main.c", "-o", "prog"], ["-static", "main.c", "-o", "prog"]),
    ("-c compiles: no -static", ["-c", "main.c", "-o", "main.o"], ["-c", "main.c", "-o", "main.o"]),
    ("-shared links are passed through, not made static", ["-shared", "-fPIC", "a.o", "-o", "lib.so"],
     ["-shared", "-fPIC", "a.o", "-o", "lib.so"]),
    ("-E -S -M -MM do not link", ["-E", "x.c"], ["-E", "x.c"]),
    ("-S does not link", ["-S", "x.c"], ["-S", "x.c"]),
    ("-MM does not link", ["-MM", "x.c"], ["-MM", "x.c"]),
    ("--version does not link", ["--version"], ["--version"]),
    ("dropped flags go, order stays", ["-O2", "-static-libgcc", "a.c", "-lgcc_s", "-lm", "-rdynamic", "-o", "p"],
     ["-static", "-O2", "a.c", "-lm", "-o", "p"]),
    ("-Wl list: dropped options go with their values", ["a.o", "-Wl,--gc-sections,-Map,out.map,--as-needed"],
     ["-static", "a.o", "-Wl,--gc-sections,--as-needed"]),
    ("-Wl list of only dropped options vanishes", ["a.o", "-Wl,--warn-common"], ["-static", "a.o"]),
    ("-Wl value on the next -Wl", ["a.o", "-Wl,-Map", "-Wl,out.map", "-Wl,-O1"], ["-static", "a.o", "-Wl,-O1"]),
    ("-Xlinker pairs: a dropped option and its value", ["a.o", "-Xlinker", "-Map", "-Xlinker", "x.map", "-Xlinker", "-O1"],
     ["-static", "a.o", "-Xlinker", "-O1"]),
    ("-Xlinker then -Wl carry the pending value", ["a.o", "-Xlinker", "--sort-section", "-Wl,name", "-lz"],
     ["-static", "a.o", "-lz"]),
    ("kept -Xlinker pairs stay", ["a.o", "-Xlinker", "--whole-archive", "libx.a", "-Xlinker", "--no-whole-archive"],
     ["-static", "a.o", "-Xlinker", "--whole-archive", "libx.a", "-Xlinker", "--no-whole-archive"]),
    ("-c with two sources and no -o: one compile each", ["-c", "-O2", "one.c", "two.S"],
     ["-c", "-O2", "one.c", "|", "-c", "-O2", "two.S"]),
    ("-c with two sources and -o: left to the compiler", ["-c", "one.c", "two.c", "-o", "x.o"],
     ["-c", "one.c", "two.c", "-o", "x.o"]),
    ("-c with one source: one command", ["-c", "one.c"], ["-c", "one.c"]),
    ("a call that only links loses the link-only flags", ["-Os", "-fno-asynchronous-unwind-tables", "a.o", "libx.a", "-o", "p"],
     ["-static", "-Os", "a.o", "libx.a", "-o", "p"]),
    ("a call that compiles and links: the source gets every flag, the link loses them",
     ["-Os", "-fno-asynchronous-unwind-tables", "a.o", "b.c", "-lm", "-o", "p"],
     ["-static", "-Os", "-fno-asynchronous-unwind-tables", "b.c", "-lm", *SPLIT_COMPILE, "<tmp>/0.o", "|",
      "-static", "-Os", "a.o", "<tmp>/0.o", "-lm", "-o", "p", "-Wno-unused-command-line-argument"]),
    ("two sources: two compiles, one link", ["-fno-asynchronous-unwind-tables", "a.c", "b.c"],
     ["-static", "-fno-asynchronous-unwind-tables", "a.c", *SPLIT_COMPILE, "<tmp>/0.o", "|",
      "-static", "-fno-asynchronous-unwind-tables", "b.c", *SPLIT_COMPILE, "<tmp>/1.o", "|",
      "-static", "<tmp>/0.o", "<tmp>/1.o", "-Wno-unused-command-line-argument"]),
    ("-oFILE, joined, stays with the link", ["-fno-asynchronous-unwind-tables", "a.c", "-oprog"],
     ["-static", "-fno-asynchronous-unwind-tables", "a.c", *SPLIT_COMPILE, "<tmp>/0.o", "|",
      "-static", "<tmp>/0.o", "-oprog", "-Wno-unused-command-line-argument"]),
    ("an option's value is no source", ["-include", "cfg.c", "-fno-asynchronous-unwind-tables", "main.c", "-o", "p"],
     ["-static", "-include", "cfg.c", "-fno-asynchronous-unwind-tables", "main.c", *SPLIT_COMPILE, "<tmp>/0.o", "|",
      "-static", "-include", "cfg.c", "<tmp>/0.o", "-o", "p", "-Wno-unused-command-line-argument"]),
    ("a flag given as an option's value stays", ["-Xclang", "-fno-asynchronous-unwind-tables", "a.o", "-o", "p"],
     ["-static", "-Xclang", "-fno-asynchronous-unwind-tables", "a.o", "-o", "p"]),
    ("--output FILE is the output", ["-fno-asynchronous-unwind-tables", "a.c", "--output", "p"],
     ["-static", "-fno-asynchronous-unwind-tables", "a.c", *SPLIT_COMPILE, "<tmp>/0.o", "|",
      "-static", "<tmp>/0.o", "--output", "p", "-Wno-unused-command-line-argument"]),
    ("--compile does not link", ["--compile", "-fno-asynchronous-unwind-tables", "a.c", "-o", "a.o"],
     ["--compile", "-fno-asynchronous-unwind-tables", "a.c", "-o", "a.o"]),
    ("an input of unknown kind: left alone", ["-fno-asynchronous-unwind-tables", "a.o", "b.cp", "-o", "p"],
     ["-static", "-fno-asynchronous-unwind-tables", "a.o", "b.cp", "-o", "p"]),
    ("files written beside the object: left alone", ["-gsplit-dwarf", "-fno-asynchronous-unwind-tables", "a.c", "-o", "p"],
     ["-static", "-gsplit-dwarf", "-fno-asynchronous-unwind-tables", "a.c", "-o", "p"]),
    ("the same source twice: left alone", ["-fno-asynchronous-unwind-tables", "a.c", "b.c", "a.c"],
     ["-static", "-fno-asynchronous-unwind-tables", "a.c", "b.c", "a.c"]),
    ("-o without its value: left to the compiler", ["-fno-asynchronous-unwind-tables", "a.c", "-o"],
     ["-static", "-fno-asynchronous-unwind-tables", "a.c", "-o"]),
    ("-fsyntax-only does not link", ["-fsyntax-only", "-fno-asynchronous-unwind-tables", "a.c"],
     ["-fsyntax-only", "-fno-asynchronous-unwind-tables", "a.c"]),
    ("a compile and link without those flags stays one call", ["-Os", "a.c", "-o", "p"], ["-static", "-Os", "a.c", "-o", "p"]),
    ("dependency files: left to the compiler", ["-MD", "-fno-asynchronous-unwind-tables", "a.c", "-o", "p"],
     ["-static", "-MD", "-fno-asynchronous-unwind-tables", "a.c", "-o", "p"]),
    ("-c keeps them", ["-c", "-fno-asynchronous-unwind-tables", "a.c"], ["-c", "-fno-asynchronous-unwind-tables", "a.c"]),
    ("an LTO link compiles: keeps them", ["-flto", "-fno-asynchronous-unwind-tables", "a.o", "-o", "p"],
     ["-static", "-flto", "-fno-asynchronous-unwind-tables", "a.o", "-o", "p"]),
    ("-x with stdin compiles: keeps them", ["-x", "c", "-", "-fno-asynchronous-unwind-tables", "-o", "p"],
     ["-static", "-x", "c", "-", "-fno-asynchronous-unwind-tables", "-o", "p"]),
]  # fmt: skip

RESPONSE_CASES = [
    ("quoted and escaped words", "'a b.c' \"c d.c\" e\\ f.c -lm\n", ["-static", "a b.c", "c d.c", "e f.c", "-lm"]),
    ("dropped flags inside a response file", "-O1 -static-libgcc -Wl,-Map,x.map x.c\n", ["-static", "-O1", "x.c"]),
    ("a response file naming another", "@{inner} -o p\n", ["-static", "inner.c", "-o", "p"]),
    ("a response file holding -shared", "-shared a.o\n", ["-shared", "a.o"]),
    ("a response file that only links", "-fno-asynchronous-unwind-tables a.o lib.a\n", ["-static", "a.o", "lib.a"]),
]  # fmt: skip


@pytest.fixture(scope="module")
def driver(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("driver")
    program = folder / PROGRAM
    program.write_bytes(driver_program().read_bytes())
    program.chmod(0o755)
    config = DriverConfig(commands={"cc": (CC,)}, dropped_flags=DROPPED, dropped_linker_options=DROPPED_LD,
                          link_only_dropped_flags=LINK_ONLY)
    (folder / CONFIG).write_text(config.render())
    (folder / "x-cc").symlink_to(PROGRAM)
    return folder / "x-cc"


def printed(driver: Path, args: list[str]) -> list[str]:
    """The commands the driver would run, each without the real compiler's name; "|" between."""
    proc = subprocess.run([driver, *args], capture_output=True, text=True, check=True, cwd=driver.parent,
                          env={**os.environ, "MUSLTOOL_DRIVER_PRINT": "1", "TMPDIR": "/t"})  # fmt: skip
    text = proc.stdout.replace("/t/musltool-driver.XXXXXX", "<tmp>")
    commands = [c.splitlines() for c in text.split("\n\n") if c.strip()]
    assert all(c[0] == CC for c in commands), proc.stdout
    return [arg for i, c in enumerate(commands) for arg in (["|"] if i else []) + c[1:]]


@pytest.mark.parametrize(("args", "expected"), [(a, e) for _, a, e in CASES], ids=[n for n, _, _ in CASES])
def test_the_driver_filters_command_lines(driver, args, expected):
    assert printed(driver, args) == expected


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in RESPONSE_CASES], ids=[n for n, _, _ in RESPONSE_CASES])
def test_the_driver_reads_response_files(driver, text, expected):
    (driver.parent / "inner.rsp").write_text("inner.c\n")
    (driver.parent / "args.rsp").write_text(text.format(inner=driver.parent / "inner.rsp"))
    assert printed(driver, [f"@{driver.parent / 'args.rsp'}"]) == expected


def test_a_refused_tool_says_why_and_fails(tmp_path):
    program = tmp_path / PROGRAM
    program.write_bytes(driver_program().read_bytes())
    program.chmod(0o755)
    config = DriverConfig(commands={"cc": (CC,)}, refused={"g++": "no C++ here"})
    (tmp_path / CONFIG).write_text(config.render())
    (tmp_path / "x-g++").symlink_to(PROGRAM)
    proc = subprocess.run([tmp_path / "x-g++", "a.cc"], capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and "no C++ here" in proc.stderr


def test_a_compile_and_link_with_runtime_flags_is_split_and_shares_the_libc(tmp_path):
    """BusyBox's library probes compile and link in one call with -fomit-frame-pointer and
    -fno-asynchronous-unwind-tables (zig would build a second libc for them): the driver
    compiles, then links without them. The program runs, no temporary object is left in
    TMPDIR, and a compile error fails the call and leaves nothing. (That the libc is shared:
    test_release's cold build, whose empty cache ends with one libc per machine.)"""
    cc = get_toolchain("zig", get_isa("x86_64")).tool("gcc")
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "probe.c").write_text('#include <stdio.h>\nint main(void) { puts("probe ran"); return 0; }\n')
    flags = ["-Os", "-fomit-frame-pointer", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables"]
    subprocess.run([cc, *flags, "probe.c", "-lm", "-o", "probe"], cwd=tmp_path, env=env, check=True, timeout=600)
    assert subprocess.run([tmp_path / "probe"], capture_output=True, text=True, check=True).stdout == "probe ran\n"
    assert list((tmp_path / "tmp").iterdir()) == []
    (tmp_path / "broken.c").write_text("int main(void) { return missing; }\n")
    proc = subprocess.run([cc, *flags, "broken.c", "-o", "broken"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert proc.returncode != 0 and "missing" in proc.stderr
    assert not (tmp_path / "broken").exists() and list((tmp_path / "tmp").iterdir()) == []


def test_a_split_call_interrupted_leaves_no_temporary_object(tmp_path):
    """SIGTERM while a split call compiles: the compiler is stopped, the temporary folder goes,
    and the driver dies of the signal it got."""
    (tmp_path / "sleepy-cc").write_text("#!/bin/sh\nexec sleep 61.375\n")
    (tmp_path / "sleepy-cc").chmod(0o755)
    program = tmp_path / PROGRAM
    program.write_bytes(driver_program().read_bytes())
    program.chmod(0o755)
    config = DriverConfig(commands={"cc": (str(tmp_path / "sleepy-cc"),)}, link_only_dropped_flags=LINK_ONLY)
    (tmp_path / CONFIG).write_text(config.render())
    (tmp_path / "x-cc").symlink_to(PROGRAM)
    (tmp_path / "t").mkdir()
    call = subprocess.Popen([tmp_path / "x-cc", "-fno-asynchronous-unwind-tables", "a.c", "-o", "p"], cwd=tmp_path,
                            env={**os.environ, "TMPDIR": str(tmp_path / "t")})  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not list((tmp_path / "t").iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list((tmp_path / "t").iterdir()), "the split made no temporary folder"
        time.sleep(0.2)  # the compiler (sleep) started
        call.send_signal(signal.SIGTERM)
        assert call.wait(timeout=30) == -signal.SIGTERM
    finally:
        call.kill()
    assert list((tmp_path / "t").iterdir()) == []
    assert subprocess.run(["pgrep", "-f", "sleep 61.375"], capture_output=True).returncode == 1


def test_a_split_call_whose_tmpdir_is_missing_still_builds(tmp_path):
    cc = get_toolchain("zig", get_isa("x86_64")).tool("gcc")
    (tmp_path / "probe.c").write_text('#include <stdio.h>\nint main(void) { puts("ok"); return 0; }\n')
    env = {**os.environ, "TMPDIR": str(tmp_path / "missing")}
    subprocess.run([cc, "-Os", "-fomit-frame-pointer", "probe.c", "-o", "probe"], cwd=tmp_path, env=env,
                   check=True, timeout=600)  # fmt: skip
    assert subprocess.run([tmp_path / "probe"], capture_output=True, text=True, check=True).stdout == "ok\n"
