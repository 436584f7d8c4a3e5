"""The Toolchain interface every provider fits."""

from __future__ import annotations

import functools
import os
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path

from musltool.isa import Isa

# The tools every provider puts in its bin dir as `<triple>-<tool>`.
TOOL_NAMES = ("gcc", "cc", "g++", "c++", "ar", "ranlib", "strip", "objcopy", "nm")

# The variables `env()` sets for build systems (PATH aside).
ENV_KEYS = (
    "CC", "CXX", "AR", "RANLIB", "STRIP", "OBJCOPY", "NM", "CROSS_COMPILE",
    "CFLAGS", "CXXFLAGS", "LDFLAGS", "HOST", "CONFIGURE_HOST",
)  # fmt: skip

BASE_CFLAGS = "-Os"
BASE_LDFLAGS = "-static"


def pkg_config_env(sysroot: Path) -> dict[str, str]:
    """pkg-config reads only the sysroot's .pc files and prefixes their paths with it."""
    return {
        "PKG_CONFIG_LIBDIR": f"{sysroot}/usr/lib/pkgconfig",
        "PKG_CONFIG_SYSROOT_DIR": str(sysroot),
        "PKG_CONFIG_PATH": "",
    }


def sysroot_env(sysroot: Path, env: dict[str, str]) -> dict[str, str]:
    """What makes a build find the libraries in `sysroot` (usr/include, usr/lib): -I, -L and
    pkg-config's paths, added to `env`'s flags."""
    include, lib = f"-I{sysroot}/usr/include", f"-L{sysroot}/usr/lib"
    return {
        "SYSROOT": str(sysroot),
        "CPPFLAGS": " ".join(filter(None, [env.get("CPPFLAGS", ""), include])),
        "CFLAGS": f"{env['CFLAGS']} {include}",
        "CXXFLAGS": f"{env['CXXFLAGS']} {include}",
        "LDFLAGS": f"{env['LDFLAGS']} {lib}",
        **pkg_config_env(sysroot),
    }


class Toolchain(ABC):
    """A cross toolchain for one ISA that links fully static musl binaries."""

    provider: str

    def __init__(self, isa: Isa) -> None:
        self.isa = isa

    @property
    def triple(self) -> str:
        return self.isa.musl_triple

    @abstractmethod
    def bin_dir(self) -> Path:
        """The folder holding `<triple>-gcc` and friends, made ready (fetched, wrapped)."""

    @abstractmethod
    def identity(self) -> dict[str, str]:
        """What identifies this toolchain exactly: goes into fingerprints and manifests."""

    @functools.cached_property
    def compiler_family(self) -> str:
        """'clang' or 'gcc', from what the compiler predefines (zig cc is clang)."""
        proc = subprocess.run(
            [self.tool("gcc"), "-dM", "-E", "-x", "c", "/dev/null"],
            capture_output=True,
            text=True,
            check=False,
        )
        return "clang" if "__clang__" in proc.stdout else "gcc"

    def tool(self, name: str) -> Path:
        return self.bin_dir() / f"{self.triple}-{name}"

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """A build environment any build system understands: CC, AR, CROSS_COMPILE, --host..."""
        env = dict(os.environ if base is None else base)
        bin_dir = self.bin_dir()
        prefix = f"{bin_dir}/{self.triple}-"
        env.update(
            {
                "CC": f"{prefix}gcc",
                "CXX": f"{prefix}g++",
                "AR": f"{prefix}ar",
                "RANLIB": f"{prefix}ranlib",
                "STRIP": f"{prefix}strip",
                "OBJCOPY": f"{prefix}objcopy",
                "NM": f"{prefix}nm",
                "CROSS_COMPILE": prefix,
                "CFLAGS": BASE_CFLAGS,
                "CXXFLAGS": BASE_CFLAGS,
                "LDFLAGS": BASE_LDFLAGS,
                "HOST": self.triple,
                "CONFIGURE_HOST": f"--host={self.triple}",
                "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', os.defpath)}",
            }
        )
        return env

    def describe(self) -> str:
        ident = self.identity()
        return f"{ident['provider']} {ident.get('version', '')} ({self.triple})".strip()
