"""Binaries that need a newer CPU than the ISA table's oldest one are caught, not shipped.

Each case builds a small recipe twice: once as musltool builds it (must pass) and once with a
function compiled for a newer CPU (AVX, LSE atomics, Zbb, POPCNT, ISA 3.0, the z13 vector
facility, LA664's amcas) through a target attribute. The runners emulate the oldest CPU, so the
newer instruction traps. A target attribute rather than `-mcpu`: the rest of the binary, zig's
libc included, stays built for the oldest CPU, so the case does not compile a libc for another
CPU (about 40 s of CI time per row). For armv7 the ELF attribute checks refuse the binary
before it runs; those attributes describe the whole file, so that case keeps `-mcpu`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from musltool.build import build
from musltool.catalog import load_recipe
from musltool.errors import CheckError, VerificationError
from musltool.isa import get_isa
from musltool.kinds.base import BuildOptions

# Each row's newer CPU as a target attribute, and code it compiles to a newer instruction. The
# value depends on argc so that the compiler cannot fold the newer instruction away.
VECTOR_OF_FOUR_DOUBLES = (
    # Four doubles in one vector: SSE2 pairs on the baseline, one AVX register with AVX.
    "typedef double v4d __attribute__((vector_size(32)));\n"
    "NEWER double run(int argc) {\n"
    "    volatile double seed = argc + 0.5;\n"
    "    v4d a = {seed, seed, seed, seed};\n"
    "    a = a + a;\n"
    "    return a[0];\n"
    "}\n"
)
NEWER_CPU_CASES = {
    "x86_64": ("avx2", VECTOR_OF_FOUR_DOUBLES),
    "aarch64": (
        "lse",
        "#include <stdatomic.h>\n"
        "NEWER double run(int argc) {\n"
        "    atomic_int value = 1;\n"
        "    atomic_fetch_add(&value, argc + 1);\n"
        "    return atomic_load(&value);\n"
        "}\n",
    ),
    "riscv64": (
        "arch=+zbb",
        "NEWER double run(int argc) { return 63 - __builtin_clzl((unsigned long)argc << 1) + 1; }\n",
    ),
    # Tier 2. Nehalem's POPCNT, which no Pentium 4 has.
    "x86": ("popcnt", "NEWER double run(int argc) { return __builtin_popcount((unsigned)argc * 7u); }\n"),
    # POWER9 (ISA 3.0): modsd and cnttzd.
    "ppc64le": (
        "isa-v30-instructions",
        "NEWER double run(int argc) {\n"
        "    volatile long a = argc * 7L, b = argc + 1;\n"
        "    return (double)(a % b) + __builtin_ctzll((unsigned long long)a << 2);\n"
        "}\n",
    ),
    # z13's vector facility, for the same four doubles as x86_64's AVX case.
    "s390x": ("vector", VECTOR_OF_FOUR_DOUBLES),
    # LA664's compare-and-swap instruction (amcas), which LA464 lacks.
    "loongarch64": (
        "arch=la664",
        "#include <stdatomic.h>\n"
        "NEWER double run(int argc) {\n"
        "    atomic_int value = 1;\n"
        "    int expected = 1;\n"
        "    atomic_compare_exchange_strong(&value, &expected, argc + 2);\n"
        "    return atomic_load(&value);\n"
        "}\n",
    ),
}
MAIN = """#include <stdio.h>
double run(int argc);
int main(int argc, char **argv) {
    (void)argv;
    printf("%g\\n", run(argc));
    return 0;
}
"""
EXPECTED = {"x86_64": "3\n", "aarch64": "3\n", "riscv64": "2\n", "x86": "3\n", "ppc64le": "3\n",
            "s390x": "3\n", "loongarch64": "3\n"}  # fmt: skip
# qemu's z900 has no vector facility: a vector instruction is a data exception there (SIGFPE).
TRAP = {"s390x": "SIGFPE"}
# The second runner costs a build each: tier 1 rows are run on both, tier 2 rows in docker.
RUNNERS = {name: ["docker", "qemu"] if get_isa(name).tier == 1 else ["docker"] for name in NEWER_CPU_CASES}


def write_recipe(folder: Path, name: str, code: str, cflags: list[str], stdout: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "main.c").write_text(MAIN)
    (folder / "run.c").write_text(code)
    flags = ", ".join(f'"{flag}"' for flag in cflags)
    (folder / "recipe.toml").write_text(
        f'name = "{name}"\nversion = "1"\nkind = "c"\nbinary = "{name}"\n\n'
        f'[build]\nsources = ["main.c", "run.c"]\ncflags = [{flags}]\n\n'
        f'[[verify]]\nname = "known answer"\nstdout = "{stdout.encode("unicode_escape").decode()}"\n'
    )
    return folder


def build_folder(folder: Path, isa: str, runner: str, dist: Path):
    return build(load_recipe(str(folder)), get_isa(isa), BuildOptions(dist=dist, runner=runner))


@pytest.mark.parametrize(("isa_name", "runner"), [(n, r) for n in sorted(NEWER_CPU_CASES) for r in RUNNERS[n]])
def test_newer_instructions_trap_on_the_oldest_cpu(tmp_path, isa_name, runner):
    feature, code = NEWER_CPU_CASES[isa_name]
    expected = EXPECTED[isa_name]
    plain = write_recipe(tmp_path / "plain", "oldcpu", code.replace("NEWER ", ""), [], expected)
    result = build_folder(plain, isa_name, runner, tmp_path / "dist-plain")
    assert result.report.is_verified()

    newer_code = code.replace("NEWER", f'__attribute__((target("{feature}")))')
    newer = write_recipe(tmp_path / "newer", "newcpu", newer_code, [], expected)
    with pytest.raises(VerificationError) as err:
        build_folder(newer, isa_name, runner, tmp_path / "dist-newer")
    assert TRAP.get(isa_name, "SIGILL") in str(err.value)
    assert not (tmp_path / "dist-newer" / isa_name / "newcpu").exists()


def test_armv7_neon_is_refused_by_the_elf_checks(tmp_path):
    code = "double run(int argc) { return argc * 1.5 + 1.5; }\n"
    plain = write_recipe(tmp_path / "plain", "oldcpu", code, [], "3\n")
    report = build_folder(plain, "armv7", "qemu", tmp_path / "dist-plain").report
    assert report.is_verified()

    newer = write_recipe(tmp_path / "newer", "newcpu", code, ["-mcpu=cortex_a8"], "3\n")
    with pytest.raises(CheckError) as err:
        build_folder(newer, "armv7", "qemu", tmp_path / "dist-newer")
    message = str(err.value)
    # Cortex-A8: VFPv3 with 32 registers (Tag_FP_arch 3) and NEON (Tag_Advanced_SIMD_arch 1),
    # each refused on its own: allowing NEON alone would fail this test.
    assert "TAG_FP_ARCH is 3" in message and "TAG_ADVANCED_SIMD_ARCH is 1" in message
    assert not (tmp_path / "dist-newer" / "armv7" / "newcpu").exists()
