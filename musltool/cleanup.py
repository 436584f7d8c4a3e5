"""What `invoke clean` removes and `invoke doctor` lists: musltool's output and cache, and the
leftovers of runs that were killed (containers, images, temporary folders, processes).

A leftover is something musltool made whose owner (the run, by boot id, PID and start time)
is gone. Anything of a run still going, in this checkout or another, is not a leftover.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

from musltool.cache import clean_cache, configured_cache
from musltool.dist import Dist, protected_reason
from musltool.docker import docker_available, leftovers, remove_leftovers
from musltool.errors import UsageError
from musltool.owners import orphaned_processes, orphaned_temp_folders


@dataclass(frozen=True)
class Leftovers:
    containers: list[str]
    images: list[str]
    folders: list[Path]
    processes: list[tuple[int, str]]

    def lines(self) -> list[str]:
        return [*(f"container {c}" for c in self.containers), *(f"image {i}" for i in self.images),
                *(f"temporary folder {f}" for f in self.folders),
                *(f"process {pid} ({command[:60]})" for pid, command in self.processes)]  # fmt: skip


def find_leftovers() -> Leftovers:
    containers, images = leftovers() if docker_available()[0] else ([], [])
    return Leftovers(containers, images, orphaned_temp_folders(), orphaned_processes())


def remove_found_leftovers() -> list[str]:
    removed: list[str] = []
    for pid, command in orphaned_processes():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            removed.append(f"process {pid} ({command[:60]})")
    if docker_available()[0]:
        containers, images = remove_leftovers()
        removed += [*(f"container {c}" for c in containers), *(f"image {i}" for i in images)]
    for folder in orphaned_temp_folders():
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(f"temporary folder {folder}")
    return removed


def clean_everything(dist: Path, cache: bool) -> list[str]:
    """`invoke clean`: the output folder, the cache if asked, then the leftovers. What it
    says, a line each."""
    lines = []
    if dist.exists() or dist.is_symlink():
        cleaned = Dist(dist).clean()
        lines.append(f"removed {len(cleaned.removed)} entries musltool wrote in {dist}")
        lines += [f"kept {dist / kept}" for kept in cleaned.kept]
    if cache:
        folder = configured_cache()
        reason = protected_reason(folder) if folder.exists() else None
        if reason:
            raise UsageError(f"cache {folder}: {reason}; musltool never cleans it")
        if folder.exists():
            removed, kept = clean_cache(folder.resolve())
            lines.append(f"removed {folder} ({len(removed)} parts)")
            lines += [f"kept {k}" for k in kept]
    lines += [f"removed leftover {what}" for what in remove_found_leftovers()]
    return lines
