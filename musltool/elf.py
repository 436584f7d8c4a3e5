"""ELF checks with pyelftools: is this a fully static binary for the ISA that was asked for?"""

from __future__ import annotations

from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

from musltool.errors import CheckError
from musltool.isa import ISAS, Isa
from musltool.report import Check

# Sections that hold an ISA's build attributes (float ABI, architecture level): read by the
# checks here, kept by musltool's strip.
ATTRIBUTE_SECTION_TYPES = frozenset({"SHT_ARM_ATTRIBUTES", "SHT_RISCV_ATTRIBUTES"})


def _attributes(elf: ELFFile) -> dict[str, object]:
    found: dict[str, object] = {}
    for section in elf.iter_sections():
        if section["sh_type"] not in ATTRIBUTE_SECTION_TYPES:
            continue
        for sub in section.iter_subsections():
            for subsub in sub.iter_subsubsections():
                for attr in subsub.iter_attributes():
                    found[attr.tag] = attr.value
    return found


def _needed_libraries(elf: ELFFile) -> list[str]:
    return [
        tag.needed
        for section in elf.iter_sections()
        if isinstance(section, DynamicSection)
        for tag in section.iter_tags()
        if tag.entry.d_tag == "DT_NEEDED"
    ]


def _describe_machine(elf: ELFFile) -> str:
    """The rows this file's machine, class and byte order fit ("armv7 or armv6": the build
    attributes tell those apart), or the raw facts."""
    rows = [isa.name for isa in ISAS if (isa.elf_machine, isa.elf_class, isa.little_endian)
            == (elf["e_machine"], elf.elfclass, elf.little_endian)]  # fmt: skip
    return " or ".join(rows) or f"{elf['e_machine']} ({elf.elfclass}-bit)"


def _checks(elf: ELFFile, isa: Isa) -> list[Check]:
    checks = [
        Check(
            "machine",
            elf["e_machine"] == isa.elf_machine,
            f"built for {_describe_machine(elf)}, expected {isa.name} ({isa.elf_machine})",
        ),
        Check(
            "class",
            elf.elfclass == isa.elf_class,
            f"ELF{elf.elfclass}, expected ELF{isa.elf_class}",
        ),
        Check(
            "endianness",
            elf.little_endian == isa.little_endian,
            "little-endian" if elf.little_endian else "big-endian",
        ),
        Check("executable", elf["e_type"] in ("ET_EXEC", "ET_DYN"), f"type {elf['e_type']}"),
    ]
    interp = [seg for seg in elf.iter_segments() if seg["p_type"] == "PT_INTERP"]
    checks.append(
        Check(
            "no-interpreter",
            not interp,
            f"dynamically linked: asks for loader {interp[0].get_interp_name()}"
            if interp
            else "no PT_INTERP (no dynamic loader)",
        )
    )
    needed = _needed_libraries(elf)
    checks.append(
        Check(
            "no-shared-libraries",
            not needed,
            f"needs shared libraries: {', '.join(needed)}" if needed else "no DT_NEEDED",
        )
    )
    if isa.elf_flags:
        mask, value, meaning = isa.elf_flags
        got = elf["e_flags"] & mask
        checks.append(
            Check(
                "abi-flags",
                got == value,
                f"e_flags 0x{elf['e_flags']:08x}: "
                + (meaning if got == value else f"not {meaning}"),
            )
        )
    attributes = _attributes(elf) if isa.elf_attributes else {}
    for tag, allowed, meaning in isa.elf_attributes:
        got = attributes.get(tag)
        checks.append(
            Check(
                f"attribute:{tag}",
                got in allowed,
                meaning if got in allowed else f"not {meaning}: {tag} is {got}",
            )
        )
    return checks


def check_binary(path: Path, isa: Isa) -> list[Check]:
    """Every check for `path` against `isa`, passed or not."""
    try:
        with path.open("rb") as handle:
            return _checks(ELFFile(handle), isa)
    except ELFError as exc:
        return [Check("elf", False, f"not an ELF file: {exc}")]
    except OSError as exc:
        return [Check("elf", False, f"cannot read: {exc.strerror}")]


def require_static_binary(path: Path, isa: Isa) -> list[Check]:
    """The checks, or CheckError naming in words every one that failed."""
    checks = check_binary(path, isa)
    failed = [c for c in checks if not c.ok]
    if failed:
        reasons = "; ".join(c.detail for c in failed)
        raise CheckError(f"{path.name} is not a static {isa.name} musl binary: {reasons}")
    return checks
