"""The ISA table (isas.toml beside this, one row per ISA) and the names users give ISAs."""

from __future__ import annotations

import contextlib
import difflib
import platform
import tomllib
from dataclasses import dataclass
from pathlib import Path

from musltool.errors import UsageError


@dataclass(frozen=True)
class Isa:
    name: str
    aliases: tuple[str, ...]
    # Tiers like Rust's platform support: tier 1 is proven with everything musltool has;
    # tier 2 with what TIER_PROOF says (README and `invoke isas` show both).
    tier: int
    musl_triple: str
    zig_target: str
    zig_cpu: str
    qemu: str  # qemu-user name: qemu-<qemu>-static, binfmt entry qemu-<qemu>
    docker_platform: str
    uname_machine: str  # what uname -m prints under qemu-user
    elf_machine: str  # pyelftools e_machine
    elf_class: int
    little_endian: bool
    kbuild_arch: str  # Kbuild's ARCH= (Kconfig projects, the kernel)
    meson_cpu_family: str  # [host_machine] cpu_family in a Meson cross file
    # The oldest CPU the ISA's binaries must run on, as qemu-user's -cpu model: verification
    # runs there, so an instruction that CPU lacks fails here and not on a customer's board.
    qemu_cpu: str
    oldest_cpu: str  # the same in words, with why it is the oldest
    # "" runs the host's qemu-user-static; a Debian suite's name runs that suite's qemu-user,
    # unpacked into musltool's cache (musltool/emulators.toml), where the host's is too old.
    qemu_user_suite: str = ""
    # Booting a kernel under qemu-system ("" where musltool pins no kernel): the machine, its
    # oldest CPU model (the virt machines take fewer models than qemu-user), the serial
    # console, firmware arguments, the disk's device.
    qemu_system: str = ""
    qemu_system_package: str = ""  # the Debian package that has it
    boot_machine: str = ""
    boot_cpu: str = ""
    console: str = ""
    boot_firmware: tuple[str, ...] = ()
    boot_disk_device: str = "virtio-blk-pci"
    boot_console_args: tuple[str, ...] = ("-serial", "stdio")  # the console on qemu's stdio
    boot_lacks: tuple[str, ...] = ()  # hardware the machine has not: rtc, rtc-alarm, vt (the boot suite skips their checks)
    # qemu-system's TCG threading: "multi" runs each virtual CPU on its own host thread,
    # "single" takes turns on one (for an ISA whose multi-threaded emulation is not safe).
    boot_tcg_thread: str = "multi"
    # What a kernel image qemu-system boots for this ISA starts with: (format, offset, magic).
    # An ELF vmlinux of the ISA's machine is taken too. `--kernel` is checked against these.
    kernel_formats: tuple[tuple[str, int, bytes], ...] = ()
    # (mask, value, meaning) that e_flags must match, if the ISA encodes its ABI there.
    elf_flags: tuple[int, int, str] | None = None
    # (tag, allowed values, meaning) for the ISA's build-attributes section; None in the
    # allowed values means the tag may be absent.
    elf_attributes: tuple[tuple[str, tuple[int | None, ...], str], ...] = ()
    # Hosts whose kernel runs this ISA's binaries itself (no binfmt entry is made there):
    # musltool starts them under qemu-user explicitly, as it does the host's own ISA.
    native_on: tuple[str, ...] = ()
    # A 32-bit ISA whose programs, where the kernel runs them itself, start with the
    # PER_LINUX32 personality (setarch linux32), so that uname -m says the row's machine.
    linux32: bool = False

    @property
    def qemu_binary(self) -> str:
        return f"qemu-{self.qemu}-static"

    @property
    def byte_order(self) -> str:
        return "little" if self.little_endian else "big"

    @property
    def binfmt_name(self) -> str:
        return f"qemu-{self.qemu}"

    @property
    def docker_os_arch_variant(self) -> tuple[str, str, str]:
        os_, arch, *variant = self.docker_platform.split("/")
        return os_, arch, variant[0] if variant else ""

    @property
    def asset_arch(self) -> str:
        """The architecture in release asset names, as installers (eget, ubi) match them: Go's
        and Docker's name, with ARM's variant joined on (amd64, arm64, armv7, 386, loong64)."""
        _, arch, variant = self.docker_os_arch_variant
        return f"{arch}{variant}" if variant else arch


