"""The zig compiler from the ziglang wheel: where it is, its version, its cache folders."""

from __future__ import annotations

import io
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from elftools.elf.elffile import ELFFile

from musltool.cache import cache_dir


def zig_version() -> str:
    return metadata.version("ziglang")


def zig_executable() -> str:
    import ziglang

    return str(Path(ziglang.__file__).parent / "zig")


def zig_cache_dir() -> Path:
    return cache_dir() / "zig-cache"


def zig_environment() -> dict[str, str]:
    """zig's caches in musltool's cache: shared by every build, checkout and ISA."""
    cache = str(zig_cache_dir())
    return {"ZIG_GLOBAL_CACHE_DIR": cache, "ZIG_LOCAL_CACHE_DIR": cache}


@dataclass(frozen=True)
class CompiledLibc:
    """One libc zig compiled into its cache (it makes one per target, CPU and the runtime
    flags of the link: optimization, -g, unwind tables, frame pointers)."""

    path: Path
    machine: str  # the ELF e_machine, EM_X86_64 ...
    unwind_tables: bool
    debug_info: bool


AR_MAGIC = b"!<arch>\n"
AR_HEADER = 60


def compiled_libcs(zig_cache: Path | None = None) -> list[CompiledLibc]:
    """The libcs in zig's cache (musltool's by default), by path."""
    found = []
    for archive in sorted(((zig_cache or zig_cache_dir()) / "o").glob("*/libc.a")):
        member = _first_elf_member(archive.read_bytes())
        if member is None:
            continue
        elf = ELFFile(io.BytesIO(member))
        names = {section.name for section in elf.iter_sections()}
        found.append(CompiledLibc(archive, elf["e_machine"], ".eh_frame" in names, ".debug_info" in names))
    return found


def _first_elf_member(data: bytes) -> bytes | None:
    if not data.startswith(AR_MAGIC):
        return None
    offset = len(AR_MAGIC)
    while offset + AR_HEADER <= len(data):
        size = int(data[offset + 48 : offset + 58].decode().strip())
        member = data[offset + AR_HEADER : offset + AR_HEADER + size]
        if member.startswith(b"\x7fELF"):
            return member
        offset += AR_HEADER + size + (size & 1)
    return None
