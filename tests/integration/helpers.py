"""Helpers for integration tests that read the machine as an outsider would: docker's own CLI,
/proc, /tmp. They import nothing of musltool, so they judge it without its own filters."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SESSION_LABEL = "musltool.session"


def rows_in_ci(every: list[str], in_ci: set[str]) -> list[str]:
    """Of `every` row a check is written for, those CI runs it on (README: CI time), or all
    of them with MUSLTOOL_TEST_ALL_ROWS=1."""
    return every if os.environ.get("MUSLTOOL_TEST_ALL_ROWS") else [row for row in every if row in in_ci]


# The oldest CPU each ISA is verified on, as README promises it, written out here so that a
# changed row in musltool's ISA table fails the tests instead of being read back by them:
# qemu-user's binary and -cpu model, and qemu-system's binary, machine and -cpu model.
OLDEST_USER_CPU = {
    "x86_64": ("qemu-x86_64-static", "qemu64"),
    "aarch64": ("qemu-aarch64-static", "cortex-a53"),
    "armv7": ("qemu-arm-static", "cortex-a9,neon=off"),
    "riscv64": ("qemu-riscv64-static", "rv64,zba=false,zbb=false,zbc=false,zbs=false"),
}
OLDEST_BOOT_CPU = {
    "x86_64": ("qemu-system-x86_64", "pc", "qemu64"),
    "aarch64": ("qemu-system-aarch64", "virt", "cortex-a53"),
    "armv7": ("qemu-system-arm", "virt", "cortex-a7,neon=off"),
    "riscv64": ("qemu-system-riscv64", "virt", "rv64,zba=false,zbb=false,zbc=false,zbs=false"),
    # z10, the oldest Debian's kernel takes, without the facilities qemu's TCG does not emulate
    "s390x": ("qemu-system-s390x", "s390-ccw-virtio", "z10EC-base," + ",".join(
        f"{f}=off" for f in ("klmd-sha-1", "kimd-sha-1", "km-tdea-192", "km-tdea-128", "km-dea", "kmc-tdea-192",
                             "kmc-tdea-128", "kmc-dea", "kmac-tdea-192", "kmac-tdea-128", "kmac-dea", "dateh2",
                             "pfpo", "dfphp", "dfp", "parseh", "hfpue", "hfpm", "csske", "asnlxr", "tods"))),
    "ppc64le": ("qemu-system-ppc64", "pseries", "power8"),
    "x86": ("qemu-system-x86_64", "pc", "qemu64"),  # the amd64 kernel runs the i686 userland
}  # fmt: skip


def one_line(proc: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    """The run failed with `code` and one error line holding `words` (progress lines may come
    before it), never a traceback."""
    assert proc.returncode == code, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("musltool: error:")]
    assert len(errors) == 1 and words in errors[0], proc.stderr
    assert proc.stderr.rstrip("\n").splitlines()[-1] == errors[0]
    assert "Traceback" not in proc.stderr


def docker_leftovers() -> tuple[list[str], list[str]]:
    return all_session_objects()


def temp_folders() -> set[str]:
    return {p.name for p in Path("/tmp").glob("musltool-*")}


def processes_in_group(pgid: int) -> list[str]:
    """Live processes of the group (a zombie has ended; it only waits for init to reap it)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                found.append((proc / "cmdline").read_text().replace("\0", " "))
        except (OSError, IndexError, ValueError):
            continue
    return found


def any_process(words: str) -> bool:
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if words in (proc / "cmdline").read_text().replace("\0", " "):
                    return True
            except OSError:
                continue
    return False


def all_session_objects() -> tuple[list[str], list[str]]:
    """Containers and images carrying the session label, read with docker's own CLI (not with
    musltool's leftover filter, which is what these tests check)."""
    containers = subprocess.run(["docker", "ps", "-a", "--filter", f"label={SESSION_LABEL}", "--format", "{{.Names}}"],
                        capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    images = subprocess.run(["docker", "images", "--filter", f"label={SESSION_LABEL}", "--format", "{{.Repository}}:{{.Tag}}"],
                    capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    return containers, images

# CMake and Meson projects are built as releases are (-Os, musltool's own optimisation): zig's
# libc and libc++ are then the ones the run's other builds made. Without a build type both
# build for debugging, and zig compiles a debug libc (and libc++) per ISA: minutes of CI.
# (Meson's minsize keeps debug info: -Ddebug=false drops it, as CMake's MinSizeRel does.)
RELEASE_CMAKE, RELEASE_MESON = ("-DCMAKE_BUILD_TYPE=MinSizeRel",), ("--buildtype=minsize", "-Ddebug=false")
