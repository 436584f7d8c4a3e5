"""What BusyBox's evidence words say (musltool/kinds/busybox/suite.py), branch by branch, and
whether the one-by-one known answers are true answers at all.

The known answers are asked of the host's own POSIX tools (coreutils, dash, bash, grep, sed,
awk): an answer that no real implementation gives would fail every BusyBox build, and one
that a real tool gives only by accident is caught when it disagrees.
"""

from __future__ import annotations

import dataclasses
import platform
import re
import subprocess
from pathlib import Path

import pytest

from musltool.isa import get_isa
from musltool.kinds.busybox.suite import (
    KNOCKED_OUT,
    ONE_BY_ONE_RUNS,
    applet_result,
    applet_results,
    applets_headline,
    list_result,
    run_one_by_one,
)
from musltool.kinds.busybox.suite import test_result as suite_test_result
from musltool.report import Evidence, Status, TestResult
from musltool.runners import RunResult
from musltool.suites import SuiteOutcome, SuiteTest, parse_suite

HOST_MACHINE = platform.machine()


def host_argv(applet: str, args: list[str]) -> list[str]:
    """The host's program for an applet and its arguments."""
    if applet == "[[":
        return ["bash", "-c", f"[[ {' '.join(args[:-1])} ]]"]
    if applet in ("sh", "ash"):
        return ["/bin/sh", *args]
    return [applet, *args]


@pytest.mark.parametrize("applet", sorted(ONE_BY_ONE_RUNS))
def test_each_known_answer_is_what_the_hosts_own_tool_answers(applet):
    for args, stdin, expected, code in ONE_BY_ONE_RUNS[applet]:
        done = subprocess.run(host_argv(applet, args), input=stdin or "", capture_output=True, text=True, timeout=30)
        answer = expected.format(uname_machine=HOST_MACHINE)
        assert (done.returncode, done.stdout) == (code, answer), (applet, args)


class Session:
    """Answers runs from a table (program -> exit code, stdout, stderr) and records them: the
    applets as a broken build would answer."""

    def __init__(self, answers: dict[str, tuple[int, str, str]], isa: str = "aarch64") -> None:
        self.isa = get_isa(isa)
        self.answers = answers
        self.runs: list[tuple[str, tuple[str, ...]]] = []

    def run(self, program, args, stdin=None, timeout=0, env=None, output=None) -> RunResult:
        self.runs.append((program, tuple(args)))
        code, stdout, stderr = self.answers[program.removeprefix("bin/")]
        return RunResult(code, stdout, stderr)


@pytest.mark.parametrize(
    ("stdout", "stderr", "printed"),
    [
        ("Usage: tac [FILE]...\n", "", True),
        ("", "Usage: tac [FILE]...\n", True),
        ("", "tac: bad\n", False),
    ],
)
def test_an_applet_without_known_answers_is_asked_for_its_usage_text(stdout, stderr, printed):
    session = Session({"tac": (1, stdout, stderr)})
    outcome = run_one_by_one(session, ["tac"], session.isa)
    assert session.runs == [("bin/tac", ("--help",))]
    assert outcome.usage == {"tac": printed} and outcome.tests == []


def test_known_answers_are_named_by_number_and_arguments_when_there_are_several():
    session = Session({"test": (1, "", ""), "echo": (0, "hi\n", "")})
    outcome = run_one_by_one(session, ["test", "echo"], session.isa)
    assert [(t.applet, t.name) for t in outcome.tests] == [
        ("test", "known answer 1 (1 -eq 1)"),
        ("test", "known answer 2 (1 -eq 2)"),
        ("test", "known answer 3 (-n )"),
        ("echo", "known answer"),
    ]
    assert [t.passed for t in outcome.tests] == [False, True, True, True]
    assert outcome.tests[0].detail == "exit 1, printed ''"
    assert {t.source for t in outcome.tests} == {"one by one"}


def test_without_knock_out_no_stand_in_is_run():
    session = Session(
        {
            "basename": (0, "b\n", ""),
            "true": (0, "", ""),
            "false": (1, "", ""),
            "echo": (0, "hi\n", ""),
        }
    )
    outcome = run_one_by_one(session, ["basename", "true", "false", "echo"], session.isa)
    assert session.runs == [("bin/basename", ("/a/b",)), ("bin/true", ()), ("bin/false", ()), ("bin/echo", ("hi",))]
    assert {t.knockouts for t in outcome.tests} == {()}


def test_stand_ins_are_only_the_builds_own_applets():
    session = Session({"basename": (0, "b\n", ""), "true": (0, "", "")})
    outcome = run_one_by_one(session, ["basename", "true"], session.isa, knock_out=True)
    assert [t.knockouts for t in outcome.tests if t.applet == "basename"] == [(("exit0", True),)]


