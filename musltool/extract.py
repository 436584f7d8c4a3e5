"""Safe archive extraction into the cache, with a completion marker written last."""

from __future__ import annotations

import tarfile
from pathlib import Path

from musltool.errors import DownloadError
from musltool.files import COMPLETE_MARKER, is_complete, made_once

__all__ = ["COMPLETE_MARKER", "extract", "is_complete"]

def _strict_data_filter(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """tarfile's data filter, but an absolute member name is refused, not made relative."""
    if member.name.startswith("/"):
        raise tarfile.AbsolutePathError(member)
    return tarfile.data_filter(member, dest)


FIND_TOP = ""  # strip_top: the archive's single top folder, whatever its name


def _single_top(stage: Path, archive: Path) -> str:
    entries = list(stage.iterdir())
    if len(entries) != 1 or not entries[0].is_dir() or entries[0].is_symlink():
        names = ", ".join(sorted(e.name for e in entries)[:4])
        raise DownloadError(f"{archive.name} has no single top folder ({names}): name the one to use "
                            "with top = \"...\" in the recipe's [versions] entry")  # fmt: skip
    return entries[0].name


def extract(archive: Path, dest: Path, strip_top: str | None = None) -> Path:
    """Unpack `archive` (tar.gz/xz/bz2) into `dest` through tarfile's data filter.

    The data filter refuses absolute paths (here: even ones it could make relative), `..`,
    links that leave the tree and device files. Extraction happens in a staging folder;
    `dest` appears only when it is complete. `strip_top` names a single top folder whose
    content becomes `dest` (FIND_TOP: the archive's one top folder, whatever its name).
    """
    with made_once(dest, archive.name + "\n") as stage:
        if stage is None:
            return dest
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(stage, filter=_strict_data_filter)
        except (tarfile.TarError, OSError) as exc:
            raise DownloadError(f"cannot extract {archive.name}: {exc}") from exc
        if strip_top is not None:
            top = stage / (strip_top or _single_top(stage, archive))
            if not top.is_dir():
                raise DownloadError(f"{archive.name} has no top folder {strip_top}/")
            for child in top.iterdir():
                child.rename(stage / child.name)
            top.rmdir()
    return dest
