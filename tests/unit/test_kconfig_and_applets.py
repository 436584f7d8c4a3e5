"""Kconfig handling, BusyBox fixup selection, applet maps and suite parsing: pure logic."""

from __future__ import annotations

import pytest

from musltool.catalog import load_recipe
from musltool.errors import UsageError
from musltool.isa import get_isa
from musltool.kconfig import config_problem, not_held, parse_config, set_symbols
from musltool.kinds.busybox.applets import (
    applet_map_from_lines,
    enabled_applets,
    symbols_for_applets,
)
from musltool.kinds.busybox.config import applicable_fixups
from musltool.kinds.busybox.suite import (
    ONE_BY_ONE_RUNS,
    applet_result,
    applet_results,
    list_result,
    run_one_by_one,
)
from musltool.report import Evidence, Status
from musltool.runners import RunResult
from musltool.suites import SuiteOutcome, SuiteTest, parse_suite

CONFIG = """\
# Automatically generated
CONFIG_STATIC=y
# CONFIG_TC is not set
CONFIG_EXTRA_CFLAGS=""
CONFIG_FEATURE_EDITING_MAX_LEN=1024
"""

# Declarations in the form BusyBox's sources use (copied shapes, not BusyBox code).
DECLARATIONS = [
    "IF_TEST1(APPLET_NOEXEC([,  test, BB_DIR_USR_BIN, BB_SUID_DROP, test))",
    "IF_TEST2(APPLET_NOEXEC([[, test, BB_DIR_USR_BIN, BB_SUID_DROP, test))",
    "IF_SH_IS_ASH(APPLET_ODDNAME(sh, ash, BB_DIR_BIN, BB_SUID_DROP, ash))",
    "IF_SH_IS_HUSH(APPLET_ODDNAME(sh, hush, BB_DIR_BIN, BB_SUID_DROP, hush))",
    "IF_LS(APPLET_NOEXEC(ls, ls, BB_DIR_BIN, BB_SUID_DROP, ls))",
    "IF_DEPMOD(IF_NOT_MODPROBE_SMALL(APPLET(depmod, BB_DIR_SBIN, BB_SUID_DROP)))",
    "IF_DEPMOD(IF_MODPROBE_SMALL(APPLET_ODDNAME(depmod, modprobe, BB_DIR_SBIN, BB_SUID_DROP, depmod)))",
    "IF_GREP(APPLET(grep, BB_DIR_BIN, BB_SUID_DROP))",
]


def test_parse_config_reads_all_three_forms():
    assert parse_config(CONFIG) == {
        "STATIC": "y",
        "TC": "n",
        "EXTRA_CFLAGS": '""',
        "FEATURE_EDITING_MAX_LEN": "1024",
    }


def test_set_symbols_replaces_lines_and_appends_new_ones():
    text = set_symbols(CONFIG, {"STATIC": "n", "TC": "y", "AWK": "y"})
    values = parse_config(text)
    assert values["STATIC"] == "n" and values["TC"] == "y" and values["AWK"] == "y"
    assert text.count("CONFIG_TC") == 1
    assert "# CONFIG_STATIC is not set" in text


def test_config_problem_names_the_first_bad_line():
    assert config_problem(CONFIG) is None
    assert config_problem("CONFIG_A=y\nthis is not kconfig\n") == (
        "line 2 is not a Kconfig line: 'this is not kconfig'"
    )


def test_not_held_ignores_symbols_the_tree_lacks():
    config = {"STATIC": "y", "PIE": "y"}
    assert not_held(config, {"STATIC": "y", "PIE": "n", "SHA1_HWACCEL": "n"}) == ["PIE"]


def test_fixups_follow_version_isa_and_compiler():
    data = load_recipe("busybox").data

    def reasons(*limits):
        return [f.reason for f in applicable_fixups(data, *limits)]

    on_arm_clang = reasons("1.37.0", "armv7", "clang")
    on_x86_gcc = reasons("1.37.0", "x86_64", "gcc")
    assert any("SHA1/SHA256" in r for r in on_arm_clang)
    assert not any("SHA1/SHA256" in r for r in on_x86_gcc)
    assert not any("SHA1/SHA256" in r for r in reasons("1.35.0", "armv7", "clang"))
    # every row but the two x86 ones, tier 2 and 3 included (except_isas)
    assert any("SHA1/SHA256" in r for r in reasons("1.37.0", "s390x", "clang"))
    assert not any("SHA1/SHA256" in r for r in reasons("1.37.0", "x86", "clang"))
    assert any("BB_GLOBAL_CONST" in r for r in on_arm_clang)
    assert not any("BB_GLOBAL_CONST" in r for r in on_x86_gcc)
    assert all(any("tc does not compile" in r for r in rs) for rs in (on_arm_clang, on_x86_gcc))


@pytest.fixture
def applets():
    return applet_map_from_lines(DECLARATIONS)