@pytest.mark.parametrize(
    ("stand_in", "killed"),
    [
        ((0, "b\n"), False),  # answers exactly: survives
        ((0, "b"), True),  # the right exit, other output
        ((3, "b\n"), True),  # the right output, another exit
    ],
)
def test_a_stand_in_survives_only_by_giving_the_whole_answer(stand_in, killed):
    code, stdout = stand_in
    session = Session({"basename": (0, "b\n", ""), "echo": (code, stdout, "")})
    outcome = run_one_by_one(session, ["basename", "echo"], session.isa, knock_out=True)
    assert outcome.tests[0].knockouts == (("echo", killed),)


def test_the_expected_machine_is_the_isas_not_the_hosts():
    for isa, machine in (("riscv64", "riscv64"), ("armv7", "armv7l")):
        session = Session({"uname": (0, f"{machine}\n", "")}, isa)
        assert run_one_by_one(session, ["uname"], session.isa).tests[0].passed


def test_a_failed_test_is_a_failed_result_with_no_evidence():
    result = suite_test_result(SuiteTest("sed", "one", False, "got x", source="suite"))
    assert result == TestResult("suite: sed: one", Status.FAILED, "got x", Evidence.NONE, "suite")


def test_a_passed_test_not_knocked_out_keeps_its_detail():
    result = suite_test_result(SuiteTest("sed", "one", True, "exit 0", source="suite"))
    assert result == TestResult(
        "suite: sed: one", Status.PASSED, "exit 0", Evidence.FUNCTIONAL, "suite"
    )


def test_a_passed_test_names_the_stand_ins_that_killed_it():
    knockouts = (("exit0", True), ("exit1", False), ("echo", True))
    result = suite_test_result(SuiteTest("false", "exit 1", True, "ok", knockouts=knockouts))
    assert (result.status, result.evidence) == (Status.PASSED, Evidence.FUNCTIONAL)
    assert result.detail == "fails with false knocked out (exit0, echo)"


def test_a_test_a_stand_in_passes_names_it_and_proves_nothing():
    result = suite_test_result(
        SuiteTest("cat", "copies", True, "ok", knockouts=(("exit0", True), ("echo", False)))
    )
    assert (result.status, result.evidence) == (Status.PASSED, Evidence.NONE)
    assert result.detail == "passes with cat replaced by a stand-in (echo): proves nothing about it"


def test_an_applet_proven_by_some_tests_says_how_many_and_discounts_the_rest():
    outcome = SuiteOutcome(
        tests=[
            SuiteTest("cut", "a", True, source="suite", knockouts=(("exit0", True),)),
            SuiteTest("cut", "b", True, source="one by one"),
            SuiteTest("cut", "c", True, source="suite", knockouts=(("echo", False),)),
        ]
    )
    result = applet_result("cut", outcome, {})
    assert result == TestResult(
        "applet cut",
        Status.PASSED,
        f"2 known-answer tests (1 {KNOCKED_OUT}); 1 more pass with a stand-in too and do not count",
        Evidence.FUNCTIONAL,
        "one by one, suite",
    )


def test_an_applet_proven_without_knock_outs_says_only_how_many():
    outcome = SuiteOutcome(tests=[SuiteTest("cut", "a", True), SuiteTest("cut", "b", True)])
    assert applet_result("cut", outcome, {}).detail == "2 known-answer tests"


def test_an_applet_whose_every_test_a_stand_in_passes_is_present_not_proven():
    outcome = SuiteOutcome(
        tests=[
            SuiteTest("nohup", "a", True, knockouts=(("exit0", False),)),
            SuiteTest("nohup", "b", True, knockouts=(("echo", False), ("exit0", False))),
        ],
        usage={"nohup": True},
    )
    result = applet_result("nohup", outcome, {"nohup": "reason"})
    assert (result.status, result.evidence) == (Status.PRESENT, Evidence.NONE)
    assert result.detail == "its 2 tests pass with a stand-in too (echo, exit0): not proven"


def test_usage_text_alone_is_present_with_or_without_a_reviewed_reason():
    outcome = SuiteOutcome(usage={"vi": True, "ed": True})
    vi = applet_result("vi", outcome, {"vi": "needs a terminal"})
    ed = applet_result("ed", outcome, {})
    assert vi == TestResult(
        "applet vi", Status.PRESENT, "usage text only: needs a terminal", Evidence.USAGE, "usage"
    )
    assert (
        ed.detail == "usage text only: no test here exercises it" and ed.evidence is Evidence.USAGE
    )


