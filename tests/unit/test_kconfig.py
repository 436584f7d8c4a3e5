"""Kconfig handling (musltool/kconfig.py): reading and checking .config text, and a tree's
make targets, with a Python script standing in for `make` (it writes the .config a target
would, and for `oldconfig` answers as many questions as it is given newlines)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from musltool.errors import BuildError, UsageError
from musltool.kconfig import (
    KconfigTree,
    config_problem,
    parse_config,
    read_config_file,
    set_symbols,
)

MAKE = """\
import os, sys
from pathlib import Path
out = Path(os.environ["OUT"])
target = sys.argv[1]
if target == "defconfig":
    (out / ".config").write_text("CONFIG_A=y\\n")
elif target == "oldconfig":
    answers = sys.stdin.read().count("\\n")
    if "CONFIG_BROKEN=y" in (out / ".config").read_text():
        print("scripts/kconfig/conf: warning")
        sys.stdout.flush()
        print("Kconfig: symbol BROKEN has no type", file=sys.stderr)
        sys.exit(2)
    if answers < 4000:
        print("ran out of answers"); sys.exit(1)
    (out / ".config").write_text((out / ".config").read_text() + "CONFIG_NEW=y\\n")
else:
    print(f"no rule to make target {target}"); sys.exit(2)
"""


@pytest.fixture
def tree(tmp_path) -> KconfigTree:
    script = tmp_path / "make.py"
    script.write_text(MAKE)
    out = tmp_path / "out"
    out.mkdir()
    return KconfigTree(
        make=lambda *targets: [sys.executable, str(script), *targets],
        out=out,
        env={"OUT": str(out)},
    )


def test_a_target_gives_the_config_it_writes(tree):
    assert tree.config_path == tree.out / ".config"
    assert tree.from_target("defconfig") == "CONFIG_A=y\n"


def test_a_failing_target_is_a_build_error(tree):
    with pytest.raises(BuildError, match="make allyesconfig"):
        tree.from_target("allyesconfig")


def test_oldconfig_answers_every_question_and_gives_the_final_config(tree):
    assert tree.resolve("CONFIG_A=y\n") == "CONFIG_A=y\nCONFIG_NEW=y\n"


def test_a_failed_oldconfig_says_its_last_meaningful_line(tree):
    with pytest.raises(BuildError) as raised:
        tree.resolve("CONFIG_BROKEN=y\n")
    assert str(raised.value) == "make oldconfig failed: Kconfig: symbol BROKEN has no type"


def test_the_tree_is_frozen(tree):
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.out = Path("/")  # type: ignore[misc]


def test_an_empty_value_is_a_value_not_unset():
    assert parse_config('CONFIG_EMPTY=\nCONFIG_S=""\n') == {"EMPTY": "", "S": '""'}


def test_set_symbols_replaces_an_unset_line_and_a_set_one_alike():
    text = "# CONFIG_A is not set\nCONFIG_B=y\nCONFIG_C=y\n"
    assert (
        set_symbols(text, {"A": "y", "B": "n"}) == "CONFIG_C=y\nCONFIG_A=y\n# CONFIG_B is not set\n"
    )


def test_a_long_bad_line_is_cut_at_60_characters():
    line = "x" * 70
    assert config_problem(f"# comment\n\n{line}\n") == f"line 3 is not a Kconfig line: {'x' * 60!r}"


def test_read_config_file_gives_the_text_or_one_usage_error(tmp_path):
    good = tmp_path / "good.config"
    good.write_text("CONFIG_A=y\n# a comment\n")
    assert read_config_file(good, "--config") == "CONFIG_A=y\n# a comment\n"
    with pytest.raises(UsageError, match=r"^--config .*absent: not found$"):
        read_config_file(tmp_path / "absent", "--config")
    bad = tmp_path / "bad.config"
    bad.write_text("CONFIG_A=y\nrm -rf /\n")
    with pytest.raises(UsageError, match=r"bad.config: line 2 is not a Kconfig line: 'rm -rf /'$"):
        read_config_file(bad, "--fragment")
    binary = tmp_path / "binary.config"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(UsageError, match="cannot read"):
        read_config_file(binary, "--config")
