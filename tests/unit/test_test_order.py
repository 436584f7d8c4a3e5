"""The order `invoke test` deals tests out in (DEALT_FIRST in tests/integration/conftest.py):
every entry names tests that exist, and those come first, so that a renamed test cannot
quietly fall back to the end of a run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import DEALT_FIRST

ROOT = Path(__file__).resolve().parents[2]


def collected() -> list[str]:
    listed = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    return [line.split("/")[-1] for line in listed.stdout.splitlines() if "::" in line]


def test_each_test_dealt_first_exists_and_the_long_ones_lead_the_collection():
    ids = collected()
    groups = set(re.findall(r'xdist_group\("([^"]+)"\)', "".join(p.read_text() for p in (ROOT / "tests").rglob("*.py"))))
    named = [entry for entry in DEALT_FIRST if not entry.startswith("group ")]
    for entry in named:
        assert any(i.startswith(entry) for i in ids), f"DEALT_FIRST names no test: {entry}"
    assert {entry.removeprefix("group ") for entry in DEALT_FIRST if entry.startswith("group ")} <= groups
    firsts = [n for n, i in enumerate(ids) if any(i.startswith(entry) for entry in named)]
    assert max(firsts) < ids.index(next(i for i in ids if i.startswith("test_pipeline.py::")))
