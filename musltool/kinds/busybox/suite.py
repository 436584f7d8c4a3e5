"""BusyBox verification evidence: applets run on their own, and one result per applet saying
what it rests on. `suite.sh` (in the recipe folder), run by the built BusyBox's own sh, prints
the records musltool.suites reads.

Each applet's result is one of:
  functional    a test with a known answer passed (and none failed)
  present       it printed its usage text (BusyBox does that before the applet's own code
                runs), and no test here exercises it: present, not proven
  not-testable  neither, and the recipe's reviewed [not_testable] list says why
  failed        a test failed, or it has no evidence and no reviewed reason
"""

from __future__ import annotations

from musltool.isa import Isa
from musltool.report import Evidence, Status, TestResult
from musltool.runners import Session
from musltool.suites import SuiteOutcome, SuiteTest

# Known answers for applets run on their own: (args, stdin, exact stdout, exit code), several
# where one run alone would pass a stand-in that does nothing (a program that exits 0 and
# prints nothing passes `test 1 -eq 1`; it fails `test 1 -eq 2`). ISA fields are filled in.
Run = tuple[list[str], str | None, str, int]
ONE_BY_ONE_RUNS: dict[str, list[Run]] = {
    "true": [([], None, "", 0)],
    "false": [([], None, "", 1)],
    "test": [(["1", "-eq", "1"], None, "", 0), (["1", "-eq", "2"], None, "", 1), (["-n", ""], None, "", 1)],
    "[": [(["1", "-eq", "1", "]"], None, "", 0), (["1", "-eq", "2", "]"], None, "", 1)],
    "[[": [(["1", "-eq", "1", "]]"], None, "", 0), (["1", "-eq", "2", "]]"], None, "", 1)],
    "echo": [(["hi"], None, "hi\n", 0)],
    # a small --applets build's ash may lack even echo: exit codes only stand-ins cannot give
    "sh": [(["-c", "read x; exit 3"], "ab\n", "", 3), (["-c", "case ab in a*) exit 5 ;; esac; exit 1"], None, "", 5)],
    "ash": [(["-c", "read x; exit 3"], "ab\n", "", 3), (["-c", "case ab in a*) exit 5 ;; esac; exit 1"], None, "", 5)],
    "ls": [(["-d", "/"], None, "/\n", 0)],
    "awk": [(["BEGIN { print 1 + 2 }"], None, "3\n", 0)],
    "cat": [([], "x\n", "x\n", 0)],
    "sed": [(["s/a/b/"], "a\n", "b\n", 0)],
    "grep": [(["b"], "a\nb\n", "b\n", 0), (["z"], "a\n", "", 1)],
    "sort": [([], "b\na\n", "a\nb\n", 0)],
    "wc": [(["-l"], "a\nb\n", "2\n", 0)],
    "head": [(["-n", "1"], "a\nb\n", "a\n", 0)],
    "tail": [(["-n", "1"], "a\nb\n", "b\n", 0)],
    "uname": [(["-m"], None, "{uname_machine}\n", 0)],
    "basename": [(["/a/b"], None, "b\n", 0)],
    "dirname": [(["/a/b"], None, "/a\n", 0)],
}


KNOCKED_OUT = "fail with it knocked out"  # said of an applet's tests that stand-ins fail
# With knock-outs, the stand-ins are the build's own applets that behave as one.
STANDIN_APPLETS = {"exit0": "true", "exit1": "false", "echo": "echo"}


def run_one_by_one(session: Session, applets: list[str], isa: Isa, knock_out: bool = False) -> SuiteOutcome:
    """Applets the suite could not reach, each run on its own: known answers
    (ONE_BY_ONE_RUNS), else its usage text. With `knock_out`, each known answer is asked of
    each stand-in too (the build's true, false and echo): it must not come out."""
    outcome = SuiteOutcome()
    standins = {name: applet for name, applet in STANDIN_APPLETS.items() if applet in applets} if knock_out else {}
    for applet in applets:
        known = ONE_BY_ONE_RUNS.get(applet)
        if known is None:
            result = session.run(f"bin/{applet}", ["--help"])
            printed = "Usage: " in result.stdout + result.stderr
            outcome.usage[applet] = printed
            continue
        for number, (args, stdin, expected, code) in enumerate(known, start=1):
            result = session.run(f"bin/{applet}", args, stdin=stdin)
            answer = (code, expected.format(**vars(isa)))
            ok = (result.exit_code, result.stdout) == answer
            detail = f"{result.describe()}, printed {result.stdout!r}"
            name = "known answer" if len(known) == 1 else f"known answer {number} ({' '.join(args) or 'no arguments'})"
            knockouts = tuple((standin, (stood := session.run(f"bin/{program}", args, stdin=stdin)).exit_code != code
                               or stood.stdout != answer[1]) for standin, program in standins.items())  # fmt: skip
            outcome.tests.append(SuiteTest(applet, name, ok, detail, source="one by one", knockouts=knockouts))
    return outcome


