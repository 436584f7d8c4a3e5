"""A real GCC: Debian's cross compilers with musl built from its pinned source (debian-gcc)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from musltool.elf import check_binary
from musltool.isa import TIERS, get_isa
from musltool.toolchain import get_toolchain
from musltool.toolchain.binutils import strip_bytes
from musltool.toolchain.manifests import manifests
from tests.integration.conftest import ROOT, invoke

# One worker runs this module: musl is built for every row once (the fixture below), and a
# second worker would only wait on that build's lock.
pytestmark = pytest.mark.xdist_group("debian-gcc")

# Debian has a cross compiler for the tier-1 rows and x86, ppc64le, s390x of tier 2. musl is
# built from source for each row (a minute of CI each): CI takes tier 1 and s390x, the
# big-endian one; MUSLTOOL_TEST_DISTRO_ALL=1 takes every row (README).
DEBIAN_ROWS = [target["isa"] for target in manifests("distro")["debian-gcc"]["target"]]
CI_ROWS = {isa.name for isa in TIERS["tier1"]} | {"s390x"}
ISA_NAMES = [n for n in DEBIAN_ROWS if os.environ.get("MUSLTOOL_TEST_DISTRO_ALL") or n in CI_ROWS]


@pytest.fixture(scope="module")
def sysroots(mirror_url) -> None:
    """musl built for every ISA once; the second fetch finds it and builds nothing."""
    env = {"MUSLTOOL_MIRRORS": mirror_url} if mirror_url else {}
    arch = ",".join(ISA_NAMES)
    first = invoke("toolchain.fetch", "--toolchain", "debian-gcc", "--arch", arch, env=env)
    assert first.returncode == 0, first.stderr
    again = invoke("toolchain.fetch", "--toolchain", "debian-gcc", "--arch", arch, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already built") == len(ISA_NAMES) >= 5 and "building musl" not in again.stderr
    listing = invoke("toolchain.list")
    assert "debian-gcc: " in listing.stdout and f"musl built for: {', '.join(ISA_NAMES)} (" in listing.stdout


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


def symbols_and_debug_sections(path: Path) -> set[str]:
    with path.open("rb") as f:
        return {s.name for s in ELFFile(f).iter_sections() if s.name == ".symtab" or s.name.startswith(".debug_")}


@pytest.mark.parametrize("isa_name", ISA_NAMES)
def test_strip_keeps_a_runnable_checkable_binary(sysroots, tmp_path, isa_name):
    """musltool's own strip (pyelftools) on each row's ELF flavour. GCC keeps what zig's -Os
    link drops (the symbol table, -g's DWARF), and its musl needs no second libc for -g."""
    isa = get_isa(isa_name)
    original = tmp_path / "hello"
    gcc = get_toolchain("debian-gcc", isa).tool("gcc")
    subprocess.run([gcc, "-Os", "-g", "-static", "-o", original, ROOT / "recipes" / "hello" / "hello.c"], check=True)
    assert {".symtab", ".debug_info", ".debug_line"} <= symbols_and_debug_sections(original)
    stripped = tmp_path / "stripped"
    stripped.write_bytes(strip_bytes(original.read_bytes()))
    stripped.chmod(0o755)
    assert symbols_and_debug_sections(stripped) == set()
    assert stripped.stat().st_size < original.stat().st_size
    assert all(c.ok for c in check_binary(stripped, isa))
    qemu = shutil.which(isa.qemu_binary)
    assert qemu, f"{isa.qemu_binary} is required"
    run = subprocess.run([qemu, "-cpu", isa.qemu_cpu, stripped], capture_output=True, text=True, check=True)
    assert run.stdout == f"{isa.uname_machine}\n"
