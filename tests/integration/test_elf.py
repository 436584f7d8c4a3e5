"""ELF checks on real binaries: zig-built static ones, a host-gcc dynamic one, wrong ISAs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from musltool.elf import check_binary, require_static_binary
from musltool.errors import CheckError
from musltool.isa import TIERS, get_isa
from musltool.toolchain import get_toolchain
from musltool.toolchain.zigexe import zig_cache_dir, zig_executable

HELLO = Path(__file__).resolve().parents[2] / "recipes" / "hello" / "hello.c"


@pytest.fixture(scope="module")
def static_binaries(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("elf")
    binaries = {}
    for isa in TIERS["tier1"]:
        toolchain = get_toolchain("zig", isa)
        path = out / f"hello-{isa.name}"
        # The flags of musltool's own builds: zig's libc for them is compiled once per run
        # (with -g zig would compile a second libc with debug info for each ISA: 5 min of CI).
        subprocess.run([toolchain.tool("gcc"), "-Os", "-o", path, HELLO], check=True, env=toolchain.env())
        binaries[isa.name] = path
    return binaries


@pytest.mark.parametrize("isa_name", [isa.name for isa in TIERS["tier1"]])
def test_static_binary_passes_every_check(static_binaries, isa_name):
    checks = require_static_binary(static_binaries[isa_name], get_isa(isa_name))
    names = {c.name for c in checks}
    assert {"machine", "class", "no-interpreter", "no-shared-libraries"} <= names
    assert all(c.ok for c in checks)


def test_armv7_is_v7_hard_float_and_riscv_is_lp64d(static_binaries):
    arm = {c.name: c for c in check_binary(static_binaries["armv7"], get_isa("armv7"))}
    assert arm["abi-flags"].ok, arm["abi-flags"].detail
    for tag in ("TAG_CPU_ARCH", "TAG_ABI_VFP_ARGS", "TAG_FP_ARCH", "TAG_ADVANCED_SIMD_ARCH"):
        assert arm[f"attribute:{tag}"].ok, arm[f"attribute:{tag}"].detail
    riscv = {c.name: c for c in check_binary(static_binaries["riscv64"], get_isa("riscv64"))}
    assert riscv["abi-flags"].ok, riscv["abi-flags"].detail


def test_wrong_isa_is_rejected_in_words(static_binaries):
    with pytest.raises(CheckError) as err:
        require_static_binary(static_binaries["aarch64"], get_isa("riscv64"))
    assert "built for aarch64, expected riscv64" in str(err.value)


def test_soft_float_arm_is_rejected(tmp_path):
    toolchain = get_toolchain("zig", get_isa("armv7"))
    soft = tmp_path / "soft"
    start = tmp_path / "start.c"
    start.write_text("void _start(void) { for (;;) {} }\n")
    # zig's soft-float ARM target, not through musltool's wrapper: the checks must notice. No
    # libc (a soft-float musl would be compiled for this one file: 70 s of CI).
    subprocess.run(
        [zig_executable(), "cc", "-target", "arm-linux-musleabi", "-nostdlib", "-ffreestanding", "-static", "-o", soft, start],
        check=True,
        env={**toolchain.env(), "ZIG_GLOBAL_CACHE_DIR": str(zig_cache_dir())},
    )
    failed = {c.name for c in check_binary(soft, get_isa("armv7")) if not c.ok}
    assert "abi-flags" in failed
    assert "attribute:TAG_ABI_VFP_ARGS" in failed


def test_dynamic_binary_is_rejected(tmp_path):
    cc = shutil.which("gcc") or shutil.which("cc")
    assert cc, "a host C compiler is needed to make a dynamic binary"
    dynamic = tmp_path / "dynamic"
    subprocess.run([cc, "-o", dynamic, HELLO], check=True)
    with pytest.raises(CheckError) as err:
        require_static_binary(dynamic, get_isa("x86_64"))
    message = str(err.value)
    assert "dynamically linked" in message
    assert "libc.so" in message


def test_non_elf_is_rejected(tmp_path):
    bogus = tmp_path / "script"
    bogus.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(CheckError, match="not an ELF file"):
        require_static_binary(bogus, get_isa("x86_64"))
