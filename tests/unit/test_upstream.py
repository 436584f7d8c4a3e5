"""BusyBox's own testsuite: its output read into results against the reviewed expected failures."""

from __future__ import annotations

import dataclasses

import pytest

from musltool.kinds.busybox.upstream import (
    UpstreamTest,
    applet_of,
    files_in,
    parse_runtest,
    upstream_results,
)
from musltool.report import Evidence, Status

OUTPUT = """\
PASS: sed accepts blanks before command
FAIL: sed NUL in command
FAIL: awk gsub erroneous word start match
SKIPPED: od -b 64-bit
PASS: date-@-works
UNTESTED: tar-handles-empty-include-and-exclude-lists
"""
EXPECTED = {"sed NUL in command": "upstream: fails the same with glibc"}
APPLETS = ["sed", "awk", "od", "date", "tar"]


def test_runtest_lines_become_tests():
    tests = parse_runtest("noise\n" + OUTPUT)
    assert [(t.name, t.outcome) for t in tests][:3] == [
        ("sed accepts blanks before command", "PASS"),
        ("sed NUL in command", "FAIL"),
        ("awk gsub erroneous word start match", "FAIL"),
    ]
    assert len(tests) == 6


def test_a_failure_not_on_the_list_fails_and_a_listed_one_does_not():
    results, evidence = upstream_results(parse_runtest(OUTPUT), EXPECTED, APPLETS, "")
    by_name = {r.name: r for r in results}
    summary = by_name["upstream testsuite"]
    assert summary.status is Status.FAILED
    assert summary.detail == "2 passed, 1 failed, 1 expected failures, 2 skipped"
    assert by_name["upstream: sed NUL in command"].status is Status.EXPECTED_FAILURE
    assert by_name["upstream: awk gsub erroneous word start match"].status is Status.FAILED
    assert ("awk", "awk gsub erroneous word start match", False) in evidence
    assert ("date", "date-@-works", True) in evidence


def test_all_understood_passes_and_nothing_reported_fails():
    listed = {**EXPECTED, "awk gsub erroneous word start match": "musl: no REG_STARTEND"}
    results, _ = upstream_results(parse_runtest(OUTPUT), listed, APPLETS, "")
    assert results[0].status is Status.PASSED
    empty, _ = upstream_results([], listed, APPLETS, "runtest: not found")
    assert empty[0].status is Status.FAILED and "reported nothing" in empty[0].detail


def test_applet_of_reads_the_first_word():
    assert applet_of("sed NUL in command", APPLETS) == "sed"
    assert applet_of("tar-handles-empty-include-and-exclude-lists", APPLETS) == "tar"
    assert applet_of("mystery test", APPLETS) is None


def test_test_files_left_out_are_named_not_testable_and_only_those_the_source_has(tmp_path):
    (tmp_path / "testsuite").mkdir()
    (tmp_path / "testsuite" / "bc.tests").write_text("")
    left_out = files_in(tmp_path, {"bc.tests": "slow under emulation", "gone.tests": "not in this version"})
    assert left_out == {"bc.tests": "slow under emulation"}
    results, _ = upstream_results([UpstreamTest("cat x", "PASS")], {}, ["cat"], "", left_out)
    named = {r.name: r for r in results}
    assert named["upstream testsuite"].status is Status.PASSED
    assert named["upstream testsuite"].detail.endswith(", 1 test files not run under emulation (bc.tests)")
    line = named["upstream: bc.tests (not run under emulation)"]
    assert (line.status, line.detail) == (Status.NOT_TESTABLE, "slow under emulation")


def test_the_summary_is_evidence_only_when_it_passed():
    passed, _ = upstream_results([UpstreamTest("cat x", "PASS")], {}, ["cat"], "")
    failed, _ = upstream_results([UpstreamTest("cat x", "FAIL")], {}, ["cat"], "")
    assert (passed[0].status, passed[0].evidence) == (Status.PASSED, Evidence.FUNCTIONAL)
    assert (failed[0].status, failed[0].evidence) == (Status.FAILED, Evidence.NONE)
    assert failed[1].detail == "not on the reviewed list of expected failures"


def test_a_run_that_reported_nothing_shows_the_last_300_characters_of_its_output():
    tail = "x" * 100 + "y" * 300 + "\n\n"
    results, evidence = upstream_results([], {}, ["cat"], tail)
    assert results[0].detail == "the testsuite reported nothing: " + "y" * 300
    assert evidence == []


def test_an_expected_failure_that_passes_is_said_and_counts_as_evidence():
    results, evidence = upstream_results([UpstreamTest("sed x", "PASS")], {"sed x": "musl"}, ["sed"], "")
    assert results[1].detail == "listed as an expected failure (musl), passed: the list can lose it"
    assert evidence == [("sed", "sed x", True)]


def test_tests_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        UpstreamTest("a", "PASS").outcome = "FAIL"  # type: ignore[misc]


def test_shards_share_busybox_and_every_applet_once_in_order():
    from musltool.kinds.busybox.upstream import shard_applets

    shards = shard_applets(["sed", "awk", "busybox", "[", "cat", "awk"], 2)
    assert shards == [["busybox", "[", "sed"], ["awk", "cat"]]
    assert shard_applets(["true"], 4) == [["busybox"], ["true"]]
    # the slow ones first, each where the fewest seconds are; one the build lacks is no one's
    slow = {"bc": 54, "mount": 31, "wget": 20, "nothere": 99}
    shards = shard_applets(["bc", "mount", "wget", "awk", "cat", "ls", "sed"], 2, slow)
    assert shards == [["awk", "bc", "cat", "sed"], ["busybox", "ls", "mount", "wget"]]
    assert shard_applets(["bc", "mount", "wget", "true"], 3, slow) == [["busybox", "bc"], ["mount", "true"], ["wget"]]


def test_slow_test_seconds_must_be_positive_numbers():
    from musltool.kinds.busybox.upstream import all_numbers

    assert all_numbers({"bc": 54, "mount": 30.5}) is None
    for bad in ({"bc": "54"}, {"bc": 0}, {"bc": -1}, {"bc": True}):
        assert all_numbers(bad) == "bc: must be a number of seconds above 0"