def test_no_usage_text_and_a_reason_is_not_testable_and_without_is_failed():
    outcome = SuiteOutcome(usage={"lsusb": False, "cp": False})
    lsusb = applet_result("lsusb", outcome, {"lsusb": "no USB"})
    assert lsusb == TestResult(
        "applet lsusb", Status.NOT_TESTABLE, "no USB", Evidence.NONE, "reviewed list"
    )
    cp = applet_result("cp", outcome, {})
    assert (cp.status, cp.evidence) == (Status.FAILED, Evidence.NONE)


def test_applet_results_leave_upstream_tests_to_their_own_results():
    outcome = SuiteOutcome(
        tests=[
            SuiteTest("sed", "one", True),
            SuiteTest("sed", "sed NUL", True, source="upstream testsuite"),
        ]
    )
    results = applet_results(outcome, ["sed"], {})
    assert [r.name for r in results] == ["suite: sed: one", "applet sed"]
    assert results[1].detail == "2 known-answer tests"


def test_a_wrong_list_names_at_most_ten_missing_and_ten_unexpected():
    expected = [f"a{n:02}" for n in range(12)]
    got = [f"b{n:02}" for n in range(12)]
    result = list_result(got, expected, "exit 0")
    assert (result.status, result.evidence) == (Status.FAILED, Evidence.NONE)
    assert result.detail == f"exit 0; missing {expected[:10]}, unexpected {got[:10]}"
    assert list_result(expected, expected, "exit 0").detail == "12 applets, as configured"


def headline_results() -> list[TestResult]:
    return [
        TestResult("applet a", Status.PASSED, f"1 known-answer tests (1 {KNOCKED_OUT})"),
        TestResult("applet h", Status.PASSED, f"2 known-answer tests (2 {KNOCKED_OUT})"),
        TestResult("applet b", Status.PASSED, "2 known-answer tests"),
        TestResult("applet c", Status.PRESENT, "usage text only"),
        TestResult("applet d", Status.NOT_TESTABLE, "why"),
        TestResult("applet e", Status.FAILED, "x"),
        TestResult("applet f", Status.FAILED, "x"),
        TestResult("suite: a: t", Status.PASSED, f"{KNOCKED_OUT}"),
    ]


def test_the_headline_counts_applets_of_the_configured_ones():
    line = applets_headline(headline_results(), ["a", "b", "c", "d", "e", "f", "g", "h"])
    assert line == (
        "applets: 3 of 8 proven by known answers, 1 present (usage text only), 1 not testable "
        "(reviewed), 2 failed"
    )


def test_the_knock_out_headline_splits_the_proven_by_how():
    line = applets_headline(headline_results(), list("abcdefh"), knock_out=True)
    assert line.startswith(
        "applets: 3 of 7 proven by known answers (2 by checks that fail with the applet knocked "
        "out, 1 by checks not knocked out: "
    )


def test_records_without_a_part_or_with_too_few_fields_are_not_records():
    output = "PASS||no part\nFAIL| |blank part\nKO||no part|exit0|killed\nHELP|x\nKO|a|t\nFAIL|\n"
    output += "PASS|a b|t\nzz|a|t|exit0|killed\nKO|a|t|echo\n"
    outcome = parse_suite(output)
    assert outcome.tests == [SuiteTest("a", "t", True, "")]
    assert outcome.usage == {} and not outcome.ended


def test_suite_tests_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SuiteTest("a", "t", True).passed = False  # type: ignore[misc]


SUITE_SH = Path(__file__).resolve().parents[2] / "recipes" / "busybox" / "suite.sh"


def suite_functions(*names: str) -> str:
    """These functions of recipes/busybox/suite.sh, as written there."""
    text = SUITE_SH.read_text()
    found = [re.search(rf"^{name}\(\) {{\n.*?^}}\n", text, re.S | re.M) for name in names]
    assert all(found), names
    return "".join(match.group(0) for match in found if match)


def test_a_knock_out_run_polls_twice_the_applets_tries_plus_ten_not_the_whole_limit(tmp_path):
    """The suite's waits for a daemon (`poll`) note how many tries the test's own run needed;
    its knock-out runs stop after twice that plus ten. Run by the host's POSIX sh."""
    script = suite_functions("run_test", "standin", "knockout_run", "poll") + """
n=7; dir="$WORK/test7"; mkdir -p "$dir"
ready() { [ "$(cat c 2>/dev/null)" = ... ]; }  # after three tries
run_test 'poll ready "printf . >> c"'
knockout_run 7 "applet other" 'poll false "printf . >> k"' exit0 || echo "gave up"
"""
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(["/bin/sh", "-c", script], env={"PATH": "/usr/bin:/bin", "WORK": str(work), "BB": "/bin/true"},
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.stdout == "gave up\n", done.stderr
    assert (work / "tries7").read_text() == "...\n"  # the applet's run needed three tries
    assert (work / "test7-exit0" / "k").read_text() == "." * 16  # 2 x 3 + 10, then it gave up
