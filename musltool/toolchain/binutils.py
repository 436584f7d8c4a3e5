"""`strip` and `nm` for any ELF ISA, for toolchains (zig) that do not ship working ones.

zig's objcopy cannot strip every ISA (riscv64: "unimplemented"), so stripping is done here:
the file is cut after the last loaded segment and a new section table is written that keeps
allocated sections plus the ISA attribute sections the ELF checks rely on
(musltool.elf.ATTRIBUTE_SECTION_TYPES).
pyelftools reads the file; the few header fields that change are written with struct.
"""

from __future__ import annotations

import io
import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from musltool.elf import ATTRIBUTE_SECTION_TYPES

DEBUG_PREFIXES = (".debug", ".zdebug", ".gdb_index", ".stab")


@dataclass
class _Layout:
    sh_fmt: str  # one section header
    ehdr_shoff: int  # where e_shoff sits in the ELF header
    ehdr_shnum: int  # where e_shnum (then e_shstrndx) sits
    word: str  # e_shoff's format


def _layout(elf: ELFFile) -> _Layout:
    end = "<" if elf.little_endian else ">"
    if elf.elfclass == 64:
        return _Layout(end + "IIQQQQIIQQ", 0x28, 0x3C, end + "Q")
    return _Layout(end + "IIIIIIIIII", 0x20, 0x30, end + "I")


def _wanted(section, mode: str, removed: set[str]) -> bool:
    if section.name in removed or section["sh_type"] == "SHT_NULL":
        return False
    if section["sh_flags"] & SH_FLAGS.SHF_ALLOC or section["sh_type"] in ATTRIBUTE_SECTION_TYPES:
        return True
    if section.name == ".shstrtab":
        return False  # always rewritten
    if mode == "debug":
        return not section.name.startswith(DEBUG_PREFIXES)
    return False


def strip_bytes(data: bytes, mode: str = "all", removed: set[str] | None = None) -> bytes:
    """An ELF with symbols/debug info (mode 'all') or debug info only ('debug') removed."""
    elf = ELFFile(io.BytesIO(data))
    lay = _layout(elf)
    kept = [
        i for i in range(elf.num_sections()) if _wanted(elf.get_section(i), mode, removed or set())
    ]
    new_index = {old: new for new, old in enumerate(kept, start=1)}

    loaded_end = max(
        [elf["e_phoff"] + elf["e_phnum"] * elf["e_phentsize"], elf["e_ehsize"]]
        + [
            seg["p_offset"] + seg["p_filesz"]
            for seg in elf.iter_segments()
            if seg["p_type"] == "PT_LOAD"
        ]
    )
    moved: dict[int, int] = {}
    out = bytearray(data[:loaded_end])
    headers = []
    names = bytearray(b"\0")
    for old in kept:
        section = elf.get_section(old)
        raw = list(struct.unpack_from(lay.sh_fmt, data, elf["e_shoff"] + old * elf["e_shentsize"]))
        # raw: name, type, flags, addr, offset, size, link, info, addralign, entsize
        if section["sh_type"] != "SHT_NOBITS" and raw[4] + raw[5] > loaded_end:
            out += b"\0" * (-len(out) % max(raw[8], 1))
            moved[raw[4]] = len(out)
            raw[4] = len(out)
            out += section.data()
        raw[4] = min(raw[4], len(out))
        raw[0] = len(names)
        names += section.name.encode() + b"\0"
        raw[6] = new_index.get(raw[6], 0)
        if raw[2] & SH_FLAGS.SHF_INFO_LINK or section["sh_type"] in ("SHT_REL", "SHT_RELA"):
            raw[7] = new_index.get(raw[7], 0)
        headers.append(raw)
    shstrtab_name = len(names)
    names += b".shstrtab\0"
    shstrtab_offset = len(out)
    out += names
    out += b"\0" * (-len(out) % 8)
    shoff = len(out)
    out += b"\0" * struct.calcsize(lay.sh_fmt)  # the SHT_NULL entry
    for raw in headers:
        out += struct.pack(lay.sh_fmt, *raw)
    out += struct.pack(lay.sh_fmt, shstrtab_name, 3, 0, 0, shstrtab_offset, len(names), 0, 0, 1, 0)
    _move_segments(elf, lay, out, moved)
    count = len(headers) + 2
    struct.pack_into(lay.word, out, lay.ehdr_shoff, shoff)
    struct.pack_into(lay.word[0] + "HH", out, lay.ehdr_shnum, count, count - 1)
    return bytes(out)


def _move_segments(elf: ELFFile, lay: _Layout, out: bytearray, moved: dict[int, int]) -> None:
    """Point segments that map a moved section (PT_RISCV_ATTRIBUTES) at its new place."""
    field = 8 if elf.elfclass == 64 else 4
    for index, segment in enumerate(elf.iter_segments()):
        if segment["p_offset"] in moved and segment["p_type"] != "PT_LOAD":
            where = elf["e_phoff"] + index * elf["e_phentsize"] + field
            struct.pack_into(lay.word, out, where, moved[segment["p_offset"]])


