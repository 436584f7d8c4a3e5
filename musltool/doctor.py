"""What the host has (doctor) and installing or registering what is missing (setup)."""

from __future__ import annotations

import subprocess
import time

from musltool.binfmt import binfmt_ready, register_binfmt
from musltool.cache import cache_dir
from musltool.cleanup import find_leftovers
from musltool.docker import docker_available
from musltool.emulators import (
    qemu_system,
    qemu_system_found,
    qemu_user,
    qemu_user_found,
    system_pin,
)
from musltool.errors import MissingToolError, MusltoolError, UsageError
from musltool.files import folder_size
from musltool.hostparts import HOST_PROGRAMS, QEMU_USER_PACKAGE, apt_install, require_program
from musltool.isa import Isa, runs_natively
from musltool.process import log, which
from musltool.toolchain.zigexe import zig_version

DOCKERD_ARGS = ["--bridge=none", "--iptables=false", "--ip6tables=false"]


def _one_per_emulator(isas: list[Isa]) -> list[Isa]:
    """One ISA per qemu-user binary (armv6 and armv7 share qemu-arm)."""
    first: dict[str, Isa] = {}
    for isa in isas:
        first.setdefault(isa.qemu_binary, isa)
    return list(first.values())


def _one_per_system_emulator(isas: list[Isa]) -> list[Isa]:
    """One ISA per qemu-system binary, of the ISAs that boot here."""
    first: dict[str, Isa] = {}
    for isa in isas:
        if isa.qemu_system:
            first.setdefault(isa.qemu_system, isa)
    return list(first.values())


def _asked(question, otherwise: str):
    """The answer, or (None, why) when answering needs what is broken (a cache that is not
    musltool's, an emulator pinned for another host): doctor reports it and goes on."""
    try:
        return question(), otherwise
    except MusltoolError as exc:
        return None, str(exc)


def report_lines(isas: list[Isa]) -> list[tuple[bool, str, str]]:
    """(ok, what, detail) for each part musltool uses."""
    lines: list[tuple[bool, str, str]] = []
    docker_ok, detail = docker_available()
    lines.append((docker_ok, "docker daemon", detail))
    for isa in _one_per_emulator(isas):
        missing = f"not fetched yet (invoke setup fetches Debian {isa.qemu_user_suite}'s qemu-user)" \
            if isa.qemu_user_suite else "not installed"
        qemu, missing = _asked(lambda isa=isa: qemu_user_found(isa), missing)
        lines.append((qemu is not None, isa.qemu_binary, qemu or missing))
    for isa in isas:
        ready, detail = _asked(lambda isa=isa: binfmt_ready(isa), "")
        lines.append((bool(ready and ready[0]), f"binfmt {isa.name}", ready[1] if ready else detail))
    found = find_leftovers().lines()
    lines.append((not found, "leftovers of killed runs", ", ".join(found) + " (invoke clean removes them)" if found else "none"))
    for tool, package in HOST_PROGRAMS.items():
        if tool != "dockerd":  # the daemon's line is above
            path = which(tool)
            lines.append((path is not None, tool, path or f"not installed ({package})"))
    for isa in _one_per_system_emulator(isas):
        pin = system_pin(isa)
        missing = f"not fetched yet (invoke setup fetches Debian {pin.suite}'s {pin.package})" if pin \
            else f"not installed ({isa.qemu_system_package})"
        path, missing = _asked(lambda isa=isa: qemu_system_found(isa), missing)
        lines.append((path is not None, isa.qemu_system, path or missing))
    lines.append((True, "zig", zig_version()))
    try:
        cache = cache_dir()
        lines.append((True, "cache", f"{cache} ({folder_size(cache) / 1e6:.1f} MB)"))
    except UsageError as exc:
        lines.append((False, "cache", str(exc)))
    return lines


def print_report(isas: list[Isa]) -> bool:
    lines = report_lines(isas)
    for ok, what, detail in lines:
        print(f"[{'ok' if ok else 'missing'}] {what}: {detail}")
    return all(ok for ok, _, _ in lines)


def missing_packages(isas: list[Isa]) -> list[str]:
    missing = [package for tool, package in HOST_PROGRAMS.items() if which(tool) is None]
    if any(which(isa.qemu_binary) is None for isa in isas if not isa.qemu_user_suite):
        missing.append(QEMU_USER_PACKAGE)
    missing += [isa.qemu_system_package for isa in _one_per_system_emulator(isas)
                if which(isa.qemu_system) is None and system_pin(isa) is None]  # a pinned one is fetched
    return list(dict.fromkeys(missing))


def start_dockerd(wait_seconds: float = 60) -> str:
    ok, detail = docker_available()
    if ok:
        return f"docker daemon {detail} already answers"
    require_program("dockerd")
    log_path = cache_dir() / "dockerd.log"
    with log_path.open("ab") as log_file:
        subprocess.Popen(
            ["dockerd", *DOCKERD_ARGS],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        ok, detail = docker_available()
        if ok:
            return f"started dockerd {detail} (log: {log_path})"
        time.sleep(1)
    raise MissingToolError(f"dockerd did not answer within {wait_seconds:.0f}s (log: {log_path})")


def setup(isas: list[Isa], install_packages: bool, start_docker: bool) -> None:
    missing = missing_packages(isas)
    if missing and install_packages:
        apt_install(missing)
    for isa in isas:
        if isa.qemu_user_suite:
            qemu_user(isa)  # in this cache, whatever binfmt_misc holds (doctor looks here)
        if not runs_natively(isa):
            log(register_binfmt(isa))
    if start_docker:
        log(start_dockerd())
    for isa in _one_per_system_emulator(isas):
        if system_pin(isa) and not qemu_system_found(isa):  # only boot needs it: setup goes on without
            try:
                qemu_system(isa)
            except MusltoolError as exc:
                log(f"{isa.qemu_system} not fetched ({exc}); invoke boot --arch {isa.name} fetches it")
