"""The output folder (`dist/`): the one module that creates, reads, writes and cleans it.

Rules, each kept here and nowhere else:

- **Ownership.** musltool claims a folder only when it creates it. An existing folder is
  used, never claimed. `.musltool-dist` records what musltool wrote there: whether it created
  the folder itself, every folder it created and every file it wrote, with its sha256.
  `clean` removes those entries and nothing else: a file changed since musltool wrote it, or
  anything musltool did not write, stays. `clean` refuses `/`, the home folder, a checkout's
  root and mount points outright.
- **Inside the folder, nothing is followed.** Every path is walked from the folder with
  O_NOFOLLOW: a symlink at `dist/<isa>` or at a file's place is refused or replaced, never
  written through; every name is a plain name (no `/`, `..`, glob or control characters).
- **Transactions.** Files are staged in `.musltool-staging/<owner>-…` first (a full or
  read-only disk fails there, leaving the previous build whole), then renamed in with Ctrl-C
  and SIGTERM held, and recorded. A staging folder whose owner was killed is removed by the
  next run in this folder, or by `clean`.
- **A failed build never removes a previous good build**, nor any other build.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from musltool.errors import UsageError
from musltool.files import (
    NotRegularFile,
    folder_fd,
    open_folder,
    probe_folder,
    read_regular,
    relative_parts,
    remove_tree_at,
    sha256_bytes,
    walk_to,
    write_new_at,
)
from musltool.isa import Isa
from musltool.owners import current_owner, owner_alive
from musltool.process import signals_held
from musltool.report import BuildReport, ReportError
from musltool.settings import PROJECT_ROOT

RECORD = ".musltool-dist"
STAGING = ".musltool-staging"
SUMS = "SHA256SUMS"
LEGACY_RECORD = "musltool output folder\n"  # what musltool wrote before it kept a record
RESERVED = (RECORD, STAGING)


@dataclass
class Record:
    """What musltool wrote in an output folder."""

    created: bool = False  # musltool made the folder itself
    entries: dict[str, str] = field(default_factory=dict)  # relative path -> "dir" or sha256
    legacy: bool = False  # an older musltool's marker, which recorded nothing

    def to_json(self) -> str:
        return json.dumps({"musltool": "dist", "created": self.created, "entries": self.entries},
                          indent=1, sort_keys=True) + "\n"  # fmt: skip

    @classmethod
    def parse(cls, text: str) -> Record:
        if text == LEGACY_RECORD:
            return cls(legacy=True)
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"{RECORD} is not musltool's record: {exc}") from exc
        entries = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
            raise UsageError(f"{RECORD} is not musltool's record of what it wrote")
        return cls(created=data.get("created") is True, entries=dict(entries))


@dataclass(frozen=True)
class Cleaned:
    removed: list[str]
    kept: list[str]  # "path (why)"


def protected_reason(folder: Path) -> str | None:
    """Why `folder` may never be emptied by musltool, or None."""
    resolved = folder.resolve()
    if resolved == Path("/"):
        return "it is the root folder"
    if resolved == Path.home().resolve():
        return "it is your home folder"
    if (resolved / ".git").exists() or resolved == PROJECT_ROOT.resolve():
        return "it is a checkout's root"
    if os.path.ismount(resolved):
        return "it is a mount point"
    return None


class Dist:
    """An output folder; `Dist(Path("dist"))`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"Dist({self.root})"

    def path(self, relative: str) -> Path:
        """Where an entry is, for messages and for programs that read it (never to write)."""
        relative_parts(relative)
        return self.root / relative

    # -------------------------------------------------------------- reading

    def read(self, relative: str) -> bytes | None:
        """A regular file's bytes, None when there is none; a symlink or special file at its
        place, or on the way to it, counts as none."""
        *folders, name = relative_parts(relative)
        try:
            with folder_fd(self.root) as root, walk_to(root, folders) as parent:
                return read_regular(name, dir_fd=parent)
        except (FileNotFoundError, NotADirectoryError, NotRegularFile):
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return None
            raise UsageError(f"{self.root / relative}: cannot read: {exc.strerror}") from exc

    def read_json(self, relative: str) -> Any | None:
        data = self.read(relative)
        with contextlib.suppress(ValueError):
            return None if data is None else json.loads(data)
        return None

    def report(self, isa: str, binary: str) -> BuildReport | None:
        """The build report of `binary` for `isa`, None when there is none; ReportError when
        it is not a musltool build report."""
        path = f"{isa}/{binary}.json"
        data = self.read(path)
        if data is None:
            return None
        try:
            return BuildReport.from_json(data.decode(errors="replace"))
        except ReportError as exc:
            raise ReportError(f"{self.root / path} is not a musltool build report: {exc}") from exc

    def matches(self, report: BuildReport) -> bool:
        """The binary (and programs beside it) in the folder are the ones the report describes."""
        files = {report.binary: report.sha256, **report.programs}
        return all(self._holds(f"{report.isa}/{name}", digest) for name, digest in files.items())

    def verified_report(self, isa: Isa, binary: str) -> BuildReport:
        """The report of a verified build, untouched since; else one UsageError saying why."""
        report = self.report(isa.name, binary)
        path = self.root / isa.name / binary
        how = f"run: invoke build --arch {isa.name} --recipe ..."
        if report is None or self.read(f"{isa.name}/{binary}") is None:
            raise UsageError(f"no build of {binary} for {isa.name} in {self.root}: {how}")
        if not report.is_verified():
            raise UsageError(f"{path} failed verification: refusing to use it")
        if not self.matches(report):
            raise UsageError(f"{path} changed since it was verified: refusing to use it ({how})")
        return report

    def sums(self) -> dict[str, str]:
        """File name -> sha256 from SHA256SUMS (no file: nothing)."""
        sums: dict[str, str] = {}
        for line in (self.read(SUMS) or b"").decode(errors="replace").splitlines():
            digest, _, name = line.partition("  ")
            if name and len(digest) == 64:
                sums[name] = digest
        return sums

    def merged_sums(self, new: Mapping[str, str]) -> bytes:
        """SHA256SUMS lines: these files, plus earlier ones still there with the same bytes."""
        kept = {n: d for n, d in self.sums().items()
                if n not in new and "/" not in n and n not in RESERVED and self._holds(n, d)}  # fmt: skip
        merged = {**kept, **new}
        return "".join(f"{digest}  {name}\n" for name, digest in sorted(merged.items())).encode()

    def _holds(self, name: str, digest: str) -> bool:
        data = self.read(name)
        return data is not None and sha256_bytes(data) == digest

    # -------------------------------------------------------------- writing

    def prepare(self, folder: str = "") -> Path:
        """The output folder (and `folder` in it) exists and takes files: checked before any
        work, one UsageError (exit 2) when it does not."""
        where = self.root / folder if folder else self.root
        try:
            with self._locked() as (root, record):
                self._sweep(root)
                if folder:
                    self._folders(root, relative_parts(folder), record)
                    with walk_to(root, relative_parts(folder)) as fd:
                        probe_folder(fd)
                else:
                    probe_folder(root)
        except OSError as exc:
            raise UsageError(f"output folder {where} is not writable: {exc.strerror}") from exc
        return where

    def write(self, relative: str, data: bytes, mode: int = 0o644) -> Path:
        self.install({relative: (data, mode)})
        return self.root / relative

    def install(self, files: Mapping[str, tuple[bytes, int]], what: str = "", replaces: str = "") -> None:
        """Write `files` (relative path -> bytes, mode) as one transaction: every file staged
        first, then all renamed in (in the order given: put a report last) and recorded. With
        `replaces` (a folder), its older files not among these go (if unchanged: old blobs)."""
        for relative in files:
            if relative_parts(relative)[0] in RESERVED:
                raise UsageError(f"{relative!r}: that name is musltool's own record")
        where = what or str(self.root)
        try:
            with self._locked() as (root, record):
                self._sweep(root)
                with self._staging(root) as staging:
                    for number, (data, mode) in enumerate(files.values()):
                        write_new_at(staging, str(number), data, mode)
                    targets = [(relative_parts(r), str(n)) for n, r in enumerate(files)]
                    for parts, _ in targets:
                        self._folders(root, parts[:-1], record)
                    with signals_held():
                        for (parts, staged), relative in zip(targets, files, strict=True):
                            with walk_to(root, parts[:-1]) as parent:
                                _replace_entry(parent, parts[-1])
                                os.rename(staged, parts[-1], src_dir_fd=staging, dst_dir_fd=parent)
                            record.entries[relative] = sha256_bytes(files[relative][0])
                        if replaces:
                            _remove_stale(root, record, replaces, files)
                        self._save(root, record)
        except UsageError:
            raise
        except OSError as exc:
            raise UsageError(f"cannot install into {where}: {exc.strerror}; the previous build is unchanged") from exc

    @contextlib.contextmanager
    def _locked(self) -> Iterator[tuple[int, Record]]:
        """The folder (made if missing, and then claimed) locked for this run, with its record."""
        created = not self.root.exists() and not self.root.is_symlink()
        self.root.mkdir(parents=True, exist_ok=True)
        with folder_fd(self.root) as root:
            fcntl.flock(root, fcntl.LOCK_EX)
            record = self._record(root)
            if record is None:
                record = Record(created=created)
                self._save(root, record)
            yield root, record

    def _record(self, root: int) -> Record | None:
        try:
            text = read_regular(RECORD, dir_fd=root).decode(errors="replace")
        except FileNotFoundError:
            return None
        except NotRegularFile as exc:
            raise UsageError(f"{self.root / RECORD} {exc.strerror}: not musltool's record") from exc
        return Record.parse(text)

    def _save(self, root: int, record: Record) -> None:
        record.legacy = False
        name = f".{RECORD}.{os.getpid()}"
        write_new_at(root, name, record.to_json().encode(), 0o644, replace=True)
        os.rename(name, RECORD, src_dir_fd=root, dst_dir_fd=root)

    def _folders(self, root: int, parts: list[str], record: Record) -> None:
        """Each folder on the way exists (made and recorded if missing) and is a real folder.
        The record is rewritten only when a folder was made (a full disk fails later, when
        the files are staged, with the previous build whole)."""
        made = False
        for depth in range(1, len(parts) + 1):
            *above, name = parts[:depth]
            with walk_to(root, above) as parent:
                try:
                    os.mkdir(name, 0o755, dir_fd=parent)
                    record.entries["/".join(parts[:depth])] = "dir"
                    made = True
                except FileExistsError:
                    try:
                        os.close(open_folder(parent, name))
                    except OSError as exc:
                        raise UsageError(f"{self.root / '/'.join(parts[:depth])} is not a folder musltool can "
                                         f"write into (a symlink or a file): {exc.strerror}") from exc  # fmt: skip
        if made:
            self._save(root, record)

    @contextlib.contextmanager
    def _staging(self, root: int) -> Iterator[int]:
        with contextlib.suppress(FileExistsError):
            os.mkdir(STAGING, 0o700, dir_fd=root)
        with walk_to(root, [STAGING]) as area:
            name = f"{current_owner().tag}-{os.urandom(4).hex()}"
            os.mkdir(name, 0o700, dir_fd=area)
            try:
                with walk_to(area, [name]) as staging:
                    yield staging
            finally:
                remove_tree_at(area, name)
                with contextlib.suppress(OSError):
                    os.rmdir(STAGING, dir_fd=root)

    def _sweep(self, root: int) -> list[str]:
        """Staging folders of runs that were killed mid-install."""
        swept: list[str] = []
        try:
            with walk_to(root, [STAGING]) as area:
                for name in os.listdir(area):
                    if not owner_alive(name.rsplit("-", 1)[0]):
                        remove_tree_at(area, name)
                        swept.append(f"{STAGING}/{name}")
            with contextlib.suppress(OSError):
                os.rmdir(STAGING, dir_fd=root)
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
        return swept

    # -------------------------------------------------------------- cleaning

    def clean(self) -> Cleaned:
        """Remove what musltool recorded writing here, and nothing else."""
        reason = protected_reason(self.root)
        if reason:
            raise UsageError(f"{self.root}: {reason}; musltool never cleans it (remove its files by hand)")
        removed: list[str] = []
        kept: list[str] = []
        with folder_fd(self.root) as root:
            fcntl.flock(root, fcntl.LOCK_EX)
            record = self._record(root)
            if record is None:
                raise UsageError(f"{self.root} is not a musltool output folder (no {RECORD}): not removed")
            if record.legacy:
                raise UsageError(f"{self.root} was made by an older musltool that kept no record of its files: "
                                 "remove them by hand")  # fmt: skip
            removed += self._sweep(root)
            for relative, digest in sorted(record.entries.items(), key=lambda e: e[0].count("/"), reverse=True):
                why = _remove_recorded(root, relative, digest)
                (kept.append(f"{relative} ({why})") if why else removed.append(relative))
            with contextlib.suppress(FileNotFoundError):
                os.unlink(RECORD, dir_fd=root)
        if record.created:
            try:
                self.root.rmdir()
            except OSError:
                kept.append(f"{self.root} (holds files musltool did not write)")
        return Cleaned(removed, kept)


