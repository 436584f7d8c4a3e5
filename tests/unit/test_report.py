"""Build reports: round trip, shape validation, what counts as verified and current."""

from __future__ import annotations

import dataclasses
import json

import pytest

from musltool.build import is_current
from musltool.dist import Dist
from musltool.files import sha256_bytes
from musltool.report import (
    BuildReport,
    Check,
    Evidence,
    ReportError,
    Status,
    TestResult,
    Verification,
    counts,
    evidence_counts,
)


def make_report(binary: bytes = b"\x7fELF binary", results=None, **changes) -> BuildReport:
    if results is None:
        results = (TestResult("runs", Status.PASSED, "exit 0"),)
    fields = {
        "recipe": "hello",
        "version": "1.0.0",
        "isa": "riscv64",
        "triple": "riscv64-linux-musl",
        "binary": "hello",
        "size": len(binary),
        "sha256": sha256_bytes(binary),
        "toolchain": {"provider": "zig", "version": "0.17.1"},
        "checks": (Check("machine", True, "riscv64"),),
        "verification": Verification("qemu", tuple(results)),
        "fingerprint": "f" * 64,
    }
    return BuildReport(**{**fields, **changes})


def test_json_round_trip_is_exact():
    report = make_report(
        results=(
            TestResult("a", Status.PRESENT, "usage text only", Evidence.USAGE, "usage"),
            TestResult("b", Status.NOT_TESTABLE, "needs root", Evidence.NONE),
        ),
        companions=("busybox.config",),
        details={"applets": ["ls"]},
    )
    text = report.to_json()
    assert BuildReport.from_json(text) == report
    assert BuildReport.from_json(text).to_json() == text
    assert json.loads(text)["verification"]["counts"] == {
        "passed": 0,
        "present": 1,
        "failed": 0,
        "not-testable": 1,
        "expected-failure": 0,
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[]", "expected an object, found list"),
        ('{"verification": "yes"}', "recipe is missing"),
        ("not json", "not JSON"),
    ],
)
def test_wrong_shapes_are_report_errors(text, problem, tmp_path):
    (tmp_path / "x86_64").mkdir()
    (tmp_path / "x86_64" / "hello.json").write_text(text)
    with pytest.raises(ReportError, match=problem):
        Dist(tmp_path).report("x86_64", "hello")


def test_bad_status_is_named():
    data = json.loads(make_report().to_json())
    data["verification"]["results"][0]["status"] = "great"
    with pytest.raises(ReportError, match="status 'great' is not one of passed, present, failed, not-testable, expected-failure"):
        BuildReport.from_json(json.dumps(data))


def test_missing_report_is_none(tmp_path):
    assert Dist(tmp_path).report("x86_64", "none") is None


def test_verified_needs_results_no_failure_and_passing_checks():
    assert make_report().is_verified()
    assert not make_report(results=()).is_verified()  # nothing run proves nothing
    assert not make_report(results=(TestResult("x", Status.FAILED),)).is_verified()
    assert not make_report(checks=(Check("machine", False, "sparc"),)).is_verified()
    assert make_report(results=(TestResult("x", Status.NOT_TESTABLE, "why"),)).is_verified()
    assert make_report(results=(TestResult("x", Status.EXPECTED_FAILURE, "why"),)).is_verified()


def test_current_means_same_inputs_verified_and_untouched(tmp_path):
    report = make_report()
    binary = tmp_path / report.isa / "hello"
    binary.parent.mkdir()
    binary.write_bytes(b"\x7fELF binary")
    dist = Dist(tmp_path)
    assert is_current(report, "f" * 64, dist)
    assert not is_current(report, "e" * 64, dist)  # inputs changed
    assert not is_current(None, "f" * 64, dist)
    assert not is_current(make_report(results=()), "f" * 64, dist)
    binary.write_bytes(b"\x7fELF changed")
    assert not is_current(report, "f" * 64, dist)


def test_counts_list_every_status():
    results = [TestResult("a", Status.PASSED), TestResult("b", Status.FAILED)]
    assert counts(results) == {"passed": 1, "present": 0, "failed": 1, "not-testable": 0, "expected-failure": 0}


