"""A real GCC: Debian's cross compilers with musl built from its pinned source (debian-gcc)."""

from __future__ import annotations

import json
import subprocess

import pytest

from musltool.elf import check_binary
from musltool.isa import TIERS, get_isa
from musltool.toolchain import get_toolchain
from tests.integration.conftest import invoke

ISA_NAMES = [isa.name for isa in TIERS["tier1"]]


@pytest.fixture(scope="module")
def sysroots(mirror_url) -> None:
    """musl built for every ISA once; the second fetch finds it and builds nothing."""
    env = {"MUSLTOOL_MIRRORS": mirror_url} if mirror_url else {}
    first = invoke("toolchain.fetch", "--toolchain", "debian-gcc", "--arch", "tier1", env=env)
    assert first.returncode == 0, first.stderr
    again = invoke("toolchain.fetch", "--toolchain", "debian-gcc", "--arch", "tier1", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already built") == 4 and "building musl" not in again.stderr
    listing = invoke("toolchain.list")
    assert "debian-gcc: " in listing.stdout and "musl built for: x86_64, aarch64, armv7, riscv64" in listing.stdout


@pytest.mark.parametrize("recipe", ["hello", "musl-claims", "crc32"])
@pytest.mark.parametrize("isa_name", ISA_NAMES)
def test_small_recipes_build_and_verify_with_gcc(sysroots, shared, isa_name, recipe):
    dist = shared.dist(recipe, isa_name, toolchain="debian-gcc")
    report = json.loads((dist / isa_name / f"{recipe}.json").read_text())
    assert report["verification"]["passed"]
    toolchain = report["toolchain"]
    assert (toolchain["distribution"], toolchain["musl"]) == ("debian-gcc", "1.2.5")
    assert toolchain["gcc"] and toolchain["compiler"].startswith(
        get_toolchain("debian-gcc", get_isa(isa_name)).gnu_triple
    )
    # the ISA table's ABI, from Debian's compiler defaults: the same ELF checks as zig's builds
    assert all(check.ok for check in check_binary(dist / isa_name / recipe, get_isa(isa_name)))


def test_gcc_really_compiled_it(sysroots, shared):
    dist = shared.dist("hello", "armv7", toolchain="debian-gcc")
    comment = (dist / "armv7" / "hello").read_bytes()
    assert b"GCC: (Debian" in comment  # GCC's .comment, not clang's


def test_cpp_is_refused_in_one_line(sysroots):
    cxx = get_toolchain("debian-gcc", get_isa("riscv64")).tool("g++")
    proc = subprocess.run([cxx, "-c", "x.cpp"], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "would need a libstdc++ built for musl" in proc.stderr


# BusyBox defconfig with GCC is the most expensive check: two ISAs (one 32-bit, one 64-bit
# foreign), as README says. 1.35.0 is the version whose clang build fails on aarch64.
@pytest.mark.parametrize("isa_name", ["armv7"])  # one ISA: a defconfig build and its suite cost CI 2 min each
def test_busybox_1_35_defconfig_verifies_with_gcc(sysroots, shared, isa_name):
    dist = shared.dist(
        "busybox", isa_name, toolchain="debian-gcc", version="1.35.0", config="defconfig"
    )
    report = json.loads((dist / isa_name / "busybox.json").read_text())
    assert report["verification"]["passed"] and report["version"] == "1.35.0"
    results = {r["name"]: r for r in report["verification"]["results"]}
    for applet in ("awk", "less"):  # the applets clang's build of 1.35.0 breaks on aarch64
        assert results[f"applet {applet}"]["status"] == "passed", results[f"applet {applet}"]
        assert results[f"applet {applet}"]["evidence"] == "functional"
