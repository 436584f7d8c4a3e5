"""The ISA table: every per-architecture fact musltool needs, in one place."""

from __future__ import annotations

import contextlib
import difflib
import platform
from dataclasses import dataclass

from musltool.errors import UsageError


@dataclass(frozen=True)
class Isa:
    name: str
    aliases: tuple[str, ...]
    musl_triple: str
    zig_target: str
    zig_cpu: str
    qemu: str  # qemu-user name: qemu-<qemu>-static, binfmt entry qemu-<qemu>
    docker_platform: str
    uname_machine: str  # what uname -m prints under qemu-user
    elf_machine: str  # pyelftools e_machine
    elf_class: int
    little_endian: bool
    kbuild_arch: str  # Kbuild's ARCH= (Kconfig projects, the kernel)
    meson_cpu_family: str  # [host_machine] cpu_family in a Meson cross file
    # The oldest CPU the ISA's binaries must run on, as qemu-user's -cpu model: verification
    # runs there, so an instruction that CPU lacks fails here and not on a customer's board.
    qemu_cpu: str
    # Booting a kernel under qemu-system: the machine, its oldest CPU model (the virt
    # machines take fewer models than qemu-user), the serial console, firmware arguments.
    qemu_system: str
    qemu_system_package: str  # the Debian package that has it
    boot_machine: str
    boot_cpu: str
    console: str
    boot_firmware: tuple[str, ...] = ()
    # qemu-system's TCG threading: "multi" runs each virtual CPU on its own host thread,
    # "single" takes turns on one (for an ISA whose multi-threaded emulation is not safe).
    boot_tcg_thread: str = "multi"
    # What a kernel image qemu-system boots for this ISA starts with: (format, offset, magic).
    # An ELF vmlinux of the ISA's machine is taken too. `--kernel` is checked against these.
    kernel_formats: tuple[tuple[str, int, bytes], ...] = ()
    # (mask, value, meaning) that e_flags must match, if the ISA encodes its ABI there.
    elf_flags: tuple[int, int, str] | None = None
    # (tag, allowed values, meaning) for the ISA's build-attributes section; None in the
    # allowed values means the tag may be absent.
    elf_attributes: tuple[tuple[str, tuple[int | None, ...], str], ...] = ()

    @property
    def qemu_binary(self) -> str:
        return f"qemu-{self.qemu}-static"

    @property
    def binfmt_name(self) -> str:
        return f"qemu-{self.qemu}"

    @property
    def docker_os_arch_variant(self) -> tuple[str, str, str]:
        os_, arch, *variant = self.docker_platform.split("/")
        return os_, arch, variant[0] if variant else ""