def test_applet_map_comes_from_applet_declarations(applets):
    assert applets["["] == [("TEST1",)]
    assert applets["[["] == [("TEST2",)]
    assert applets["sh"] == [("SH_IS_ASH",), ("SH_IS_HUSH",)]  # ash first: it is chosen
    assert ("DEPMOD", "!MODPROBE_SMALL") in applets["depmod"]
    assert ("DEPMOD", "MODPROBE_SMALL") in applets["depmod"]


def test_symbols_and_enabled_applets(applets):
    assert symbols_for_applets(["sh", "[", "ls"], applets) == ["LS", "SH_IS_ASH", "TEST1"]
    config = {"DEPMOD": "y", "MODPROBE_SMALL": "n", "LS": "y"}
    assert enabled_applets(config, applets) == ["depmod", "ls"]


def test_unknown_applet_gets_closest_names(applets):
    with pytest.raises(UsageError) as err:
        symbols_for_applets(["sh", "gerp"], applets)
    assert "unknown applet 'gerp' (closest: grep" in str(err.value)


SUITE_OUTPUT = """\
HELP|ls|ok
HELP|vi|ok
HELP|egrep|none
PASS|ls mkdir touch|lists
FAIL|awk printf|printf and regex|got 1 line
some stray output
SUITE-END
"""
REVIEWED = {"vi": "interactive: needs a terminal", "lsusb": "no USB devices here"}


def test_suite_output_becomes_records():
    outcome = parse_suite(SUITE_OUTPUT)
    assert outcome.usage == {"ls": True, "vi": True, "egrep": False}
    assert outcome.tests == [
        SuiteTest("ls", "lists", True, ""),
        SuiteTest("awk", "printf and regex", False, "got 1 line"),
    ]
    assert outcome.ended
    assert outcome.reached() == {"ls", "vi", "awk"}
    assert not parse_suite(SUITE_OUTPUT.replace("SUITE-END\n", "")).ended


def test_each_applet_says_what_its_result_rests_on():
    outcome = parse_suite(SUITE_OUTPUT)
    ls, vi, awk, egrep, lsusb = (applet_result(a, outcome, REVIEWED) for a in ("ls", "vi", "awk", "egrep", "lsusb"))
    assert (ls.status, ls.evidence) == (Status.PASSED, Evidence.FUNCTIONAL)
    assert (vi.status, vi.evidence) == (Status.PRESENT, Evidence.USAGE)  # present, never passed
    assert vi.detail == "usage text only: interactive: needs a terminal"
    assert awk.status is Status.FAILED
    # no usage text, no test: not-testable only with a reviewed reason, else a failure
    assert (lsusb.status, lsusb.detail) == (Status.NOT_TESTABLE, "no USB devices here")
    assert egrep.status is Status.FAILED and "no reviewed reason" in egrep.detail
    assert applet_result("cp", SuiteOutcome(), {}).status is Status.FAILED


def test_merged_outcomes_keep_the_end_mark_and_every_test():
    suite = parse_suite(SUITE_OUTPUT)
    one_by_one = SuiteOutcome(tests=[SuiteTest("cp", "known answer", True, source="one by one")])
    merged = SuiteOutcome().merge(suite).merge(one_by_one)
    assert merged.ended and len(merged.tests) == 3
    assert applet_result("cp", merged, {}).source == "one by one"


def test_one_failed_test_fails_the_applet_even_when_another_passed():
    outcome = SuiteOutcome(tests=[SuiteTest("sed", "substitutes", True), SuiteTest("sed", "in place", False, "got x")])
    result = applet_result("sed", outcome, {})
    assert (result.status, result.evidence) == (Status.FAILED, Evidence.NONE)
    assert result.detail == "1 of 2 tests failed"


@pytest.mark.parametrize(("listed", "ok"), [
    (["ls", "sh"], True), (["ls", "sh", "vi"], False), (["ls"], False), ([], False), (["sh", "ls"], False),
])  # fmt: skip
def test_busybox_list_must_be_exactly_the_configured_applets(listed, ok):
    result = list_result(listed, ["ls", "sh"], "exit 0")
    assert (result.status is Status.PASSED) is ok


class ScriptedSession:
    """A session whose runs answer from a table: what a broken applet would print."""

    def __init__(self, answers: dict[str, tuple[int, str]]) -> None:
        self.isa = get_isa("aarch64")
        self.answers = answers
        self.runs: list[tuple[str, list[str], str | None]] = []

    def run(self, program, args, stdin=None, timeout=0, env=None, output=None):
        self.runs.append((program, args, stdin))
        code, stdout = self.answers[program.removeprefix("bin/")]
        return RunResult(code, stdout, "")


