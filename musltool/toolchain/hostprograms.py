"""Small C programs musltool needs on the host (the toolchain driver, the container helper).

Each is compiled once per host with `zig cc` (static, for the host ISA), checked like any
binary musltool makes, made to pass its own self-check, and then taken from the cache.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from musltool.cache import cache_dir
from musltool.elf import require_static_binary
from musltool.errors import MissingToolError
from musltool.files import atomic_write_bytes
from musltool.isa import Isa, host_isa
from musltool.process import run
from musltool.toolchain.zigexe import zig_environment, zig_executable, zig_version


def host() -> Isa:
    isa = host_isa()
    if isa is None:
        raise MissingToolError("musltool's host programs need a host ISA musltool can target")
    return isa


def zig_build_environment() -> dict[str, str]:
    return {**os.environ, **zig_environment()}


def host_program(name: str, source: Path, self_check: Callable[[Path], None]) -> Path:
    """`source` compiled for this host, built, checked and self-checked once, then cached."""
    isa = host()
    digest = hashlib.sha256(source.read_bytes())
    digest.update(f"\0{zig_version()}\0{isa.zig_target}".encode())
    folder = cache_dir() / "tools" / f"{name}-{digest.hexdigest()[:16]}"
    program = folder / name
    if program.is_file():
        return program
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if program.is_file():
            return program
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            built = Path(tmp) / name
            run(
                [zig_executable(), "cc", "-target", isa.zig_target, "-mcpu=baseline", "-Os",
                 "-static", "-Wall", "-Werror", "-o", built, source],
                env=zig_build_environment(),
                what=f"building musltool's {name}",
            )  # fmt: skip
            require_static_binary(built, isa)
            self_check(built)
            atomic_write_bytes(program, built.read_bytes(), mode=0o755)
    return program
