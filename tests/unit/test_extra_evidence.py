"""A build verified with more evidence (BusyBox's own testsuite) serves a later request for
less: same fingerprint (same binary), and its report says what extra evidence it has. The
other way round, a build without that evidence never serves a request for it."""

from __future__ import annotations

import pytest

from musltool import build as build_module
from musltool.build import fingerprint
from musltool.catalog import load_recipe
from musltool.isa import get_isa
from musltool.kinds import builder_class
from musltool.kinds.base import BuildOptions, Built
from musltool.report import Verification


class Toolchain:
    """Stands in for zig (nothing is compiled here): its identity is all a fingerprint reads."""

    compiler_family = "clang"

    def identity(self) -> dict[str, str]:
        return {"name": "zig", "version": "0.17.1"}


def busybox(tmp_path, **kind):
    recipe = load_recipe("busybox")
    options = BuildOptions(dist=tmp_path, kind_options=kind)
    return builder_class(recipe)(recipe, get_isa("x86_64"), Toolchain(), options)


class Report:
    def __init__(self, extra: dict[str, bool]) -> None:
        self.details = {"extra_evidence": extra}


def test_the_testsuite_leaves_the_fingerprint_as_it_is_and_serves_less(fresh_cache, tmp_path):
    plain, upstream = busybox(tmp_path), busybox(tmp_path, upstream_tests=True)
    assert fingerprint(plain) == fingerprint(upstream)
    tested, untested = Report({"upstream_tests": True}), Report({"upstream_tests": False})
    assert plain.serves(tested) and plain.serves(untested)
    assert upstream.serves(tested)
    assert not upstream.serves(untested)
    assert not upstream.serves(Report({}))  # a report from before the field


def test_what_changes_the_binary_or_its_proof_still_changes_the_fingerprint(fresh_cache, tmp_path):
    plain = fingerprint(busybox(tmp_path))
    assert fingerprint(busybox(tmp_path, knock_out=True)) != plain  # another verification table
    assert fingerprint(busybox(tmp_path, config="minimal")) != plain


class Rebuilding(Exception):
    """Raised where run_build starts a build: the dist was not taken as current."""


@pytest.fixture
def dist_holding(monkeypatch):
    """run_build against a dist whose build is current for these inputs, with the report given."""

    def hold(report) -> None:
        monkeypatch.setattr(build_module, "previous_report", lambda dist, isa, binary: report)
        monkeypatch.setattr(build_module, "is_current", lambda report, fp, dist: True)

        def prepare(self, isa):
            raise Rebuilding

        monkeypatch.setattr(build_module.Dist, "prepare", prepare)

    return hold


def test_run_build_takes_a_build_with_more_evidence_and_rebuilds_one_with_less(dist_holding, tmp_path):
    dist_holding(Report({"upstream_tests": True}))
    assert build_module.run_build(busybox(tmp_path)).up_to_date
    assert build_module.run_build(busybox(tmp_path, upstream_tests=True)).up_to_date
    dist_holding(Report({"upstream_tests": False}))
    assert build_module.run_build(busybox(tmp_path)).up_to_date
    with pytest.raises(Rebuilding):
        build_module.run_build(busybox(tmp_path, upstream_tests=True))
    dist_holding(Report({"upstream_tests": "yes"}))  # only true is true
    with pytest.raises(Rebuilding):
        build_module.run_build(busybox(tmp_path, upstream_tests=True))


def test_the_report_records_the_extra_evidence_it_was_verified_with(tmp_path):
    built = Built(tmp_path / "busybox", "1.37.0", details={"applets": []})
    (tmp_path / "busybox").write_bytes(b"\x7fELF")
    verification = Verification("qemu", (), "")
    report = build_module.make_report(busybox(tmp_path, upstream_tests=True), built, [], verification, "fp")
    assert report.details["extra_evidence"] == {"upstream_tests": True}