@pytest.mark.parametrize(("applet", "answer", "ok"), [
    ("echo", (0, "hi\n"), True),
    ("echo", (0, ""), False),       # a no-op binary: exit 0, prints nothing
    ("echo", (0, "hi"), False),     # close is not equal
    ("uname", (0, "aarch64\n"), True),
    ("uname", (0, "x86_64\n"), False),  # the host's answer, not the ISA's
    ("wc", (1, "2\n"), False),      # right output, wrong exit
])  # fmt: skip
def test_one_by_one_runs_compare_stdout_and_exit_code(applet, answer, ok):
    session = ScriptedSession({applet: answer})
    outcome = run_one_by_one(session, [applet], session.isa)
    assert [t.passed for t in outcome.tests] == [ok]


class StandInSession(ScriptedSession):
    """Every applet replaced by one stand-in: exits 0 and prints nothing, exits 1, or echoes
    its arguments (with exit 0)."""

    def __init__(self, stand_in: str) -> None:
        super().__init__({})
        self.stand_in = stand_in

    def run(self, program, args, stdin=None, timeout=0, env=None, output=None):
        if self.stand_in == "echo":
            return RunResult(0, " ".join(args) + "\n", "")
        return RunResult(1 if self.stand_in == "exit 1" else 0, "", "")


@pytest.mark.parametrize(("stand_in", "alike"), [("exit 0", {"true"}), ("exit 1", {"false"}), ("echo", {"echo"})])
def test_every_one_by_one_run_fails_when_its_applet_is_a_stand_in(stand_in, alike):
    """A knock-out of the one-by-one runs: only the applet a stand-in *is* may survive it."""
    survivors = set()
    for applet in ONE_BY_ONE_RUNS:
        session = StandInSession(stand_in)
        outcome = run_one_by_one(session, [applet], session.isa)
        if all(t.passed for t in outcome.tests):
            survivors.add(applet)
    assert survivors == alike


KNOCKED_OUT = """\
PASS|ls mkdir|lists
KO|ls mkdir|lists|exit0|killed
KO|ls mkdir|lists|exit1|killed
KO|ls mkdir|lists|echo|killed
PASS|test|numbers
KO|test|numbers|exit0|survived
KO|test|numbers|exit1|killed
KO|test|numbers|echo|killed
PASS|true|exit 0
KO|true|exit 0|exit0|survived
KO|true|exit 0|exit1|killed
KO|true|exit 0|echo|killed
PASS|sed|one
KO|sed|one|exit0|killed
KO|sed|one|exit1|killed
KO|sed|one|echo|killed
PASS|sed|two
KO|sed|two|exit0|killed
KO|sed|two|exit1|killed
KO|sed|two|echo|survived
SUITE-END
"""


def test_a_test_that_passes_with_its_applet_knocked_out_proves_nothing():
    outcome = parse_suite(KNOCKED_OUT)
    ls, test, true, sed = (applet_result(a, outcome, {}) for a in ("ls", "test", "true", "sed"))
    assert (ls.status, ls.evidence) == (Status.PASSED, Evidence.FUNCTIONAL)
    assert "1 fail with it knocked out" in ls.detail
    # test ran as a shell builtin: the exit0 stand-in passes its check
    assert (test.status, test.evidence) == (Status.PRESENT, Evidence.NONE)
    assert "pass with a stand-in too (exit0): not proven" in test.detail
    # true is what the exit0 stand-in does: surviving that one is no fault of the check
    assert (true.status, true.evidence) == (Status.PASSED, Evidence.FUNCTIONAL)
    # one good test proves sed; the one echo passes too does not count
    assert sed.status is Status.PASSED and "1 more pass with a stand-in too" in sed.detail
    results = {r.name: r for r in applet_results(outcome, ["ls", "test", "true", "sed"], {})}
    assert results["suite: test: numbers"].evidence is Evidence.NONE
    assert "proves nothing about it" in results["suite: test: numbers"].detail
    assert results["suite: ls: lists"].detail == "fails with ls knocked out (exit0, exit1, echo)"


class ProgramSession(ScriptedSession):
    """Answers by program: the applet under test and the stand-ins (true, false, echo)."""

    def run(self, program, args, stdin=None, timeout=0, env=None, output=None):
        name = program.removeprefix("bin/")
        if name == "true":
            return RunResult(0, "", "")
        if name == "false":
            return RunResult(1, "", "")
        if name == "echo":
            return RunResult(0, " ".join(args) + "\n", "")
        return super().run(program, args, stdin, timeout, env, output)


def test_one_by_one_runs_are_knocked_out_with_the_builds_own_true_false_and_echo():
    session = ProgramSession({"basename": (0, "b\n")})
    outcome = run_one_by_one(session, ["basename", "true", "false", "echo"], session.isa, knock_out=True)
    basename = applet_result("basename", outcome, {})
    assert basename.status is Status.PASSED and "fail with it knocked out" in basename.detail
    assert [(s, k) for t in outcome.tests if t.applet == "basename" for s, k in t.knockouts] == [
        ("exit0", True), ("exit1", True), ("echo", True)]
