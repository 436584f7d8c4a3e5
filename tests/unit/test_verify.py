"""A recipe's verification runs (musltool/verify.py) judged against what the run did.

The session here is a Python stand-in for qemu (the unit tests need nothing but Python): it
records what it was asked to run and answers with a result chosen by the test.
"""

from __future__ import annotations

import pytest

from musltool.isa import get_isa
from musltool.recipes import VerifyRun
from musltool.report import Evidence, Status
from musltool.runners import RunResult, Session
from musltool.verify import run_verify_run, run_verify_runs


class AnsweringSession(Session):
    def __init__(self, *answers: RunResult) -> None:
        super().__init__(get_isa("riscv64"))
        self.answers = list(answers)
        self.asked: list[tuple[str, list[str], object]] = []

    def path(self, name: str) -> str:
        return f"/work/{name}"

    def run(self, program, args, stdin=None, timeout=0, env=None, output=None) -> RunResult:
        self.asked.append((program, args, stdin))
        return self.answers.pop(0)


def verdict(test: VerifyRun, result: RunResult) -> tuple[Status, str, Evidence]:
    done = run_verify_run(AnsweringSession(result), "hello", test)
    assert done.name == test.name
    assert done.source == "recipe"
    return done.status, done.detail, done.evidence


GREETS = VerifyRun("greets", stdout="hello\n")


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (RunResult(0, "hello\n", ""), (Status.PASSED, "exit 0", Evidence.FUNCTIONAL)),
        (RunResult(0, "hell\n", ""), (Status.FAILED, "printed 'hell\\n', expected 'hello\\n'", Evidence.NONE)),
        (RunResult(0, "hello\nmore\n", ""), (Status.FAILED, "printed 'hello\\nmore\\n', expected 'hello\\n'", Evidence.NONE)),
        (RunResult(0, "", ""), (Status.FAILED, "printed '', expected 'hello\\n'", Evidence.NONE)),
        (RunResult(3, "hello\n", "first\nno such file\n"), (Status.FAILED, "exit 3, expected 0: no such file", Evidence.NONE)),
        (RunResult(1, "hello\n", ""), (Status.FAILED, "exit 1, expected 0", Evidence.NONE)),
    ],
)  # fmt: skip
def test_only_the_exact_output_and_exit_is_functional_evidence(result, expected):
    """Output compared exactly (not as a prefix), the exit code too, with stderr's last line."""
    assert verdict(GREETS, result) == expected


def test_an_expected_failure_exit_passes_and_exit_0_then_fails():
    test = VerifyRun("refuses", args=("--bad",), exit_code=2)
    assert verdict(test, RunResult(2, "", "usage\n"))[0] is Status.PASSED
    assert verdict(test, RunResult(0, "", ""))[1] == "exit 0, expected 2"


def test_without_expected_output_only_the_exit_is_judged():
    test = VerifyRun("runs")
    assert verdict(test, RunResult(0, "anything at all\n", ""))[0] is Status.PASSED


def test_a_signal_or_a_timeout_fails_even_with_the_right_output():
    test = VerifyRun("greets", stdout="hello\n")
    assert verdict(test, RunResult(0, "hello\n", "", signal=11)) == (
        Status.FAILED,
        "killed by SIGSEGV",
        Evidence.NONE,
    )
    assert verdict(test, RunResult(0, "hello\n", "", timed_out=True))[:2] == (
        Status.FAILED,
        "timed out",
    )


def test_the_expected_output_is_filled_in_from_the_isa():
    test = VerifyRun("machine", stdout="{uname_machine}\n")
    assert verdict(test, RunResult(0, "riscv64\n", ""))[0] is Status.PASSED
    assert verdict(test, RunResult(0, "x86_64\n", ""))[0] is Status.FAILED


def test_the_run_gets_its_program_arguments_and_input():
    session = AnsweringSession(RunResult(0, "", ""), RunResult(0, "", ""))
    tests = (
        VerifyRun("own binary", args=("-n", "x"), stdin="in\n"),
        VerifyRun("another program", program="helper", args=("y",)),
    )
    results = run_verify_runs(session, "hello", tests)
    assert [r.name for r in results] == ["own binary", "another program"]
    assert session.asked == [("hello", ["-n", "x"], "in\n"), ("helper", ["y"], None)]
