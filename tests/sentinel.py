"""Sentinel trees for safety tests: a small world of someone else's files (a fake $HOME, a fake
/etc, sibling folders of user files) around the folder musltool may use, hashed before and
after a case. Nothing outside musltool's own folder may change.

Never point one of these at a real system folder: every path is below the test's tmp_path.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

USER_FILES = {
    "home/notes.txt": b"years of notes\n",
    "home/.ssh/authorized_keys": b"ssh-ed25519 AAAA user\n",
    "home/photos/a.jpg": b"\xff\xd8\xff jpeg",
    "etc/passwd": b"root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home:/bin/sh\n",
    "etc/shadow": b"root:$6$secret:19000::::::\n",
    "etc/hosts": b"127.0.0.1 localhost\n",
    "etc/init.d/keep": b"#!/bin/sh\n",
    "siblings/thesis/thesis.tex": b"\\documentclass{book}\n",
    "siblings/photos/b.png": b"\x89PNG",
    "work/mine.c": b"int main(void) { return 0; }\n",
}


def snapshot(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, str]:
    """Every entry below `root` (symlinks not followed): its kind, mode and content hash."""
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if any(here == s or s in here.parents for s in skip):
            dirs[:] = []
            continue
        for name in [*dirs, *files]:
            path = here / name
            if any(path == s for s in skip):
                continue
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                what = f"link {os.readlink(path)}"
            elif stat.S_ISREG(info.st_mode):
                what = f"file {hashlib.sha256(path.read_bytes()).hexdigest()}"
            else:
                what = f"kind {stat.S_IFMT(info.st_mode):o}"
            found[str(path.relative_to(root))] = f"{what} mode {stat.S_IMODE(info.st_mode):o}"
    return found


@dataclass
class World:
    """A sentinel world below `root`: `home`, `etc`, `siblings` and `work` (where musltool's
    folders go: `mine` is the part of it musltool may change)."""

    root: Path

    @classmethod
    def make(cls, root: Path) -> World:
        for relative, data in USER_FILES.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        world = cls(root)
        world.mine.mkdir(parents=True, exist_ok=True)
        world.before = snapshot(root, (world.mine,))
        return world

    before: dict[str, str] | None = None

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def siblings(self) -> Path:
        return self.root / "siblings"

    @property
    def mine(self) -> Path:
        return self.root / "work" / "musltool"

    def changed(self) -> dict[str, tuple[str | None, str | None]]:
        """What changed outside musltool's folder since make()."""
        after = snapshot(self.root, (self.mine,))
        assert self.before is not None
        keys = set(self.before) | set(after)
        return {k: (self.before.get(k), after.get(k)) for k in sorted(keys) if self.before.get(k) != after.get(k)}
