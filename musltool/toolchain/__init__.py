"""Toolchain providers: each gives `<triple>-gcc`, `-ar`, `-strip` ... and a build environment.

One table: a manifest's `family` (toolchains/*.toml) names its provider, and each provider says
how to make a toolchain of a name for an ISA, how to make it ready (`toolchain.fetch`), and
what `toolchain.list` shows of it. A new provider is one module and one row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from musltool.errors import UsageError
from musltool.fetch import FetchOptions
from musltool.isa import Isa
from musltool.toolchain.base import Toolchain
from musltool.toolchain.distro import DistroGccToolchain, distro_table, prepare_distro
from musltool.toolchain.gcc import GccToolchain, archive_table, prepare_archives
from musltool.toolchain.manifests import manifests
from musltool.toolchain.zig import ZigToolchain, prepare_zig, zig_table

DEFAULT_TOOLCHAIN = "zig"


@dataclass(frozen=True)
class Provider:
    make: Callable[[str, Isa, FetchOptions | None], Toolchain]
    prepare: Callable[..., list[str]]  # (name, isas, options, sha256, trust) -> lines
    table: Callable[[], list[str]]


PROVIDERS: dict[str, Provider] = {
    "zig": Provider(lambda name, isa, download: ZigToolchain(isa), prepare_zig, zig_table),
    "archive": Provider(lambda name, isa, download: GccToolchain(name, isa, download), prepare_archives, archive_table),
    "distro": Provider(lambda name, isa, download: DistroGccToolchain(name, isa, download), prepare_distro, distro_table),
}


def toolchain_names() -> list[str]:
    return [DEFAULT_TOOLCHAIN, *(name for name in manifests() if name != DEFAULT_TOOLCHAIN)]


def provider_of(name: str) -> Provider:
    manifest = manifests().get(name) or ({"family": "zig"} if name == DEFAULT_TOOLCHAIN else None)
    if manifest is None:
        raise UsageError(f"unknown toolchain {name!r}; valid: {', '.join(toolchain_names())}")
    return PROVIDERS[manifest.get("family", "archive")]


def get_toolchain(name: str, isa: Isa, download: FetchOptions | None = None) -> Toolchain:
    """A toolchain by name: zig, a GCC archive distribution or a distribution's own cross GCC
    with musl built from source (toolchains/*.toml)."""
    return provider_of(name).make(name, isa, download)


def prepare_toolchain(name: str, isas: list[Isa], options: FetchOptions, sha256: str = "", trust: bool = False) -> list[str]:
    """Make the toolchain ready for these ISAs (download, install, build musl): what it did."""
    return provider_of(name).prepare(name, isas, options, sha256, trust)


def toolchain_table() -> list[str]:
    """What `toolchain.list` prints: every provider's lines."""
    return [line for provider in PROVIDERS.values() for line in provider.table()]
