"""BusyBox verification evidence: the functional suite's output as records, applets run on
their own, and one result per applet saying what it rests on.

`suite.sh` (in the recipe folder), run by the built BusyBox's own sh, prints one record a line:
  HELP|applet|ok|none      the applet's --help printed its usage text (or did not)
  PASS|applets|test        FAIL|applets|test|what it printed   (the first applet is the one tested)
  SUITE-END                the suite ran to its end

Each applet's result is one of:
  functional    a test with a known answer passed (and none failed)
  usage-only    it printed its usage text, and no test here exercises it
  not-testable  neither, and the recipe's reviewed [not_testable] list says why
  failed        a test failed, or it has no evidence and no reviewed reason
"""

from __future__ import annotations

from dataclasses import dataclass, field

from musltool.isa import Isa
from musltool.report import Evidence, Status, TestResult
from musltool.runners import Session

SUITE_END = "SUITE-END"


@dataclass(frozen=True)
class SuiteTest:
    applet: str
    name: str
    passed: bool
    detail: str = ""
    source: str = "suite"


@dataclass
class SuiteOutcome:
    usage: dict[str, bool] = field(default_factory=dict)  # applet -> printed usage text
    tests: list[SuiteTest] = field(default_factory=list)
    ended: bool = False

    def reached(self) -> set[str]:
        """Applets with usage text shown or a test run."""
        return {a for a, ok in self.usage.items() if ok} | {t.applet for t in self.tests}

    def merge(self, other: SuiteOutcome) -> SuiteOutcome:
        return SuiteOutcome(
            {**self.usage, **other.usage}, [*self.tests, *other.tests], self.ended or other.ended
        )


def parse_suite(output: str) -> SuiteOutcome:
    """The suite's records; lines that are not records are ignored."""
    outcome = SuiteOutcome()
    for line in output.splitlines():
        kind, _, rest = line.partition("|")
        fields = rest.split("|")
        if line == SUITE_END:
            outcome.ended = True
        elif kind == "HELP" and len(fields) >= 2:
            outcome.usage[fields[0]] = fields[1] == "ok"
        elif kind in ("PASS", "FAIL") and len(fields) >= 2 and fields[0].split():
            detail = fields[2] if len(fields) > 2 else ""
            outcome.tests.append(SuiteTest(fields[0].split()[0], fields[1], kind == "PASS", detail))
    return outcome


# Known answers for applets run on their own: (args, stdin, exact stdout; ISA fields filled in).
ONE_BY_ONE_RUNS: dict[str, tuple[list[str], str | None, str]] = {
    "true": ([], None, ""),
    "test": (["1", "-eq", "1"], None, ""),
    "[": (["1", "-eq", "1", "]"], None, ""),
    "[[": (["1", "-eq", "1", "]]"], None, ""),
    "echo": (["hi"], None, "hi\n"),
    "sh": (["-c", "read x; exit 0"], "x\n", ""),
    "ash": (["-c", "read x; exit 0"], "x\n", ""),
    "ls": (["-d", "/"], None, "/\n"),
    "awk": (["BEGIN { print 1 + 2 }"], None, "3\n"),
    "cat": ([], "x\n", "x\n"),
    "sed": (["s/a/b/"], "a\n", "b\n"),
    "grep": (["b"], "a\nb\n", "b\n"),
    "sort": ([], "b\na\n", "a\nb\n"),
    "wc": (["-l"], "a\nb\n", "2\n"),
    "head": (["-n", "1"], "a\nb\n", "a\n"),
    "tail": (["-n", "1"], "a\nb\n", "b\n"),
    "uname": (["-m"], None, "{uname_machine}\n"),
    "basename": (["/a/b"], None, "b\n"),
    "dirname": (["/a/b"], None, "/a\n"),
}


def run_one_by_one(session: Session, applets: list[str], isa: Isa) -> SuiteOutcome:
    """Applets the suite could not reach, each run on its own: a known answer
    (ONE_BY_ONE_RUNS), else its usage text."""
    outcome = SuiteOutcome()
    for applet in applets:
        known = ONE_BY_ONE_RUNS.get(applet)
        if known is None:
            result = session.run(f"bin/{applet}", ["--help"])
            printed = "Usage: " in result.stdout + result.stderr
            outcome.usage[applet] = printed
            continue
        args, stdin, expected = known
        result = session.run(f"bin/{applet}", args, stdin=stdin)
        ok = result.exit_code == 0 and result.stdout == expected.format(**vars(isa))
        detail = f"{result.describe()}, printed {result.stdout!r}"
        outcome.tests.append(SuiteTest(applet, "known answer", ok, detail, source="one by one"))
    return outcome


def applet_results(
    outcome: SuiteOutcome, applets: list[str], not_testable: dict[str, str]
) -> list[TestResult]:
    """One result per suite test, then one per applet saying what its result rests on."""
    results = [
        TestResult(
            f"suite: {t.applet}: {t.name}",
            Status.PASSED if t.passed else Status.FAILED,
            t.detail,
            Evidence.FUNCTIONAL if t.passed else Evidence.NONE,
            t.source,
        )
        for t in outcome.tests
        if t.source != "upstream testsuite"  # those have results of their own
    ]
    return results + [applet_result(applet, outcome, not_testable) for applet in applets]


def applet_result(applet: str, outcome: SuiteOutcome, not_testable: dict[str, str]) -> TestResult:
    """Functional, usage-only, not-testable (on the reviewed list) or failed: see the module."""
    runs = [t for t in outcome.tests if t.applet == applet]
    name = f"applet {applet}"
    sources = ", ".join(sorted({t.source for t in runs}))
    passed = sum(t.passed for t in runs)
    if runs and passed < len(runs):
        detail = f"{len(runs) - passed} of {len(runs)} tests failed"
        return TestResult(name, Status.FAILED, detail, Evidence.NONE, sources)
    if runs:
        return TestResult(name, Status.PASSED, f"{passed} known-answer tests", Evidence.FUNCTIONAL, sources)
    reason = not_testable.get(applet)
    if outcome.usage.get(applet, False):
        detail = f"usage text only: {reason}" if reason else "usage text only: no test here exercises it"
        return TestResult(name, Status.PASSED, detail, Evidence.USAGE, "usage")
    if reason:
        return TestResult(name, Status.NOT_TESTABLE, reason, Evidence.NONE, "reviewed list")
    return TestResult(
        name,
        Status.FAILED,
        "no usage text (CONFIG_SHOW_USAGE is off), no test could run (its helper applets are "
        "missing), and no reviewed reason in the recipe's [not_testable]",
        Evidence.NONE,
    )
