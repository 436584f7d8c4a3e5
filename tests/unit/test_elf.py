"""The ELF checks (musltool/elf.py) against ELF files written byte by byte here: each file is
right for its ISA but for one thing, and exactly the check about that thing must fail.

The numbers (e_machine, e_flags, the ARM build attributes) are written out from the ELF and
ARM/RISC-V ABI documents, not read from musltool's ISA table: a wrong row must fail here too.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from musltool.elf import check_binary, require_static_binary
from musltool.errors import CheckError
from musltool.firmware.kernels import kernel_format
from musltool.isa import get_isa as isa_named

ET_REL, ET_EXEC, ET_DYN = 1, 2, 3
PT_LOAD, PT_INTERP = 1, 3
SHT_STRTAB, SHT_DYNAMIC, SHT_ATTRIBUTES = 3, 6, 0x70000003
DT_NULL, DT_NEEDED, DT_STRTAB = 0, 1, 5
# ARM build attributes (tag numbers from the ARM ABI addenda)
TAG_CPU_ARCH, TAG_FP_ARCH, TAG_ADVANCED_SIMD_ARCH, TAG_ABI_VFP_ARGS = 6, 10, 12, 28
TAG_NAMES = {6: "CPU_ARCH", 10: "FP_ARCH", 12: "ADVANCED_SIMD_ARCH", 28: "ABI_VFP_ARGS"}
ARMV6, ARMV6KZ, ARMV6T2, ARMV7, ARMV8 = 6, 7, 8, 10, 14
VFPV2, VFPV3_D16, VFPV4 = 2, 4, 5


@dataclass(frozen=True)
class Elf:
    machine: int
    bits: int = 64
    little: bool = True
    e_type: int = ET_EXEC
    flags: int = 0
    interp: str | None = None
    needed: tuple[str, ...] = ()
    dynamic: bool = False  # a .dynamic section even without DT_NEEDED (as a static PIE has)
    attributes: dict[int, int] = field(default_factory=dict)  # ARM "aeabi" file attributes

    def write(self, path: Path) -> Path:
        path.write_bytes(self.render())
        return path

    def render(self) -> bytes:
        end = "<" if self.little else ">"
        word = "Q" if self.bits == 64 else "I"
        names = b"\0.shstrtab\0.interp\0.dynstr\0.dynamic\0.attributes\0"
        sections: list[tuple[int, int, bytes, int, int]] = []  # name, type, data, link, entsize
        segments: list[tuple[int, bytes]] = []
        if self.interp is not None:
            segments.append((PT_INTERP, self.interp.encode() + b"\0"))
        if self.needed or self.dynamic:
            dynstr = b"\0" + b"".join(n.encode() + b"\0" for n in self.needed)
            offsets = [dynstr.index(b"\0" + n.encode() + b"\0") + 1 for n in self.needed]
            dyn_format = end + ("qQ" if self.bits == 64 else "iI")
            dynamic = b"".join(struct.pack(dyn_format, DT_NEEDED, o) for o in offsets)
            dynamic += struct.pack(dyn_format, DT_STRTAB, 0) + struct.pack(dyn_format, DT_NULL, 0)
            sections.append((names.index(b".dynstr"), SHT_STRTAB, dynstr, 0, 0))
            sections.append(
                (names.index(b".dynamic"), SHT_DYNAMIC, dynamic, 1, struct.calcsize(dyn_format))
            )
        if self.attributes:
            sections.append(
                (names.index(b".attributes"), SHT_ATTRIBUTES, self._attribute_section(end), 0, 0)
            )
        sections.append((names.index(b".shstrtab"), SHT_STRTAB, names, 0, 0))

        header_size, phent, shent = (64, 56, 64) if self.bits == 64 else (52, 32, 40)
        body = bytearray()
        offset = header_size + phent * len(segments)
        segment_offsets = []
        for _, data in segments:
            segment_offsets.append(offset + len(body))
            body += data
        section_offsets = []
        for _name, _type, data, _link, _entsize in sections:
            section_offsets.append(offset + len(body))
            body += data
        shoff = offset + len(body)

        ident = (
            b"\x7fELF" + bytes([2 if self.bits == 64 else 1, 1 if self.little else 2, 1]) + bytes(9)
        )
        header = ident + struct.pack(
            end + f"HHI{word}{word}{word}IHHHHHH",
            self.e_type, self.machine, 1, 0x10000, header_size if segments else 0, shoff,
            self.flags, header_size, phent, len(segments), shent, len(sections) + 1, len(sections),
        )  # fmt: skip
        program_headers = b""
        for (p_type, data), at in zip(segments, segment_offsets, strict=True):
            if self.bits == 64:
                program_headers += struct.pack(
                    end + "IIQQQQQQ", p_type, 4, at, 0, 0, len(data), len(data), 1
                )
            else:
                program_headers += struct.pack(
                    end + "IIIIIIII", p_type, at, 0, 0, len(data), len(data), 4, 1
                )
        section_headers = bytes(shent)
        for (name, sh_type, data, link, entsize), at in zip(sections, section_offsets, strict=True):
            numbers = (name, sh_type, 0, 0, at, len(data), link, 0, 1, entsize)
            section_headers += struct.pack(
                end + ("IIQQQQIIQQ" if self.bits == 64 else "IIIIIIIIII"), *numbers
            )
        return header + program_headers + bytes(body) + section_headers

    def _attribute_section(self, end: str) -> bytes:
        def uleb(n: int) -> bytes:
            out = bytearray()
            while True:
                byte, n = n & 0x7F, n >> 7
                out.append(byte | (0x80 if n else 0))
                if not n:
                    return bytes(out)

        values = b"".join(uleb(tag) + uleb(value) for tag, value in self.attributes.items())
        file_block = uleb(1) + struct.pack(end + "I", 1 + 4 + len(values)) + values
        vendor = b"aeabi\0"
        return (
            b"A" + struct.pack(end + "I", 4 + len(vendor) + len(file_block)) + vendor + file_block
        )


ARMV7_GOOD = Elf(
    machine=40, bits=32, flags=0x05000400,
    attributes={TAG_CPU_ARCH: ARMV7, TAG_FP_ARCH: VFPV3_D16, TAG_ABI_VFP_ARGS: 1},
)  # fmt: skip
GOOD = {
    "x86_64": Elf(machine=62),
    "aarch64": Elf(machine=183),
    "armv7": ARMV7_GOOD,
    "riscv64": Elf(machine=243, flags=0x5),  # RVC + double-float ABI
    # Tier 2, with the e_flags and attributes zig gives their hello
    "x86": Elf(machine=3, bits=32),
    "armv6": Elf(machine=40, bits=32, flags=0x05000400, attributes={TAG_CPU_ARCH: ARMV6, TAG_FP_ARCH: VFPV2, TAG_ABI_VFP_ARGS: 1}),
    "ppc64le": Elf(machine=21, flags=0x2),  # ELFv2
    "s390x": Elf(machine=22, little=False),
    "mips64el": Elf(machine=8, flags=0x80000005),  # MIPS64r2, n64, noreorder + cpic
    "mipsel": Elf(machine=8, bits=32, flags=0x70001005),  # MIPS32r2, o32, noreorder + cpic
    "loongarch64": Elf(machine=258, flags=0x43),  # object version 1, double-float ABI
}  # fmt: skip


def failed(path: Path, isa: str) -> dict[str, str]:
    return {c.name: c.detail for c in check_binary(path, isa_named(isa)) if not c.ok}


@pytest.mark.parametrize("isa", sorted(GOOD))
def test_a_static_binary_for_its_isa_passes_every_check(isa, tmp_path):
    checks = check_binary(GOOD[isa].write(tmp_path / "prog"), isa_named(isa))
    assert [c.name for c in checks if not c.ok] == []
    assert {
        "machine",
        "class",
        "endianness",
        "executable",
        "no-interpreter",
        "no-shared-libraries",
    } <= {c.name for c in checks}
    assert require_static_binary(tmp_path / "prog", isa_named(isa)) == checks


def test_a_static_pie_is_an_executable(tmp_path):
    pie = replace(GOOD["x86_64"], e_type=ET_DYN, dynamic=True)  # .dynamic, no DT_NEEDED
    assert failed(pie.write(tmp_path / "p"), "x86_64") == {}


def test_an_object_file_is_not_an_executable(tmp_path):
    assert failed(replace(GOOD["x86_64"], e_type=ET_REL).write(tmp_path / "p"), "x86_64") == {
        "executable": "type ET_REL"
    }


@pytest.mark.parametrize(
    ("built", "asked", "named"),
    [
        ("aarch64", "x86_64", "aarch64"),
        ("x86_64", "riscv64", "x86_64"),
        ("riscv64", "aarch64", "riscv64"),
        ("armv6", "x86", "armv7 or armv6"),  # one machine, class and byte order: both named
        ("s390x", "ppc64le", "s390x"),
        ("mipsel", "x86", "mipsel"),
    ],
)
def test_a_binary_for_another_isa_fails_the_machine_check_naming_it(built, asked, named, tmp_path):
    problems = failed(GOOD[built].write(tmp_path / "p"), asked)
    assert problems["machine"].startswith(f"built for {named}, expected {asked}")


def test_an_unknown_machine_is_named_by_number_and_class(tmp_path):
    problems = failed(Elf(machine=43).write(tmp_path / "p"), "x86_64")  # SPARC V9: no row
    assert problems["machine"] == "built for EM_SPARCV9 (64-bit), expected x86_64 (EM_X86_64)"


def test_a_32_bit_file_for_a_64_bit_isa_fails_the_class_check_only(tmp_path):
    assert failed(Elf(machine=62, bits=32).write(tmp_path / "p"), "x86_64") == {
        "class": "ELF32, expected ELF64"
    }


def test_a_big_endian_file_fails_the_endianness_check_only(tmp_path):
    assert failed(Elf(machine=183, little=False).write(tmp_path / "p"), "aarch64") == {
        "endianness": "big-endian"
    }


def test_a_big_endian_ppc64_file_is_not_named_ppc64le(tmp_path):
    problems = failed(Elf(machine=21, little=False, flags=0x2).write(tmp_path / "p"), "x86_64")
    assert problems["machine"].startswith("built for EM_PPC64 (64-bit), expected x86_64")


def test_a_dynamic_loader_is_named(tmp_path):
    path = replace(GOOD["aarch64"], interp="/lib/ld-musl-aarch64.so.1").write(tmp_path / "p")
    assert failed(path, "aarch64") == {
        "no-interpreter": "dynamically linked: asks for loader /lib/ld-musl-aarch64.so.1"
    }


def test_shared_libraries_are_named(tmp_path):
    path = replace(GOOD["riscv64"], needed=("libc.so", "libz.so.1")).write(tmp_path / "p")
    assert failed(path, "riscv64") == {
        "no-shared-libraries": "needs shared libraries: libc.so, libz.so.1"
    }


@pytest.mark.parametrize(
    ("flags", "why"),
    [(0x05000200, "soft-float"), (0x04000400, "EABI version 4"), (0x00000400, "no EABI version")],
)
def test_armv7_needs_eabi5_hard_float_in_e_flags(flags, why, tmp_path):
    problems = failed(replace(ARMV7_GOOD, flags=flags).write(tmp_path / "p"), "armv7")
    assert list(problems) == ["abi-flags"], why
    assert problems["abi-flags"] == f"e_flags 0x{flags:08x}: not EABI version 5, hard-float"


@pytest.mark.parametrize(
    ("tag", "value", "check"),
    [
        (TAG_ADVANCED_SIMD_ARCH, 1, "attribute:TAG_ADVANCED_SIMD_ARCH"),  # NEON
        (TAG_ADVANCED_SIMD_ARCH, 2, "attribute:TAG_ADVANCED_SIMD_ARCH"),  # NEON with FMA
        (TAG_FP_ARCH, VFPV4, "attribute:TAG_FP_ARCH"),
        (TAG_FP_ARCH, 3, "attribute:TAG_FP_ARCH"),  # VFPv3 with 32 D registers
        (TAG_CPU_ARCH, ARMV8, "attribute:TAG_CPU_ARCH"),
        (TAG_ABI_VFP_ARGS, 0, "attribute:TAG_ABI_VFP_ARGS"),  # soft-float calling convention
    ],
)
def test_each_armv7_attribute_beyond_the_oldest_cpu_fails_its_own_check(
    tag, value, check, tmp_path
):
    elf = replace(ARMV7_GOOD, attributes={**ARMV7_GOOD.attributes, tag: value})
    problems = failed(elf.write(tmp_path / "p"), "armv7")
    assert list(problems) == [check]
    assert problems[check].startswith("not ") and problems[check].endswith(f" is {value}")


def test_armv7_accepts_vfpv3_d16_and_vfpv2_and_a_stated_no_neon(tmp_path):
    for fp in (2, VFPV3_D16):
        elf = replace(
            ARMV7_GOOD,
            attributes={**ARMV7_GOOD.attributes, TAG_FP_ARCH: fp, TAG_ADVANCED_SIMD_ARCH: 0},
        )
        assert failed(elf.write(tmp_path / "p"), "armv7") == {}


def test_armv7_without_attributes_fails_the_ones_it_must_state(tmp_path):
    problems = failed(replace(ARMV7_GOOD, attributes={}).write(tmp_path / "p"), "armv7")
    assert sorted(problems) == [
        "attribute:TAG_ABI_VFP_ARGS",
        "attribute:TAG_CPU_ARCH",
        "attribute:TAG_FP_ARCH",
    ]
    assert problems["attribute:TAG_CPU_ARCH"] == "not CPU architecture ARMv7: TAG_CPU_ARCH is None"


@pytest.mark.parametrize("flags", [0x0, 0x1, 0x2, 0x3, 0x6])
def test_riscv64_needs_the_double_float_abi(flags, tmp_path):
    problems = failed(replace(GOOD["riscv64"], flags=flags).write(tmp_path / "p"), "riscv64")
    assert problems == {"abi-flags": f"e_flags 0x{flags:08x}: not double-float ABI (lp64d)"}


@pytest.mark.parametrize(
    ("isa", "flags", "why"),
    [("ppc64le", 0x1, "ELFv1 (big-endian POWER's old ABI)"), ("ppc64le", 0x0, "no ABI stated"),
     ("mips64el", 0xA0000005, "MIPS64 release 6 (re-encoded instructions)"),
     ("mips64el", 0x80000025, "n32 ABI"), ("mips64el", 0x60000005, "MIPS64 release 1"),
     ("mipsel", 0x90001005, "MIPS32 release 6"), ("mipsel", 0x70000005, "no o32 ABI stated"),
     ("mipsel", 0x70002005, "o64 ABI"), ("loongarch64", 0x41, "soft-float ABI"),
     ("loongarch64", 0x42, "single-float ABI")],
)  # fmt: skip
def test_tier_two_abi_flags_refuse_other_abis_and_levels(isa, flags, why, tmp_path):
    problems = failed(replace(GOOD[isa], flags=flags).write(tmp_path / "p"), isa)
    assert list(problems) == ["abi-flags"], why


@pytest.mark.parametrize(
    ("tag", "value"),
    [(TAG_CPU_ARCH, ARMV7), (TAG_CPU_ARCH, ARMV6T2), (TAG_FP_ARCH, VFPV3_D16), (TAG_FP_ARCH, VFPV4),
     (TAG_ADVANCED_SIMD_ARCH, 1), (TAG_ABI_VFP_ARGS, 0)],
)  # fmt: skip
def test_armv6_refuses_what_an_arm1176_lacks(tag, value, tmp_path):
    elf = replace(GOOD["armv6"], attributes={**GOOD["armv6"].attributes, tag: value})
    assert list(failed(elf.write(tmp_path / "p"), "armv6")) == [f"attribute:TAG_{TAG_NAMES[tag]}"]


def test_armv6_takes_v6kz_and_an_armv6_binary_is_no_armv7_one(tmp_path):
    v6kz = replace(GOOD["armv6"], attributes={**GOOD["armv6"].attributes, TAG_CPU_ARCH: ARMV6KZ})
    assert failed(v6kz.write(tmp_path / "kz"), "armv6") == {}
    assert list(failed(GOOD["armv6"].write(tmp_path / "v6"), "armv7")) == ["attribute:TAG_CPU_ARCH"]


def test_s390x_refuses_a_little_endian_file(tmp_path):
    assert failed(replace(GOOD["s390x"], little=True).write(tmp_path / "p"), "s390x") == {
        "endianness": "little-endian"
    }


def test_isas_without_flag_rules_ignore_e_flags(tmp_path):
    assert failed(replace(GOOD["aarch64"], flags=0xFFFF).write(tmp_path / "p"), "aarch64") == {}


def test_a_file_that_is_not_elf_is_one_failed_check(tmp_path):
    (tmp_path / "script").write_text("#!/bin/sh\necho hi\n")
    checks = check_binary(tmp_path / "script", isa_named("x86_64"))
    assert [(c.name, c.ok) for c in checks] == [("elf", False)]
    assert checks[0].detail.startswith("not an ELF file")


def test_a_missing_file_is_one_failed_check(tmp_path):
    checks = check_binary(tmp_path / "absent", isa_named("x86_64"))
    assert [(c.name, c.ok, c.detail) for c in checks] == [
        ("elf", False, "cannot read: No such file or directory")
    ]


def test_require_names_every_failed_check_in_one_error(tmp_path):
    path = replace(GOOD["aarch64"], interp="/lib/ld.so", needed=("libc.so",)).write(
        tmp_path / "prog"
    )
    with pytest.raises(CheckError) as raised:
        require_static_binary(path, isa_named("aarch64"))
    assert str(raised.value) == (
        "prog is not a static aarch64 musl binary: dynamically linked: asks for loader /lib/ld.so; "
        "needs shared libraries: libc.so"
    )
    assert raised.value.exit_code == 6


@pytest.mark.parametrize(("image", "fits"), [
    (GOOD["ppc64le"], True),
    (GOOD["x86_64"], False),  # another machine's ELF is no ppc64le kernel
    (Elf(machine=21, little=False, flags=0x2), False),  # a big-endian ppc64 kernel
    (Elf(machine=20, bits=32), False),  # 32-bit PowerPC
])  # fmt: skip
def test_an_elf_vmlinux_is_a_kernel_only_for_its_machine_class_and_byte_order(image, fits, tmp_path):
    data = image.write(tmp_path / "vmlinux").read_bytes()
    assert (kernel_format(data, isa_named("ppc64le")) == "ELF vmlinux") is fits
