"""Safe archive extraction into the cache, with a completion marker written last."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

from filelock import FileLock

from musltool.errors import DownloadError
from musltool.files import staging_dir

COMPLETE_MARKER = ".musltool-complete"


def is_complete(folder: Path) -> bool:
    return (folder / COMPLETE_MARKER).is_file()


def _strict_data_filter(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """tarfile's data filter, but an absolute member name is refused, not made relative."""
    if member.name.startswith("/"):
        raise tarfile.AbsolutePathError(member)
    return tarfile.data_filter(member, dest)


def extract(archive: Path, dest: Path, strip_top: str | None = None) -> Path:
    """Unpack `archive` (tar.gz/xz/bz2) into `dest` through tarfile's data filter.

    The data filter refuses absolute paths (here: even ones it could make relative), `..`, links that leave the tree and device files.
    Extraction happens in a staging folder; `dest` appears only when it is complete.
    `strip_top` names a single top folder whose content becomes `dest`.
    """
    with FileLock(str(dest) + ".lock"):
        if is_complete(dest):
            return dest
        if dest.exists():
            shutil.rmtree(dest)  # a half-extracted folder from an interrupted run
        with staging_dir(dest) as stage:
            try:
                with tarfile.open(archive) as tar:
                    tar.extractall(stage, filter=_strict_data_filter)
            except (tarfile.TarError, OSError) as exc:
                raise DownloadError(f"cannot extract {archive.name}: {exc}") from exc
            if strip_top:
                top = stage / strip_top
                if not top.is_dir():
                    raise DownloadError(f"{archive.name} has no top folder {strip_top}/")
                for child in top.iterdir():
                    child.rename(stage / child.name)
                top.rmdir()
            (stage / COMPLETE_MARKER).write_text(archive.name + "\n")
    return dest