def test_table_says_usage_text_is_present_not_passed():
    table = Verification(
        "docker",
        (
            TestResult("applet ls", Status.PASSED, "2/2 functional tests"),
            TestResult("applet vi", Status.PRESENT, "usage text", Evidence.USAGE),
        ),
        "applets: 1 of 2 proven by known answers, 1 present (usage text only)",
    ).table("aarch64")
    first, second = table.splitlines()[:2]
    assert first == "applets: 1 of 2 proven by known answers, 1 present (usage text only)"
    assert second.startswith("verification on aarch64 with docker: 1 passed, 1 present, 0 failed, 0 not-testable")
    assert any(line.split()[:5] == ["applet", "vi", "present", "usage", "only"] for line in table.splitlines())
    assert not any(line.split()[:3] == ["applet", "vi", "passed"] for line in table.splitlines())


def test_the_table_is_laid_out_in_columns_exactly():
    table = Verification(
        "qemu",
        (
            TestResult("ab", Status.PASSED, "exit 0"),
            TestResult("a longer name", Status.FAILED, "exit 1", Evidence.NONE),
            TestResult("x", Status.NOT_TESTABLE, "", Evidence.NONE),
        ),
    ).table("riscv64")
    assert table == (
        "verification on riscv64 with qemu: 1 passed, 0 present, 1 failed, 1 not-testable, 0 expected-failure\n"
        "\n"
        "test           status        evidence      detail\n"
        "ab             passed        functional    exit 0\n"
        "a longer name  failed                      exit 1\n"
        "x              not-testable\n"
    )
    short = Verification("qemu", (TestResult("a", Status.PASSED, "ok"),)).table("x86_64")
    assert short.splitlines()[2:] == ["test  status        evidence      detail", "a     passed        functional    ok"]


def test_evidence_counts_count_only_passed_results_per_kind():
    results = (
        TestResult("a", Status.PASSED),
        TestResult("a2", Status.PASSED),
        TestResult("b", Status.PASSED, evidence=Evidence.USAGE),
        TestResult("c", Status.PRESENT, evidence=Evidence.USAGE),
        TestResult("d", Status.FAILED, evidence=Evidence.FUNCTIONAL),
    )
    assert evidence_counts(results) == {"functional": 2, "usage": 1}
    assert Verification("qemu", results).as_dict()["evidence"] == {"functional": 2, "usage": 1}
    assert Verification("qemu", results).as_dict()["passed"] is False


def test_a_result_without_evidence_reads_as_functional_and_with_a_bad_one_fails():
    assert TestResult.from_dict({"name": "a", "status": "passed"}).evidence is Evidence.FUNCTIONAL
    assert TestResult.from_dict({"name": "a", "status": "passed", "evidence": "usage"}).evidence is Evidence.USAGE
    with pytest.raises(ReportError, match="status None is not one of"):
        TestResult.from_dict({"name": "a"})
    with pytest.raises(ReportError, match="evidence 'vibes' is not one of"):
        TestResult.from_dict({"name": "a", "status": "passed", "evidence": "vibes"})
    assert TestResult("a", Status.FAILED).failed and not TestResult("a", Status.PRESENT).failed


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"recipe": ""}, "recipe is missing or not text"),
        ({"size": "12"}, "size is not a number"),
        ({"checks": {}}, "checks is not a list"),
        ({"toolchain": []}, "expected an object, found list"),
        ({"verification": {"runner": "qemu", "results": {}}}, "verification.results is not a list"),
    ],
)
def test_each_wrong_field_is_named(change, problem):
    data = {**json.loads(make_report().to_json()), **change}
    with pytest.raises(ReportError, match=problem):
        BuildReport.from_json(json.dumps(data))


def test_checks_read_back_with_their_verdicts():
    report = make_report(checks=(Check("machine", True, "ok"), Check("static", False, "dynamic")))
    back = BuildReport.from_json(report.to_json())
    assert back.checks == (Check("machine", True, "ok"), Check("static", False, "dynamic"))
    assert Check.from_dict({"name": "x"}) == Check("x", False, "")


def test_reports_and_their_parts_are_frozen():
    report = make_report()
    for thing, attribute in ((report, "size"), (report.verification, "runner"), (report.checks[0], "ok"),
                             (report.verification.results[0], "status")):  # fmt: skip
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(thing, attribute, None)


def test_a_report_is_written_with_sorted_keys_and_two_space_indents():
    lines = make_report().to_json().splitlines()
    top = [line.split('"')[1] for line in lines if line.startswith('  "')]
    assert top == sorted(top) and "fingerprint" in top
    assert all(not line.startswith("   ") or line.startswith("    ") for line in lines)