def _replace_entry(parent: int, name: str) -> None:
    """A folder at a file's place cannot be renamed over: refused (a symlink or a file is
    replaced by the rename itself, never written through)."""
    with contextlib.suppress(FileNotFoundError):
        info = os.lstat(name, dir_fd=parent)
        if stat.S_ISDIR(info.st_mode):
            raise UsageError(f"{name} is a folder where musltool writes a file: not replaced")


def _remove_stale(root: int, record: Record, folder: str, kept: Mapping[str, object]) -> None:
    """Files musltool wrote below `folder` before, not in `kept`: removed where unchanged."""
    prefix = "" if folder == "." else "/".join(relative_parts(folder)) + "/"
    for relative, digest in list(record.entries.items()):
        stale = relative.startswith(prefix) and relative not in kept and digest != "dir"
        if stale and _remove_recorded(root, relative, digest) is None:
            del record.entries[relative]


def _remove_recorded(root: int, relative: str, digest: str) -> str | None:
    """Remove one recorded entry if it is still what musltool made; why not, otherwise."""
    *folders, name = relative.split("/")
    try:
        with walk_to(root, folders) as parent:
            if digest == "dir":
                os.rmdir(name, dir_fd=parent)
                return None
            data = read_regular(name, dir_fd=parent)
            if sha256_bytes(data) != digest:
                return "changed since musltool wrote it"
            os.unlink(name, dir_fd=parent)
            return None
    except FileNotFoundError:
        return None
    except NotRegularFile as exc:
        return f"{exc.strerror}: not musltool's"
    except OSError as exc:
        if exc.errno == errno.ENOTEMPTY:
            return "holds files musltool did not write"
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return "a symlink musltool did not make is on its way"
        return exc.strerror or str(exc)
