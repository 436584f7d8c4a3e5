"""A build verified with more evidence (BusyBox's own testsuite) serves a later request for
less: same fingerprint (same binary), and its report says what extra evidence it has. The
other way round, a build without that evidence never serves a request for it."""

from __future__ import annotations

from musltool.build import fingerprint
from musltool.catalog import load_recipe
from musltool.isa import get_isa
from musltool.kinds import builder_class
from musltool.kinds.base import BuildOptions


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
