"""Verification: run a built binary under emulation and compare what it does with the recipe."""

from __future__ import annotations

from musltool.recipes import VerifyRun
from musltool.report import Evidence, Status, TestResult
from musltool.runners import RunResult, Session


def _compare(result: RunResult, expected_stdout: str | None, expected_exit: int) -> str | None:
    """Why the run differs from what was expected, or None when it matches."""
    if result.timed_out or result.signal:
        return result.describe()
    if result.exit_code != expected_exit:
        stderr = result.stderr.strip().splitlines()
        hint = f": {stderr[-1]}" if stderr else ""
        return f"exit {result.exit_code}, expected {expected_exit}{hint}"
    if expected_stdout is not None and result.stdout != expected_stdout:
        return f"printed {result.stdout!r}, expected {expected_stdout!r}"
    return None


def run_verify_run(session: Session, program: str, test: VerifyRun) -> TestResult:
    result = session.run(test.program or program, list(test.args), stdin=test.stdin)
    problem = _compare(result, test.expected_stdout(session.isa), test.exit_code)
    if problem:
        return TestResult(test.name, Status.FAILED, problem, Evidence.NONE, "recipe")
    return TestResult(test.name, Status.PASSED, result.describe(), Evidence.FUNCTIONAL, "recipe")


def run_verify_runs(
    session: Session, program: str, tests: tuple[VerifyRun, ...]
) -> list[TestResult]:
    return [run_verify_run(session, program, test) for test in tests]
