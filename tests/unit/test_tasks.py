"""Every task and every option of every task explains itself (README: `--help` on every task)."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from musltool.tasks import ns

ROOT = Path(__file__).resolve().parents[2]
TASKS = sorted(ns.task_names)


def options_of(name: str) -> list[str]:
    task = ns[name]
    return [p for p in inspect.signature(task.body).parameters if p != "c"]


def test_the_collection_holds_every_documented_task():
    assert {"build", "run", "package", "rootfs", "image", "boot", "firmware", "clean", "isas", "doctor", "setup", "test",
            "toolchain.env", "toolchain.fetch", "toolchain.list"} <= set(TASKS)  # fmt: skip


@pytest.mark.parametrize("name", TASKS)
def test_task_has_a_summary_and_help_for_each_option(name):
    task = ns[name]
    assert (task.__doc__ or "").strip(), f"{name} has no docstring"
    missing = [o for o in options_of(name) if not task.help.get(o, "").strip()]
    assert not missing, f"{name}: options without help text: {missing}"
    unknown = set(task.help) - set(options_of(name))
    assert not unknown, f"{name}: help for options it does not take: {unknown}"


@pytest.mark.parametrize("name", TASKS)
def test_help_output_shows_each_option_with_its_text(name):
    proc = subprocess.run([sys.executable, "-m", "invoke", "-r", str(ROOT), name, "--help"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    flat = " ".join(proc.stdout.split())
    for option in options_of(name):
        dashed = option.rstrip("_").replace("_", "-")  # Invoke: from_ is --from
        flags = (f"--{dashed}", f"--[no-]{dashed}") if len(option) > 1 else (f"-{option}",)
        assert any(flag in proc.stdout for flag in flags), f"{name} --help lacks {flags[0]}"
        first_words = " ".join(ns[name].help[option].split()[:3])
        assert first_words in flat, f"{name} --help lacks the text of {flags[0]}"
