"""Programs of the host musltool runs, the Debian package each comes from (one table), one way
to say a missing one is missing, and installing packages with apt."""

from __future__ import annotations

import os

from musltool.errors import MissingToolError
from musltool.process import log, run, which

# Host programs musltool runs and their Debian packages: docker's daemon; recipes' source
# patches (patch); upstream testsuites' sandbox (bwrap); the firmware's ext4 image (mke2fs,
# debugfs); CMake projects built with `toolchain.env --format cmake` (cmake); recipes and
# projects finding the sysroot's libraries through their .pc files (pkg-config); pushing image
# indexes to a registry (skopeo). The ISA table names the qemu packages.
HOST_PROGRAMS = {"dockerd": "docker.io", "patch": "patch", "bwrap": "bubblewrap", "mke2fs": "e2fsprogs",
                 "debugfs": "e2fsprogs", "cmake": "cmake", "pkg-config": "pkg-config", "skopeo": "skopeo"}  # fmt: skip
QEMU_USER_PACKAGE = "qemu-user-static"


def require_program(name: str, package: str | None = None) -> str:
    """The program's path, or MissingToolError (exit 3) saying which package has it."""
    path = which(name)
    if path is None:
        raise MissingToolError(f"{name} not found: install {package or HOST_PROGRAMS[name]} (invoke setup)")
    return path


def apt_install(packages: list[str]) -> None:
    if os.geteuid() != 0:
        raise MissingToolError(f"run as root, or: sudo apt-get install {' '.join(packages)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log(f"installing Debian packages: {', '.join(packages)}")
    run(["apt-get", "update", "-qq"], env=env, error=MissingToolError, what="apt-get update")
    run(["apt-get", "install", "-y", "-qq", *packages], env=env, error=MissingToolError, what="apt-get install")