def applet_results(
    outcome: SuiteOutcome, applets: list[str], not_testable: dict[str, str]
) -> list[TestResult]:
    """One result per suite test, then one per applet saying what its result rests on."""
    results = [test_result(t) for t in outcome.tests if t.source != "upstream testsuite"]  # those have their own
    return results + [applet_result(applet, outcome, not_testable) for applet in applets]


def test_result(test: SuiteTest) -> TestResult:
    """A suite test's result; one that passes with its applet knocked out proves nothing."""
    name = f"suite: {test.applet}: {test.name}"
    if not test.passed:
        return TestResult(name, Status.FAILED, test.detail, Evidence.NONE, test.source)
    if test.survived:
        detail = f"passes with {test.applet} replaced by a stand-in ({', '.join(test.survived)}): proves nothing about it"
        return TestResult(name, Status.PASSED, detail, Evidence.NONE, test.source)
    killed = ", ".join(standin for standin, dead in test.knockouts if dead)
    detail = f"fails with {test.applet} knocked out ({killed})" if killed else test.detail
    return TestResult(name, Status.PASSED, detail, Evidence.FUNCTIONAL, test.source)


def applet_result(applet: str, outcome: SuiteOutcome, not_testable: dict[str, str]) -> TestResult:
    """Functional, present (usage text, or only tests a stand-in passes too), not-testable (on
    the reviewed list) or failed: see the module."""
    runs = [t for t in outcome.tests if t.applet == applet]
    name = f"applet {applet}"
    sources = ", ".join(sorted({t.source for t in runs}))
    passed = sum(t.passed for t in runs)
    if runs and passed < len(runs):
        detail = f"{len(runs) - passed} of {len(runs)} tests failed"
        return TestResult(name, Status.FAILED, detail, Evidence.NONE, sources)
    proving = [t for t in runs if t.proves]
    fakes = [t for t in runs if not t.proves]
    if proving:
        checked = sum(bool(t.knockouts) for t in proving)
        detail = f"{len(proving)} known-answer tests" + (f" ({checked} {KNOCKED_OUT})" if checked else "")
        if fakes:
            detail += f"; {len(fakes)} more pass with a stand-in too and do not count"
        return TestResult(name, Status.PASSED, detail, Evidence.FUNCTIONAL, sources)
    if runs:
        detail = f"its {len(runs)} tests pass with a stand-in too ({', '.join(sorted({s for t in runs for s in t.survived}))}): not proven"
        return TestResult(name, Status.PRESENT, detail, Evidence.NONE, sources)
    reason = not_testable.get(applet)
    if outcome.usage.get(applet, False):
        detail = f"usage text only: {reason}" if reason else "usage text only: no test here exercises it"
        return TestResult(name, Status.PRESENT, detail, Evidence.USAGE, "usage")
    if reason:
        return TestResult(name, Status.NOT_TESTABLE, reason, Evidence.NONE, "reviewed list")
    return TestResult(
        name,
        Status.FAILED,
        "no usage text (CONFIG_SHOW_USAGE is off), no test could run (its helper applets are "
        "missing), and no reviewed reason in the recipe's [not_testable]",
        Evidence.NONE,
    )


def list_result(got: list[str], expected: list[str], how: str) -> TestResult:
    """`busybox --list` against the applets the .config enables."""
    if got == expected:
        return TestResult("busybox --list", Status.PASSED, f"{len(got)} applets, as configured")
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    return TestResult(
        "busybox --list",
        Status.FAILED,
        f"{how}; missing {missing[:10]}, unexpected {extra[:10]}",
        Evidence.NONE,
    )



def applets_headline(results: list[TestResult], applets: list[str], knock_out: bool = False) -> str:
    """What the verification proved, of what: the line a BusyBox table starts with."""
    per_applet = [r for r in results if r.name.startswith("applet ")]
    count = {status: sum(r.status is status for r in per_applet) for status in Status}
    how = "known answers"
    if knock_out:
        checked = sum(r.status is Status.PASSED and KNOCKED_OUT in r.detail for r in per_applet)
        how += (f" ({checked} by checks that fail with the applet knocked out, {count[Status.PASSED] - checked} "
                "by checks not knocked out: background servers and daemons, the upstream testsuite)")  # fmt: skip
    return (f"applets: {count[Status.PASSED]} of {len(applets)} proven by {how}, "
            f"{count[Status.PRESENT]} present (usage text only), {count[Status.NOT_TESTABLE]} not testable "
            f"(reviewed), {count[Status.FAILED]} failed")  # fmt: skip
