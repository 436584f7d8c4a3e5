"""qemu for each ISA: the host's qemu-user-static, or for an ISA the ISA table marks with a
Debian suite (qemu_user_suite), that suite's qemu-user pinned in emulators.toml (beside this),
fetched once into musltool's cache with a private apt root and checked against its sha256.
A qemu-system the host lacks is fetched the same way where emulators.toml pins its package.
"""

from __future__ import annotations

import json
import os
import platform
import tomllib
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from musltool import settings
from musltool.cache import cache_dir
from musltool.debian import KEYRING, AptRoot, deb_files
from musltool.errors import DownloadError, MissingToolError
from musltool.files import atomic_write_bytes, sha256_file
from musltool.hostparts import QEMU_USER_PACKAGE, require_program
from musltool.isa import Isa
from musltool.process import log, which

MANIFEST = Path(__file__).with_name("emulators.toml")
BINFMT_CONF = "usr/share/qemu/binfmt.d"
SYSTEM_DATA = "/usr/share/qemu"  # qemu-system-data's firmware


@dataclass(frozen=True)
class EmulatorPin:
    suite: str
    debian_arch: str
    package: str
    version: str
    sha256: str
    programs: tuple[str, ...]
    host: str  # the machine (uname -m) the package's emulators run on
    binfmt: bool = True  # qemu-user: the package's binfmt_misc rules are kept beside the programs

    @property
    def folder(self) -> Path:
        return cache_dir() / "emulators" / f"{self.package}_{self.version.replace(':', '%3a')}"


def pins() -> list[EmulatorPin]:
    """The pinned Debian packages of emulators."""
    data = tomllib.loads(MANIFEST.read_text())
    fields = ("suite", "debian_arch", "package", "version", "sha256")
    return [
        EmulatorPin(*(e[f] for f in fields), programs=tuple(e["programs"]), host=e["host"], binfmt=e.get("binfmt", True))
        for e in data["emulator"]
    ]


def pin_for(isa: Isa) -> EmulatorPin:
    """The pinned qemu-user package that runs the ISA's binaries."""
    pin = next((p for p in pins() if p.binfmt and p.suite == isa.qemu_user_suite and isa.binfmt_name in p.programs), None)
    if pin is None:
        raise MissingToolError(f"{isa.name} needs {isa.binfmt_name} from Debian {isa.qemu_user_suite}, "
                               f"which musltool/emulators.toml does not pin")  # fmt: skip
    return _on_this_host(pin, isa, isa.binfmt_name)


def _on_this_host(pin: EmulatorPin, isa: Isa, program: str) -> EmulatorPin:
    if platform.machine() != pin.host:
        raise MissingToolError(f"{isa.name} needs {program} from Debian {pin.suite}, pinned for "
                               f"{pin.host} hosts only (this one is {platform.machine()})")  # fmt: skip
    return pin


def system_pin(isa: Isa) -> EmulatorPin | None:
    """The pinned package of the ISA's qemu-system that runs on this host, if emulators.toml
    has one: Debian links qemu-system against its suite's libraries, so a pin serves hosts of
    that machine and suite only (elsewhere the host's own package is the way)."""
    here = (platform.machine(), host_suite())
    return next((p for p in pins() if not p.binfmt and isa.qemu_system in p.programs and (p.host, p.suite) == here), None)


def host_suite(os_release: Path = Path("/etc/os-release")) -> str:
    """The host's release codename (bookworm ...), or "" when it does not say."""
    try:
        fields = dict(line.split("=", 1) for line in os_release.read_text().splitlines() if "=" in line)
    except OSError:
        return ""
    return fields.get("VERSION_CODENAME", "").strip().strip('"')


def qemu_system(isa: Isa) -> str:
    """The path of the qemu-system that boots `isa`: the host's, else the pinned package's
    (fetched if need be), else a one-line error naming the package to install."""
    found = which(isa.qemu_system)
    if found:
        return found
    pin = system_pin(isa)
    if pin is None:
        return require_program(isa.qemu_system, isa.qemu_system_package)
    if not _cached(pin):
        _fetch_locked(pin)
    return str(pin.folder / isa.qemu_system)


def qemu_system_command(isa: Isa) -> list[str]:
    """qemu-system and the arguments a fetched copy needs: Debian's qemu looks for its firmware
    (slof.bin ...) beside where it is installed, so a copy in the cache is pointed at the
    host's qemu-system-data."""
    program = qemu_system(isa)
    if program == which(isa.qemu_system):
        return [program]
    if not Path(SYSTEM_DATA).is_dir():
        raise MissingToolError(f"{program} needs qemu's firmware in {SYSTEM_DATA}: install qemu-system-data")
    return [program, "-L", SYSTEM_DATA]


def qemu_system_found(isa: Isa) -> str | None:
    """The qemu-system's path if it is here now (nothing fetched), for doctor's report."""
    found = which(isa.qemu_system)
    pin = system_pin(isa)
    if found or pin is None:
        return found
    return str(pin.folder / isa.qemu_system) if _cached(pin) else None


