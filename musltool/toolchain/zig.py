"""The zig provider: `zig cc` from the ziglang wheel, behind GCC-style tool names."""

from __future__ import annotations

import functools
import sys
import tomllib
from pathlib import Path

from musltool import settings
from musltool.cache import cache_dir
from musltool.isa import Isa
from musltool.toolchain.base import Toolchain
from musltool.toolchain.driver import DriverConfig, driver_program, install
from musltool.toolchain.zigexe import (
    zig_environment,
    zig_executable,
    zig_version,
)

MANIFEST = "zig.toml"


@functools.cache
def _manifest() -> dict:
    return tomllib.loads((settings.builtin_toolchains_dir() / MANIFEST).read_text())


class ZigToolchain(Toolchain):
    provider = "zig"

    def _root(self) -> Path:
        return cache_dir() / "toolchains" / f"zig-{zig_version()}" / self.isa.name

    @functools.cached_property
    def _bin_dir(self) -> Path:
        bin_dir = self._root() / "bin"
        program = driver_program()
        install(bin_dir, self.triple, program, self.driver_config())
        return bin_dir

    def bin_dir(self) -> Path:
        return self._bin_dir

    def driver_config(self) -> DriverConfig:
        zig = zig_executable()
        target = ("-target", self.isa.zig_target, f"-mcpu={self.isa.zig_cpu}", *self.isa_flags)
        binutils = (sys.executable, "-m", "musltool.toolchain.binutils")
        commands = {
            "gcc": (zig, "cc", *target),
            "cc": (zig, "cc", *target),
            "g++": (zig, "c++", *target),
            "c++": (zig, "c++", *target),
            "ar": (zig, "ar"),
            "ranlib": (zig, "ranlib"),
            "objcopy": (zig, "objcopy"),
            # zig's objcopy cannot strip every ISA (riscv64): musltool's own strip and nm.
            "strip": (*binutils, "strip"),
            "nm": (*binutils, "nm"),
        }
        manifest = _manifest()
        return DriverConfig(
            commands=commands,
            environment=zig_environment(),
            dropped_flags=tuple(manifest.get("dropped_flags", ())),
            link_only_dropped_flags=self.link_only_dropped_flags,
            dropped_linker_options=dict(manifest.get("dropped_linker_options", {})),
        )

    @property
    def link_only_dropped_flags(self) -> tuple[str, ...]:
        manifest = _manifest()
        isa_rows = manifest.get("isa_link_only_dropped_flags", {}).get(self.isa.name, ())
        return (*manifest.get("link_only_dropped_flags", ()), *isa_rows)

    @property
    def isa_flags(self) -> tuple[str, ...]:
        return tuple(_manifest().get("isa_flags", {}).get(self.isa.name, ()))

    def identity(self) -> dict[str, str]:
        found = {
            "provider": "zig",
            "version": zig_version(),
            "target": self.isa.zig_target,
            "cpu": self.isa.zig_cpu,
        }
        return found | ({"flags": " ".join(self.isa_flags)} if self.isa_flags else {})


def prepare_zig(name: str, isas: list[Isa], options: object, sha256: str = "", trust: bool = False) -> list[str]:
    return ["zig comes with the ziglang wheel: nothing to fetch"]


def zig_table() -> list[str]:
    return [f"zig {zig_version()} (ziglang wheel): all ISAs, nothing to fetch"]
