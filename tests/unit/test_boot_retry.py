"""A boot whose kernel oopses before the login prompt is booted once more; nothing else is.

The "machine" is a small Python program standing in for qemu-system (the real boots are the
integration tests): it prints what the Nth boot's console would show, N counted in a file.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from musltool.firmware import boot

OOPS = "[    2.54] Kernel panic - not syncing: Fatal exception in interrupt"
INIT_DIED = "[    1.20] Kernel panic - not syncing: No working init found."
PROMPT = "musltool login: "


def machine(tmp_path: Path, consoles: list[str]) -> list[str]:
    """A command that prints consoles[N] on its Nth start (the last one again after that)."""
    count = tmp_path / "starts"
    count.write_text("0")
    script = tmp_path / "machine.py"
    script.write_text(
        "import sys, pathlib\n"
        f"count = pathlib.Path({str(count)!r})\n"
        "n = int(count.read_text())\n"
        "count.write_text(str(n + 1))\n"
        f"consoles = {consoles!r}\n"
        "sys.stdout.write(consoles[min(n, len(consoles) - 1)])\n"
    )
    return [sys.executable, str(script)]


def starts(tmp_path: Path) -> int:
    return int((tmp_path / "starts").read_text())


def test_an_oops_before_the_prompt_is_booted_once_more(tmp_path: Path) -> None:
    with ExitStack() as stack:
        console, up, oopsed = boot._boot_to_login(machine(tmp_path, [OOPS, PROMPT]), stack)
        assert up and PROMPT in console.text()
    assert starts(tmp_path) == 2
    assert "Fatal exception in interrupt" in oopsed
    assert "first one's kernel oopsed" in boot._second_boot(oopsed)


@pytest.mark.parametrize(
    "consoles",
    [[INIT_DIED, PROMPT], ["Linux version 6.12, then nothing", PROMPT], [OOPS, OOPS, PROMPT]],
    ids=["init-died", "no-oops", "two-oopses"],
)
def test_anything_else_fails_on_the_first_boot(tmp_path: Path, consoles: list[str]) -> None:
    """init dying is the image's fault, a silent machine is not an oops, and a second oops
    is not booted a third time."""
    with ExitStack() as stack:
        _, up, _ = boot._boot_to_login(machine(tmp_path, consoles), stack)
    assert not up
    assert starts(tmp_path) == (2 if consoles[0] == OOPS else 1)


def test_a_first_boot_that_comes_up_says_nothing_of_a_second() -> None:
    assert boot._second_boot("") == ""
