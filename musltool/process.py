"""Processes musltool starts: run in their own process group, bounded in time and output,
killed with musltool, and marked with their owner (musltool.owners)."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from musltool.errors import BuildError, MissingToolError
from musltool.owners import owned_env

MAKE_ERROR_ECHO = re.compile(r"\] Error \d+")
OUTPUT_LIMIT = 64 << 20  # bytes a run may print before it is stopped (`invoke run`, verification)
LINGER = 5.0  # seconds to wait for a finished command's pipes to close (a daemon holding them)
CHUNK = 1 << 16


def log(message: str) -> None:
    print(f"musltool: {message}", file=sys.stderr, flush=True)


def which(name: str) -> str | None:
    return shutil.which(name)


# ---------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool = False
    cut: bool = False  # printed more than the output limit: stopped, output cut


class _Capture:
    """What one command printed: kept up to a limit, or passed through to a file as it comes
    (then only the last `keep_tail` bytes of stderr are kept, for a trailer such as the
    helper's status line)."""

    def __init__(self, limit: int | None, sinks: tuple[BinaryIO | None, BinaryIO | None], keep_tail: int) -> None:
        self.limit = limit
        self.sinks = sinks
        self.keep_tail = keep_tail
        self.kept: list[bytearray] = [bytearray(), bytearray()]
        self.total = 0
        self.cut = False

    def add(self, stream: int, chunk: bytes) -> None:
        if self.cut:
            return
        if self.limit is not None and self.total + len(chunk) > self.limit:
            chunk = chunk[: self.limit - self.total]
            self.cut = True
        self.total += len(chunk)
        sink, kept = self.sinks[stream], self.kept[stream]
        kept.extend(chunk)
        if sink is None:
            return
        hold = self.keep_tail if stream == 1 else 0
        if len(kept) > hold:
            sink.write(bytes(kept[: len(kept) - hold]))
            sink.flush()
            del kept[: len(kept) - hold]


def call(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    input: bytes | None = None,
    stdin: int | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    merge_stderr: bool = False,
    finish_on_interrupt: bool = False,
    limit: int | None = None,
    stdout_to: BinaryIO | None = None,
    stderr_to: BinaryIO | None = None,
    keep_stderr_tail: int = 0,
) -> Completed:
    """Run a command in its own process group and wait for it.

    `input` is written to its stdin as it reads it; `stdin` passes a descriptor instead (it
    is never read here). Output is kept in memory up to `limit` bytes, or passed through to
    `stdout_to`/`stderr_to` as it comes; past the limit the command is stopped and `cut`
    says so. On a timeout, or on Ctrl-C / SIGTERM reaching musltool, the whole group is
    killed, so no compiler or emulated program outlives the command. A command that creates
    or removes something that must be cleaned up (a docker image or container) is instead
    given `finish_on_interrupt`: it finishes first, so the caller's cleanup sees what it made.
    """
    args = [os.fspath(c) for c in cmd]
    if input is not None:
        stdin_arg: int = subprocess.PIPE
    else:
        stdin_arg = stdin if stdin is not None else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=owned_env(env),
            stdin=stdin_arg,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise MissingToolError(f"cannot run {args[0]}: not found") from exc
    capture = _Capture(limit, (stdout_to, stderr_to), keep_stderr_tail)
    try:
        timed_out = _pump(proc, input, capture, timeout)
    except BaseException:
        if finish_on_interrupt:
            # Its input ends here: a command still reading it (docker load) would otherwise
            # wait for the rest until the timeout below, and the interrupted run with it.
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=60)
        kill_group(proc)
        proc.wait()
        raise
    finally:
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
    return Completed(proc.returncode, bytes(capture.kept[0]), bytes(capture.kept[1]), timed_out, capture.cut)


def _pump(proc: subprocess.Popen[bytes], input: bytes | None, capture: _Capture, timeout: float | None) -> bool:
    """Feed stdin and read stdout/stderr until both close; True when the command timed out."""
    selector = selectors.DefaultSelector()
    streams = {proc.stdout: 0, proc.stderr: 1}
    for pipe in streams:
        if pipe is not None:
            os.set_blocking(pipe.fileno(), False)
            selector.register(pipe, selectors.EVENT_READ)
    pending = memoryview(input or b"")
    if proc.stdin is not None:
        if pending:
            os.set_blocking(proc.stdin.fileno(), False)
            selector.register(proc.stdin, selectors.EVENT_WRITE)
        else:
            proc.stdin.close()
    deadline = None if timeout is None else time.monotonic() + timeout
    exited_at: float | None = None
    timed_out = lingered = False
    while selector.get_map():
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            timed_out = True
            break
        if capture.cut:
            break
        if exited_at is None and proc.poll() is not None:
            exited_at = now
        if exited_at is not None and now - exited_at > LINGER:
            lingered = True  # it ended, but something it started holds its output open
            break
        wait = 0.5 if deadline is None else min(0.5, deadline - now)
        for key, _ in selector.select(wait):
            pipe = key.fileobj
            if pipe is proc.stdin:
                try:
                    written = os.write(pipe.fileno(), pending[:CHUNK])  # type: ignore[union-attr]
                except (BrokenPipeError, OSError):
                    written = len(pending)
                pending = pending[written:]
                if not pending:
                    selector.unregister(pipe)
                    pipe.close()  # type: ignore[union-attr]
                continue
            try:
                chunk = os.read(pipe.fileno(), CHUNK)  # type: ignore[union-attr]
            except BlockingIOError:
                continue
            if chunk:
                capture.add(streams[pipe], chunk)  # type: ignore[index]
            else:
                selector.unregister(pipe)
    selector.close()
    if not (timed_out or lingered or capture.cut) and proc.poll() is None:
        try:  # its output closed, but it still runs
            proc.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
    if timed_out or lingered or capture.cut:
        kill_group(proc)
    proc.wait()
    return timed_out


def stream_lines(
    cmd: Sequence[str | os.PathLike[str]], *, env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """A long command's output (stdout and stderr), line by line, as it comes; its process
    group is killed if the reader stops early or musltool is interrupted. The exit status is
    the generator's return value (StopIteration.value)."""
    args = [os.fspath(c) for c in cmd]
    try:
        proc = subprocess.Popen(
            args,
            env=owned_env(env),
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


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done (a few renames that belong together)."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
