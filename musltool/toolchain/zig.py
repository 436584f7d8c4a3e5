"""The zig provider: `zig cc` from the ziglang wheel, behind GCC-style wrapper names."""

from __future__ import annotations

import shlex
import sys
from importlib import metadata
from pathlib import Path

from musltool import settings
from musltool.toolchain.base import TOOL_NAMES, Toolchain
from musltool.util import write_if_changed

# Which zigtool program stands behind each GCC-style tool name.
ZIGTOOL_FOR = {"gcc": "cc", "cc": "cc", "g++": "c++", "c++": "c++"}


def zig_version() -> str:
    return metadata.version("ziglang")


def zig_cache_dir() -> Path:
    return settings.cache_dir() / "zig-cache"


class ZigToolchain(Toolchain):
    provider = "zig"

    def _root(self) -> Path:
        return settings.cache_dir() / "toolchains" / f"zig-{zig_version()}" / self.isa.name

    def bin_dir(self) -> Path:
        bin_dir = self._root() / "bin"
        for tool in TOOL_NAMES:
            self._write_wrapper(bin_dir / f"{self.triple}-{tool}", ZIGTOOL_FOR.get(tool, tool))
        return bin_dir

    def _write_wrapper(self, path: Path, zigtool: str) -> None:
        cache = shlex.quote(str(zig_cache_dir()))
        script = (
            "#!/bin/sh\n"
            f"ZIG_GLOBAL_CACHE_DIR={cache}; ZIG_LOCAL_CACHE_DIR={cache}\n"
            "export ZIG_GLOBAL_CACHE_DIR ZIG_LOCAL_CACHE_DIR\n"
            f"exec {shlex.quote(sys.executable)} -m musltool.toolchain.zigtool "
            f'{zigtool} {self.isa.zig_target} {self.isa.zig_cpu} "$@"\n'
        ).encode()
        write_if_changed(path, script, mode=0o755)

    def identity(self) -> dict[str, str]:
        return {
            "provider": "zig",
            "version": zig_version(),
            "target": self.isa.zig_target,
            "cpu": self.isa.zig_cpu,
        }