def qemu_user(isa: Isa) -> str:
    """The path of the qemu-user emulator that runs `isa`'s binaries (fetched if need be)."""
    if not isa.qemu_user_suite:
        return require_program(isa.qemu_binary, QEMU_USER_PACKAGE)
    pin = pin_for(isa)
    program = pin.folder / isa.binfmt_name
    if not _cached(pin):
        _fetch_locked(pin)
    return str(program)


def qemu_user_found(isa: Isa) -> str | None:
    """The emulator's path if it is here now (nothing fetched), for doctor's report."""
    if not isa.qemu_user_suite:
        return which(isa.qemu_binary)
    pin = pin_for(isa)
    return str(pin.folder / isa.binfmt_name) if _cached(pin) else None


def interpreter(isa: Isa) -> str | None:
    """The path binfmt_misc must run for a fetched emulator (None: the host's serves); what
    binfmt_ready compares a registered entry with, so that an older qemu-user the host's
    packages registered under the same name is replaced, not taken."""
    if not isa.qemu_user_suite:
        return None
    pin = pin_for(isa)
    conf = pin.folder / f"{isa.binfmt_name}.conf"
    name = Path(_rule_fields(pin, isa.binfmt_name)[-2]).name if conf.is_file() else f"{isa.qemu}-binfmt-P"
    return str(pin.folder / name)


def same_pin(isa: Isa, program: str) -> bool:
    """Whether `program` is the pinned emulator fetched into another musltool cache (root's,
    when `sudo invoke setup` registered it for a user who builds with a cache of their own)."""
    marker = Path(program).parent / "emulator.json"
    try:
        return json.loads(marker.read_text()).get("sha256") == pin_for(isa).sha256
    except (OSError, ValueError):
        return False


def binfmt_rule(isa: Isa) -> str | None:
    """The package's binfmt_misc line for a fetched emulator, its interpreter the cached
    program; None for the host's qemu-user-static (Debian's own rules serve)."""
    if not isa.qemu_user_suite:
        return None
    pin = pin_for(isa)
    qemu_user(isa)
    fields = _rule_fields(pin, isa.binfmt_name)
    fields[-2] = str(interpreter(isa))
    return ":".join(fields)


def _rule_fields(pin: EmulatorPin, program: str) -> list[str]:
    """The package's rule split as :name:type:offset:magic:mask:interpreter:flags."""
    return (pin.folder / f"{program}.conf").read_text().strip().split(":")


def _cached(pin: EmulatorPin) -> bool:
    marker = pin.folder / "emulator.json"
    return marker.is_file() and json.loads(marker.read_text()).get("sha256") == pin.sha256


def _fetch_locked(pin: EmulatorPin) -> None:
    if settings.offline():
        raise DownloadError(f"{pin.package} {pin.version} is not cached and MUSLTOOL_OFFLINE is set")
    if which("apt-get") is None or which("dpkg-deb") is None or not KEYRING.is_file():
        raise MissingToolError(f"fetching Debian's {pin.package} needs apt-get, dpkg-deb and debian-archive-keyring")
    pin.folder.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{pin.folder}.lock"):
        if not _cached(pin):
            _fetch(pin)


def _fetch(pin: EmulatorPin) -> None:
    download = pin.folder / "download"
    download.mkdir(exist_ok=True)
    try:
        log(f"fetching {pin.package} {pin.version} (Debian {pin.suite}) with apt, for {', '.join(pin.programs)}")
        with AptRoot(pin.debian_arch, pin.suite).locked() as apt:
            apt.update()
            for stale in download.glob("*.deb"):
                stale.unlink()
            deb = apt.download(pin.package, pin.version, download)
        got = sha256_file(deb)
        if got != pin.sha256:
            raise DownloadError(f"{deb.name}: sha256 {got}, pinned {pin.sha256}: not used")
        wanted = {f"usr/bin/{p}": (p, 0o755) for p in pin.programs}
        if pin.binfmt:
            wanted |= {f"{BINFMT_CONF}/{p}.conf": (f"{p}.conf", 0o644) for p in pin.programs}
        found = deb_files(deb, wanted.__contains__)
        for member, (name, mode) in wanted.items():
            if member not in found:
                raise DownloadError(f"{deb.name} holds no {member}")
            atomic_write_bytes(pin.folder / name, found[member], mode=mode)
        for program in pin.programs if pin.binfmt else ():
            # The rule's interpreter is named *-binfmt-P: Debian's qemu knows by that name that
            # the kernel passes the program's own argv[0] (the P flag), so the copy has it too.
            alias = pin.folder / Path(_rule_fields(pin, program)[-2]).name
            alias.unlink(missing_ok=True)
            os.link(pin.folder / program, alias)
        marker = {"package": pin.package, "version": pin.version, "sha256": pin.sha256}
        atomic_write_bytes(pin.folder / "emulator.json", (json.dumps(marker, indent=2) + "\n").encode())
    finally:
        for leftover in download.glob("*"):
            leftover.unlink()
        download.rmdir()
