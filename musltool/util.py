"""Small shared helpers: running commands, hashing, atomic files and folders."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from musltool.errors import BuildError, MissingToolError

MAKE_ERROR_ECHO = re.compile(r"\] Error \d+")


def log(message: str) -> None:
    print(f"musltool: {message}", file=sys.stderr, flush=True)


def which(name: str) -> str | None:
    return shutil.which(name)


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool = False


def call(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    input: bytes | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    merge_stderr: bool = False,
    finish_on_interrupt: bool = False,
) -> Completed:
    """Run a command in its own process group and wait for it.

    On a timeout, or on Ctrl-C / SIGTERM reaching musltool, the whole group is killed, so no
    compiler or emulated program outlives the command. A command that creates or removes
    something that must be cleaned up (a docker image or container) is instead given
    `finish_on_interrupt`: it finishes first, so the caller's cleanup sees what it made.
    """
    args = [os.fspath(c) for c in cmd]
    try:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise MissingToolError(f"cannot run {args[0]}: not found") from exc
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        return Completed(proc.returncode, out or b"", err or b"", timed_out=True)
    except BaseException:
        if finish_on_interrupt:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.communicate(timeout=60)
        kill_group(proc)
        proc.wait()
        raise
    return Completed(proc.returncode, out or b"", err or b"")


def stream_lines(
    cmd: Sequence[str | os.PathLike[str]], *, env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """A long command's output (stdout and stderr), line by line, as it comes; its process
    group is killed if the reader stops early or musltool is interrupted. The exit status is
    the generator's return value (StopIteration.value); use `stream_to_end` for both."""
    args = [os.fspath(c) for c in cmd]
    try:
        proc = subprocess.Popen(
            args,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise MissingToolError(f"cannot run {args[0]}: not found") from exc
    assert proc.stdout is not None
    try:
        for raw in proc.stdout:
            yield raw.decode(errors="replace")
        return proc.wait()
    finally:
        if proc.poll() is None:
            kill_group(proc)
        proc.stdout.close()
        proc.wait()


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group (a program that starts its own groups, like musltool's helper,
    passes it on), a moment to go, then SIGKILL to whatever is left."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=2)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


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
    """Run a command; on failure raise `error` whose one line names the command and its tail
    (and where the whole log is kept)."""
    args = [os.fspath(c) for c in cmd]
    done = call(args, cwd=cwd, env=env, timeout=timeout, merge_stderr=True)
    output = done.stdout.decode(errors="replace")
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log_file.write_text(output)
    if done.timed_out:
        raise error(f"{what or args[0]} timed out after {timeout:.0f}s")
    if done.returncode != 0:
        tail = last_meaningful_line(output)
        where = f" (full log: {log_file})" if log_file else ""
        raise error(f"{what or args[0]} failed with exit {done.returncode}: {tail}{where}")
    return subprocess.CompletedProcess(args, done.returncode, output, "")


def last_meaningful_line(output: str) -> str:
    """The line most likely to explain a failure: a compiler's last 'error:' line, else make's
    first '***' reason (not its '[target] Error N' echo), else the last 'error' line, else the
    last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if "error:" in line.lower():
            return line
    for line in lines:
        if "***" in line and not MAKE_ERROR_ECHO.search(line):
            return line
    for line in reversed(lines):
        if "error" in line.lower():
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