def strip_main(args: list[str]) -> int:
    """A GNU strip subset: -s/--strip-all, -g/-S/--strip-debug, -R NAME, -o OUT, files."""
    mode, output, removed, files = "all", None, set(), []
    it = iter(args)
    for arg in it:
        if arg in ("-s", "--strip-all", "--strip-unneeded"):
            mode = "all"
        elif arg in ("-g", "-S", "-d", "--strip-debug"):
            mode = "debug"
        elif arg in ("-R", "--remove-section"):
            removed.add(next(it))
        elif arg.startswith("--remove-section="):
            removed.add(arg.split("=", 1)[1])
        elif arg == "-o":
            output = next(it)
        elif arg.startswith("-"):
            continue  # options without effect on a static executable (-p, -D, -x ...)
        else:
            files.append(arg)
    if output and len(files) != 1:
        print("strip: -o takes exactly one input file", file=sys.stderr)
        return 1
    for name in files:
        source = Path(name)
        target = Path(output) if output else source
        stripped = strip_bytes(source.read_bytes(), mode, removed)
        tmp = target.with_name(f".{target.name}.strip-tmp")
        tmp.write_bytes(stripped)
        os.chmod(tmp, source.stat().st_mode & 0o7777)
        os.replace(tmp, target)
    return 0


_NM_TYPES = {"STT_FUNC": "t", "STT_OBJECT": "d", "STT_NOTYPE": "n", "STT_TLS": "d"}


def nm_lines(data: bytes) -> list[str]:
    """Symbols in `nm` format (address, type letter, name), sorted by name."""
    elf = ELFFile(io.BytesIO(data))
    width = 16 if elf.elfclass == 64 else 8
    lines = []
    for section in elf.iter_sections():
        if not isinstance(section, SymbolTableSection):
            continue
        for sym in section.iter_symbols():
            if not sym.name or sym["st_info"]["type"] in ("STT_SECTION", "STT_FILE"):
                continue
            if sym["st_shndx"] == "SHN_UNDEF":
                lines.append(f"{'':>{width}} U {sym.name}")
                continue
            letter = _NM_TYPES.get(sym["st_info"]["type"], "?")
            if sym["st_info"]["bind"] != "STB_LOCAL":
                letter = letter.upper()
            lines.append(f"{sym['st_value']:0{width}x} {letter} {sym.name}")
    return sorted(lines, key=lambda line: line.split(" ")[-1])


AR_MAGIC = b"!<arch>\n"
AR_HEADER = 60  # bytes: name 16, dates and ids 32, size 10, end mark 2


def ar_members(data: bytes) -> list[tuple[str, bytes]]:
    """(name, bytes) of each object in a System V / GNU `ar` archive (what `ar rc` makes),
    without its symbol index and long-name table."""
    members, long_names, offset = [], b"", len(AR_MAGIC)
    while offset + AR_HEADER <= len(data):
        header = data[offset : offset + AR_HEADER]
        name, size = header[:16].decode().rstrip(), int(header[48:58].decode().strip() or 0)
        body = data[offset + AR_HEADER : offset + AR_HEADER + size]
        offset += AR_HEADER + size + size % 2  # members start on even offsets
        if name == "//":
            long_names = body
        elif name.startswith("/") and name[1:].isdigit():
            start = int(name[1:])
            members.append((long_names[start:].split(b"/\n", 1)[0].decode(), body))
        elif name not in ("/", "/SYM64/"):
            members.append((name.removesuffix("/"), body))
    return members


def nm_main(args: list[str]) -> int:
    files = [a for a in args if not a.startswith("-")]
    status = 0
    for name in files:
        data = Path(name).read_bytes()
        if data.startswith(AR_MAGIC):
            for member, body in ar_members(data):
                print(f"\n{member}:")
                if body.startswith(b"\x7fELF"):
                    print("\n".join(nm_lines(body)))
            continue
        if not data.startswith(b"\x7fELF"):
            print(f"nm: {name}: file format not recognized", file=sys.stderr)
            status = 1
            continue
        if len(files) > 1:
            print(f"\n{name}:")
        print("\n".join(nm_lines(data)))
    return status


def main(argv: list[str] | None = None) -> int:
    """`python -m musltool.toolchain.binutils strip|nm ARGS...` (what the driver runs)."""
    args = list(sys.argv[1:] if argv is None else argv)
    tools = {"strip": strip_main, "nm": nm_main}
    if not args or args[0] not in tools:
        print("usage: python -m musltool.toolchain.binutils strip|nm ARGS...", file=sys.stderr)
        return 2
    return tools[args[0]](args[1:])


if __name__ == "__main__":
    sys.exit(main())
