"""Tier 2 rows (x86, armv6, ppc64le, s390x, loongarch64), and tier 3 rows (mips64el, mipsel) when
MUSLTOOL_TEST_TIER3 is set: what README's tier table promises for them beyond BusyBox (test_busybox.py takes every row
of `--arch all`), each on its oldest CPU. Tier 1 rows have the rest of the suite."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from musltool.isa import ISAS, TIERS
from tests.integration.conftest import invoke

TIER_TWO = [isa.name for isa in TIERS["tier2"]]
# Tier 3 rows are not verified in CI (Rust's tier 3: each needs zig to compile one more libc,
# minutes of CI): MUSLTOOL_TEST_TIER3=1 adds them to a run, as README says.
TIER_THREE = [isa.name for isa in TIERS["tier3"]] if os.environ.get("MUSLTOOL_TEST_TIER3") else []
BUILT = [isa for isa in ISAS if isa.tier != 3 or isa.name in TIER_THREE]
SMALL_RECIPES = ["musl-claims", "crc32"]

# What file(1) says of each row's hello: class and byte order, then the machine. An oracle
# apart from musltool's own ELF checks (libmagic, not pyelftools).
FILE_SAYS = {
    "x86_64": ("ELF 64-bit LSB", "x86-64"),
    "aarch64": ("ELF 64-bit LSB", "ARM aarch64"),
    "armv7": ("ELF 32-bit LSB", "ARM, EABI5"),
    "riscv64": ("ELF 64-bit LSB", "RISC-V"),
    "x86": ("ELF 32-bit LSB", "Intel 80386"),
    "armv6": ("ELF 32-bit LSB", "ARM, EABI5"),
    "ppc64le": ("ELF 64-bit LSB", "64-bit PowerPC", "OpenPOWER ELF V2 ABI"),
    "s390x": ("ELF 64-bit MSB", "IBM S/390"),
    "mips64el": ("ELF 64-bit LSB", "MIPS, MIPS64 rel2"),
    "mipsel": ("ELF 32-bit LSB", "MIPS, MIPS32 rel2"),
    "loongarch64": ("ELF 64-bit LSB", "LoongArch"),
}


def report_of(dist: Path, isa: str, binary: str) -> dict:
    return json.loads((dist / isa / f"{binary}.json").read_text())


def test_build_all_verifies_hello_on_every_row_and_file_agrees(tmp_path, with_mirror):
    """The issue's `invoke build --arch all`: hello on every row, each run on its oldest CPU."""
    dist = tmp_path / "dist"
    proc = invoke("build", "--arch", ",".join(["all", *TIER_THREE]), "--dist", str(dist), timeout=3600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(BUILT) >= 9 and set(FILE_SAYS) == {isa.name for isa in ISAS}
    for isa in BUILT:
        binary = dist / isa.name / "hello"
        said = subprocess.run(["file", "-b", str(binary)], capture_output=True, text=True, check=True).stdout
        for words in FILE_SAYS[isa.name]:
            assert words in said, (isa.name, said)
        assert "statically linked" in said, (isa.name, said)
        report = report_of(dist, isa.name, "hello")
        assert report["verification"]["passed"], isa.name
        # hello prints uname -m, which must be the row's (x86's i686 comes from the linux32
        # personality as much as from qemu-i386: test_oldest_cpu's POPCNT case shows qemu ran).
        runs = [r for r in report["verification"]["results"] if r["name"] == "uname machine"]
        assert [r["status"] for r in runs] == ["passed"], isa.name


@pytest.mark.parametrize("recipe", SMALL_RECIPES)
@pytest.mark.parametrize("isa_name", TIER_TWO + TIER_THREE)
def test_small_recipes_verify_on_tier_two(shared, isa_name, recipe):
    dist = shared.dist(recipe, isa_name)
    report = shared.report(recipe, isa_name)
    assert report["isa"] == isa_name and report["verification"]["passed"], (recipe, isa_name)
    statuses = {r["status"] for r in report["verification"]["results"]}
    assert "passed" in statuses and "failed" not in statuses, (recipe, isa_name)
    assert (dist / isa_name / report["binary"]).is_file()