TABLE = Path(__file__).with_name("isas.toml")
TUPLE_FIELDS = ("aliases", "boot_firmware", "boot_console_args", "boot_lacks", "native_on")


def _row(data: dict) -> Isa:
    """One [[isa]] row of isas.toml as an Isa (its tables as the tuples Isa holds)."""
    row = {key: tuple(value) if key in TUPLE_FIELDS else value for key, value in data.items()
           if key not in ("kernel_format", "elf_attribute", "elf_flags")}  # fmt: skip
    formats = tuple((f["name"], f["offset"], bytes.fromhex(f["magic"])) for f in data.get("kernel_format", ()))
    attributes = tuple(
        (a["tag"], (*a["allowed"], *((None,) if a.get("may_be_absent") else ())), a["meaning"])
        for a in data.get("elf_attribute", ())
    )
    flags = data.get("elf_flags")
    return Isa(**row, kernel_formats=formats, elf_attributes=attributes,
               elf_flags=(flags["mask"], flags["value"], flags["meaning"]) if flags else None)  # fmt: skip


_DATA = tomllib.loads(TABLE.read_text())
ISAS: tuple[Isa, ...] = tuple(_row(data) for data in _DATA["isa"])
ISA_NAMES: tuple[str, ...] = tuple(isa.name for isa in ISAS)
TIERS: dict[str, tuple[Isa, ...]] = {
    f"tier{n}": tuple(isa for isa in ISAS if isa.tier == n) for n in sorted({isa.tier for isa in ISAS})
}
TIER_PROOF: dict[int, str] = {int(n): tier["proves"] for n, tier in _DATA["tier"].items()}
# What --arch all means: every row proven beyond small programs (tier 3 rows are named).
ALL: tuple[Isa, ...] = tuple(isa for isa in ISAS if isa.tier <= 2)
SPECIAL_SPECS = ("all", *TIERS)


def _lookup() -> dict[str, Isa]:
    table: dict[str, Isa] = {}
    for isa in ISAS:
        for key in (isa.name, *isa.aliases):
            table[key.lower()] = isa
    return table


_BY_NAME = _lookup()


def get_isa(name: str) -> Isa:
    """One ISA by any name a user may type (aarch64, arm64, armhf, arm/v7 ...)."""
    isa = _BY_NAME.get(name.strip().lower())
    if isa is None:
        close = difflib.get_close_matches(name.lower(), _BY_NAME, n=1)
        hint = f" (did you mean {_BY_NAME[close[0]].name}?)" if close else ""
        raise UsageError(f"unknown ISA {name!r}{hint}; valid: {', '.join(ISA_NAMES)}, or {', '.join(SPECIAL_SPECS)}")
    return isa


def resolve_isas(spec: str) -> list[Isa]:
    """ISAs from a comma-separated list of names, 'all' or a tier ('tier1', 'tier2');
    duplicates dropped, order kept."""
    names = [part.strip().lower() for part in spec.split(",") if part.strip()]
    if not names:
        raise UsageError(f"no ISA given; valid: {', '.join(ISA_NAMES)}, or {', '.join(SPECIAL_SPECS)}")
    chosen: list[Isa] = []
    for name in names:
        group = ALL if name == "all" else TIERS.get(name) or (get_isa(name),)
        chosen += [isa for isa in group if isa not in chosen]
    return chosen


def runs_natively(isa: Isa) -> bool:
    """Whether this machine's kernel runs the ISA's binaries without qemu (binfmt_misc does
    not take them: musltool starts them under qemu-user on the oldest CPU itself)."""
    host = host_isa()
    return host is not None and (isa == host or host.name in isa.native_on)


def host_isa() -> Isa | None:
    """The ISA this machine runs natively, or None when it is not one musltool targets."""
    with contextlib.suppress(UsageError):
        return get_isa(platform.machine())
    return None
