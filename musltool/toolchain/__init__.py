"""Toolchain providers: each gives `<triple>-gcc`, `-ar`, `-strip` ... and a build environment."""

from __future__ import annotations

from musltool.errors import UsageError
from musltool.fetch import FetchOptions
from musltool.isa import Isa
from musltool.toolchain.base import Toolchain

DEFAULT_TOOLCHAIN = "zig"


def toolchain_names() -> list[str]:
    from musltool.toolchain.distro import distro_names
    from musltool.toolchain.gcc import distribution_names

    return ["zig", *distribution_names(), *distro_names()]


def get_toolchain(name: str, isa: Isa, download: FetchOptions | None = None) -> Toolchain:
    """A toolchain by provider name: 'zig', a GCC archive distribution or a distribution's own
    cross GCC with musl built from source (toolchains/*.toml)."""
    from musltool.toolchain.zig import ZigToolchain

    if name == "zig":
        return ZigToolchain(isa)
    from musltool.toolchain.gcc import GccToolchain, distribution_names

    if name in distribution_names():
        return GccToolchain(name, isa, download)
    from musltool.toolchain.distro import DistroGccToolchain, distro_names

    if name in distro_names():
        return DistroGccToolchain(name, isa, download)
    raise UsageError(f"unknown toolchain {name!r}; valid: {', '.join(toolchain_names())}")
