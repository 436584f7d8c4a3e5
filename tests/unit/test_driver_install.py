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


def test_x86_links_lose_busyboxs_i486_flags_and_other_rows_keep_theirs():
    """BusyBox's arch/i386/Makefile puts -march=i486 -mtune=i386 on its x86 links: zig would
    compile an i486 libc beside the row's. The row's driver drops them from links only."""
    from musltool.isa import ISAS, get_isa
    from musltool.toolchain import get_toolchain
    from musltool.toolchain.zig import _manifest

    x86 = get_toolchain("zig", get_isa("x86")).driver_config()
    assert {"-march=i486", "-mtune=i386"} <= set(x86.link_only_dropped_flags)
    assert "drop-link\t-march=i486" in x86.render()
    x86_64 = get_toolchain("zig", get_isa("x86_64")).driver_config()
    assert "-march=i486" not in x86_64.link_only_dropped_flags
    assert set(_manifest()["isa_link_only_dropped_flags"]) <= {isa.name for isa in ISAS}
