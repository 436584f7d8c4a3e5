"""The zig toolchain's bin folder is installed by several processes at once (pytest-xdist
workers, parallel builds): none of them may fail."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from musltool.toolchain.base import TOOL_NAMES
from musltool.toolchain.driver import PROGRAM, DriverConfig, install

PROCESSES = 6
ROUNDS = 15


def _install_rounds(folders: list[str], program: str, start, failures) -> None:
    """Each round, every process installs into the same fresh folder at the same moment."""
    for folder in folders:
        start.wait()
        try:
            install(Path(folder), "riscv64-linux-musl", Path(program), DriverConfig(commands={"gcc": ("true",)}))
        except OSError as exc:
            failures.put(f"{type(exc).__name__}: {exc}")


def test_installing_the_tool_links_from_many_processes_at_once(tmp_path):
    program = tmp_path / "driver"
    program.write_bytes(b"\x7fELF driver")
    folders = [str(tmp_path / f"round{n}" / "bin") for n in range(ROUNDS)]
    context = multiprocessing.get_context("fork")
    start, failures = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=_install_rounds, args=(folders, str(program), start, failures))
               for _ in range(PROCESSES)]  # fmt: skip
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    assert failures.empty(), failures.get()
    for folder in folders:
        links = [Path(folder) / f"riscv64-linux-musl-{tool}" for tool in TOOL_NAMES]
        assert all(link.is_symlink() and link.readlink() == Path(PROGRAM) for link in links)
