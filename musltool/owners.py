"""Owners: every process, container, image and temporary folder a musltool run makes carries
its owner, this machine's boot id, the run's PID and that process's start time (`Owner.tag`).
`invoke doctor` and `invoke clean` call something a leftover only when its owner is gone, so
a build running in another checkout, or by another user, is never touched.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

OWNER_ENV = "MUSLTOOL_OWNER"  # in the environment of every process musltool starts


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", "")[:12]
    except OSError:
        return "unknown"


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[19])  # field 22 of stat(5): starttime


@dataclass(frozen=True)
class Owner:
    boot_id: str
    pid: int
    start: int

    @property
    def tag(self) -> str:
        return f"{self.boot_id}.{self.pid}.{self.start}"

    @classmethod
    def parse(cls, tag: str) -> Owner | None:
        parts = tag.strip().split(".")
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
            return None
        return cls(parts[0], int(parts[1]), int(parts[2]))

    def alive(self) -> bool:
        """This owner is still running: same boot, and its PID is the same process."""
        return self.boot_id == _boot_id() and _start_time(self.pid) == self.start


@cache
def current_owner() -> Owner:
    pid = os.getpid()
    return Owner(_boot_id(), pid, _start_time(pid) or 0)


def owner_alive(tag: str | None) -> bool:
    """Whether the owner named by a tag still runs; an unreadable tag has no live owner."""
    owner = Owner.parse(tag or "")
    return owner is not None and owner.alive()


def owned_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """The environment of a child process, marked with its owner."""
    return {**(os.environ if env is None else env), OWNER_ENV: current_owner().tag}


def orphaned_processes() -> list[tuple[int, str]]:
    """Processes musltool started whose owner is gone (pid, command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        tags = [v.split(b"=", 1)[1].decode(errors="replace") for v in environ if v.startswith(f"{OWNER_ENV}=".encode())]
        if tags and command and not owner_alive(tags[0]):
            found.append((int(entry.name), command))
    return found


TEMP_NAME = re.compile(r"^musltool-[A-Za-z0-9_.-]+?-(?P<owner>[0-9a-f]+\.\d+\.\d+)-[A-Za-z0-9_]+$")


def temp_prefix(what: str) -> str:
    """A temporary folder's name carries its owner: `invoke clean` removes those whose run is
    gone, and only those."""
    return f"musltool-{what}-{current_owner().tag}-"


def orphaned_temp_folders(base: Path | None = None) -> list[Path]:
    """Temporary folders musltool made whose owner is gone."""
    folder = base or Path(tempfile.gettempdir())
    found = []
    for path in sorted(folder.glob("musltool-*")):
        match = TEMP_NAME.match(path.name)
        if match and path.is_dir() and not path.is_symlink() and not owner_alive(match["owner"]):
            found.append(path)
    return found
