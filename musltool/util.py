"""Small shared helpers: running commands, hashing, atomic files and folders."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from musltool.errors import BuildError, MissingToolError


def log(message: str) -> None:
    print(f"musltool: {message}", file=sys.stderr, flush=True)


def which(name: str) -> str | None:
    return shutil.which(name)


def run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    error: type[Exception] = BuildError,
    what: str | None = None,
    log_file: Path | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise `error` whose one line names the command and its tail."""
    args = [os.fspath(c) for c in cmd]
    try:
        proc = subprocess.run(
            args,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise MissingToolError(f"cannot run {args[0]}: not found") from exc
    except subprocess.TimeoutExpired as exc:
        raise error(f"{what or args[0]} timed out after {timeout:.0f}s") from exc
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log_file.write_text(proc.stdout)
    if proc.returncode != 0:
        tail = last_meaningful_line(proc.stdout)
        where = f" (full log: {log_file})" if log_file else ""
        raise error(f"{what or args[0]} failed with exit {proc.returncode}: {tail}{where}")
    return proc


def last_meaningful_line(output: str) -> str:
    """The line most likely to explain a failure: the last 'error' line, else the last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for marker in ("error:", "error"):  # a compiler's "error:" explains more than make's
        for line in reversed(lines):
            if marker in line.lower():
                return line
    return lines[-1] if lines else "(no output)"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write to a temporary sibling, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_if_changed(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Atomically (re)write `path` only when its content differs (wrapper scripts)."""
    if not path.exists() or path.read_bytes() != data:
        atomic_write_bytes(path, data, mode)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


@contextlib.contextmanager
def staging_dir(final: Path) -> Iterator[Path]:
    """A temporary sibling folder that replaces `final` only if the block succeeds."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def folder_size(path: Path) -> int:
    """Bytes in the regular files below `path` (symlinks not followed)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