ISAS: tuple[Isa, ...] = (
    Isa(
        name="x86_64",
        aliases=("amd64", "x86-64", "x64", "linux/amd64"),
        musl_triple="x86_64-linux-musl",
        zig_target="x86_64-linux-musl",
        zig_cpu="baseline",
        qemu="x86_64",
        docker_platform="linux/amd64",
        uname_machine="x86_64",
        elf_machine="EM_X86_64",
        elf_class=64,
        little_endian=True,
        kbuild_arch="x86_64",
        meson_cpu_family="x86_64",
        qemu_cpu="qemu64",  # x86-64 baseline (SSE2), no SSE4, AVX or later
        qemu_system="qemu-system-x86_64",
        qemu_system_package="qemu-system-x86",
        boot_machine="pc",
        boot_cpu="qemu64",
        console="ttyS0",
        kernel_formats=(("bzImage", 0x202, b"HdrS"),),
    ),
    Isa(
        name="aarch64",
        aliases=("arm64", "armv8", "linux/arm64", "linux/arm64/v8"),
        musl_triple="aarch64-linux-musl",
        zig_target="aarch64-linux-musl",
        zig_cpu="baseline",
        qemu="aarch64",
        docker_platform="linux/arm64",
        uname_machine="aarch64",
        elf_machine="EM_AARCH64",
        elf_class=64,
        little_endian=True,
        kbuild_arch="arm64",
        meson_cpu_family="aarch64",
        qemu_cpu="cortex-a53",  # ARMv8.0-A: no LSE atomics, no SVE
        qemu_system="qemu-system-aarch64",
        qemu_system_package="qemu-system-arm",
        boot_machine="virt",
        boot_cpu="cortex-a53",
        console="ttyAMA0",
        kernel_formats=(("arm64 Image", 0x38, b"ARM\x64"), ("EFI zboot", 4, b"zimg"), ("gzip'd Image", 0, b"\x1f\x8b")),
    ),
    Isa(
        name="armv7",
        aliases=("armhf", "arm", "armv7l", "armv7hf", "arm/v7", "linux/arm/v7"),
        musl_triple="armv7-linux-musleabihf",
        zig_target="arm-linux-musleabihf",
        # What Debian's armhf and Alpine's armv7 mean: ARMv7-A, Thumb-2, VFPv3-D16, no NEON.
        zig_cpu="generic+v7a+vfp3d16+thumb2-neon-d32",
        qemu="arm",
        docker_platform="linux/arm/v7",
        uname_machine="armv7l",
        elf_machine="EM_ARM",
        elf_class=32,
        little_endian=True,
        kbuild_arch="arm",
        meson_cpu_family="arm",
        # An ARMv7-A core with VFPv3-D16 and no NEON (as in NVIDIA's Tegra 2).
        qemu_cpu="cortex-a9,neon=off",
        qemu_system="qemu-system-arm",
        qemu_system_package="qemu-system-arm",
        boot_machine="virt",
        # The virt machine takes no Cortex-A9: a Cortex-A7 without NEON (it has VFPv4, which
        # the ELF check's Tag_FP_arch rule keeps binaries from asking for).
        boot_cpu="cortex-a7,neon=off",
        console="ttyAMA0",
        kernel_formats=(("zImage", 0x24, b"\x18\x28\x6f\x01"), ("uImage", 0, b"\x27\x05\x19\x56")),
        elf_flags=(0xFF000400, 0x05000400, "EABI version 5, hard-float"),
        elf_attributes=(
            ("TAG_CPU_ARCH", (10,), "CPU architecture ARMv7"),
            ("TAG_ABI_VFP_ARGS", (1,), "float arguments in VFP registers (hard-float)"),
            ("TAG_FP_ARCH", (2, 4), "floating point no newer than VFPv3-D16 (16 D registers)"),
            ("TAG_ADVANCED_SIMD_ARCH", (None, 0), "no NEON"),
        ),
    ),
    Isa(
        name="riscv64",
        aliases=("riscv", "rv64", "rv64gc", "linux/riscv64"),
        musl_triple="riscv64-linux-musl",
        zig_target="riscv64-linux-musl",
        zig_cpu="baseline",
        qemu="riscv64",
        docker_platform="linux/riscv64",
        uname_machine="riscv64",
        elf_machine="EM_RISCV",
        elf_class=64,
        little_endian=True,
        kbuild_arch="riscv",
        meson_cpu_family="riscv64",
        # rv64gc: qemu's rv64 model also has the Zba/Zbb/Zbc/Zbs bit-manipulation extensions
        qemu_cpu="rv64,zba=false,zbb=false,zbc=false,zbs=false",
        qemu_system="qemu-system-riscv64",
        qemu_system_package="qemu-system-misc",
        boot_machine="virt",
        boot_cpu="rv64,zba=false,zbb=false,zbc=false,zbs=false",
        console="ttyS0",
        boot_firmware=("-bios", "default"),  # OpenSBI, shipped with qemu
        # qemu 7.2's multi-threaded TCG loses the second hart's start now and then on a busy
        # host: hart 0 in an exception storm, hart 1 faulting as it turns its MMU on, the
        # console silent after OpenSBI. Beside 10 busy loops 11 of 60 boots hung, none of 40
        # single-threaded, same median time to login (benchmarks/boot_under_load.py).
        boot_tcg_thread="single",
        kernel_formats=(("RISC-V Image", 0x38, b"RSC\x05"), ("EFI zboot", 4, b"zimg")),
        elf_flags=(0x6, 0x4, "double-float ABI (lp64d)"),
    ),
)

ISA_NAMES: tuple[str, ...] = tuple(isa.name for isa in ISAS)


def _lookup() -> dict[str, Isa]:
    table: dict[str, Isa] = {}
    for isa in ISAS:
        for key in (isa.name, *isa.aliases):
            table[key.lower()] = isa
    return table


_BY_NAME = _lookup()


def get_isa(name: str) -> Isa:
    """One ISA by any name a user may type (aarch64, arm64, armhf, arm/v7 ...)."""
    isa = _BY_NAME.get(name.strip().lower())
    if isa is None:
        close = difflib.get_close_matches(name.lower(), _BY_NAME, n=1)
        hint = f" (did you mean {_BY_NAME[close[0]].name}?)" if close else ""
        raise UsageError(f"unknown ISA {name!r}{hint}; valid: {', '.join(ISA_NAMES)}, or 'all'")
    return isa


def resolve_isas(spec: str) -> list[Isa]:
    """ISAs from a comma-separated list of names, or 'all'; duplicates dropped, order kept."""
    names = [part for part in spec.split(",") if part.strip()]
    if not names:
        raise UsageError(f"no ISA given; valid: {', '.join(ISA_NAMES)}, or 'all'")
    if any(n.strip().lower() == "all" for n in names):
        return list(ISAS)
    chosen: list[Isa] = []
    for name in names:
        isa = get_isa(name)
        if isa not in chosen:
            chosen.append(isa)
    return chosen


def host_isa() -> Isa | None:
    """The ISA this machine runs natively, or None when it is not one musltool targets."""
    with contextlib.suppress(UsageError):
        return get_isa(platform.machine())
    return None
