"""What the host has (doctor) and installing or registering what is missing (setup)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from musltool import settings
from musltool.container import docker_available
from musltool.errors import MissingToolError
from musltool.isa import Isa
from musltool.runners import binfmt_entry, binfmt_ready, host_isa
from musltool.toolchain.zig import zig_version
from musltool.util import folder_size, log, run, which

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
BINFMT_CONF_DIRS = (Path("/usr/lib/binfmt.d"), Path("/etc/binfmt.d"))
DEBIAN_PACKAGES = {"docker": "docker.io", "qemu": "qemu-user-static"}
DOCKERD_ARGS = ["--bridge=none", "--iptables=false", "--ip6tables=false"]


def report_lines(isas: list[Isa]) -> list[tuple[bool, str, str]]:
    """(ok, what, detail) for each part musltool uses."""
    lines: list[tuple[bool, str, str]] = []
    ok, detail = docker_available()
    lines.append((ok, "docker daemon", detail))
    for isa in isas:
        qemu = which(isa.qemu_binary)
        lines.append((qemu is not None, isa.qemu_binary, qemu or "not installed"))
    for isa in isas:
        ok, detail = binfmt_ready(isa)
        lines.append((ok, f"binfmt {isa.name}", detail))
    lines.append((True, "zig", zig_version()))
    cache = settings.cache_dir()
    lines.append((True, "cache", f"{cache} ({folder_size(cache) / 1e6:.1f} MB)"))
    return lines


def print_report(isas: list[Isa]) -> bool:
    lines = report_lines(isas)
    for ok, what, detail in lines:
        print(f"[{'ok' if ok else 'missing'}] {what}: {detail}")
    return all(ok for ok, _, _ in lines)


def _apt_install(packages: list[str]) -> None:
    if os.geteuid() != 0:
        raise MissingToolError(f"run as root, or: sudo apt-get install {' '.join(packages)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log(f"installing Debian packages: {', '.join(packages)}")
    run(["apt-get", "update", "-qq"], env=env, error=MissingToolError, what="apt-get update")
    run(
        ["apt-get", "install", "-y", "-qq", *packages],
        env=env,
        error=MissingToolError,
        what="apt-get install",
    )


def missing_packages(isas: list[Isa]) -> list[str]:
    missing = []
    if which("dockerd") is None:
        missing.append(DEBIAN_PACKAGES["docker"])
    if any(which(isa.qemu_binary) is None for isa in isas):
        missing.append(DEBIAN_PACKAGES["qemu"])
    return missing


def _binfmt_rule(isa: Isa) -> str:
    """Debian's registration line for the ISA, with the F flag (interpreter opened now)."""
    for folder in BINFMT_CONF_DIRS:
        conf = folder / f"{isa.binfmt_name}.conf"
        if conf.is_file():
            rule = conf.read_text().strip()
            head, flags = rule.rsplit(":", 1)
            return f"{head}:{''.join(sorted(set(flags) | {'F'}))}"
    raise MissingToolError(f"no binfmt rule for {isa.binfmt_name}: install qemu-user-static")


def register_binfmt(isa: Isa) -> str:
    """Register qemu for the ISA in binfmt_misc; already registered with F is fine."""
    ok, detail = binfmt_ready(isa)
    if ok:
        return f"{isa.name}: {detail}, already registered"
    if not (BINFMT_DIR / "register").exists():
        run(
            ["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT_DIR)],
            error=MissingToolError,
            what="mounting binfmt_misc",
        )
    entry = binfmt_entry(isa)
    if entry.exists():
        entry.write_text("-1")  # registered without F or disabled: replace it
    try:
        (BINFMT_DIR / "register").write_text(_binfmt_rule(isa))
    except OSError as exc:
        if not binfmt_ready(isa)[0]:  # another process may have registered it meanwhile
            raise MissingToolError(f"cannot register {isa.binfmt_name}: {exc.strerror}") from exc
    return f"{isa.name}: registered {isa.binfmt_name}"


def start_dockerd(wait_seconds: float = 60) -> str:
    ok, detail = docker_available()
    if ok:
        return f"docker daemon {detail} already answers"
    if which("dockerd") is None:
        raise MissingToolError("dockerd not installed: install docker.io")
    log_path = settings.cache_dir() / "dockerd.log"
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
        _apt_install(missing)
    native = host_isa()
    for isa in isas:
        if isa != native:
            log(register_binfmt(isa))
    if start_docker:
        log(start_dockerd())
