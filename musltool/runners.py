"""Runners execute a built binary under qemu-user: in a scratch container, or directly.

A runner's `session` puts files (the binary, a test script) somewhere the emulated program
sees them and yields a Session whose `run` executes one command there. Every run goes through
musltool's helper (musltool/helper.c), which kills the run's whole process group on a timeout,
reports how the run ended, and serves DNS names the session asks for on 127.0.0.1:53.

docker: one container per session (image = the files + the helper, no network, read-only
root, a tmpfs /tmp, our own resolv.conf and hosts), one `docker exec` per run.
qemu: the files in a temporary folder on the host, runs under qemu-user-static; a session
that serves DNS runs each command in a private network and mount namespace (root only).

Every run is on the ISA's oldest CPU model (the ISA table's qemu_cpu): foreign binaries get it
through QEMU_CPU, which qemu-user reads when binfmt starts it; a binary of the host's own ISA
is started under qemu-user explicitly (no binfmt entry can exist for the host's own ISA, so
the programs it starts in turn run natively).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from musltool.binfmt import binfmt_ready
from musltool.docker import SessionContainer, docker_available, require_docker
from musltool.emulators import qemu_user
from musltool.errors import MissingToolError, UsageError
from musltool.filetree import Tree, write_tree
from musltool.isa import Isa, runs_natively
from musltool.owners import temp_prefix
from musltool.process import OUTPUT_LIMIT, Completed, call, log
from musltool.toolchain.hostprograms import host_program

RUN_TIMEOUT = 120
RUNNER_NAMES = ("auto", "docker", "qemu")
GUEST_ENV = {"PATH": "/bin:/sbin:/usr/bin:/usr/sbin", "LC_ALL": "C", "HOME": "/", "TZ": "UTC"}
HELPER_SOURCE = Path(__file__).with_name("helper.c")
HELPER_IN_IMAGE = ".musltool/helper"
QEMU_IN_IMAGE = ".musltool/qemu"  # for the host's own ISA only
STATUS_MARK = "@@musltool-status "
# What a session's /etc/resolv.conf and /etc/hosts say: DNS asks the helper, and the hosts
# file knows localhost only, so a name the session serves can only be found through DNS.
RESOLV_CONF = "nameserver 127.0.0.1\n"
HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost\n"
BACKSTOP = 30  # seconds past a run's own timeout before the runner gives up on the helper
STATUS_TAIL = 256  # bytes of stderr kept back from a passed-through run: the helper's status line
# Paths a session keeps for itself: files given to a session may not take them.
SESSION_PATHS = ("tmp", ".musltool", ".musltool-etc", "etc/resolv.conf", "etc/hosts")
# Where a run's output goes when it is not kept: the user's stdout and stderr (`invoke run`).
Output = tuple[BinaryIO, BinaryIO]


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    stdout: str
    stderr: str
    signal: int | None = None
    timed_out: bool = False
    cut: bool = False  # printed more than OUTPUT_LIMIT bytes: stopped there

    def describe(self) -> str:
        if self.cut:
            return f"printed more than {OUTPUT_LIMIT >> 20} MiB: stopped, output cut there"
        if self.timed_out:
            return "timed out"
        if self.signal:
            return f"killed by {signal.Signals(self.signal).name}"
        return f"exit {self.exit_code}"


def helper_program() -> Path:
    return host_program("musltool-helper", HELPER_SOURCE, _helper_self_check)


def _helper_self_check(program: Path) -> None:
    cases = {
        ("/bin/sh", "-c", "exit 3"): "exit 3",
        ("/bin/sh", "-c", "kill -SEGV $$"): "signal 11",
    }
    for argv, expected in cases.items():
        result = from_helper(call([program, "run", "5", *argv]))
        got = result.describe() if not result.signal else f"signal {result.signal}"
        if got != expected:
            raise MissingToolError(f"musltool's helper failed its self-check: {argv} gave {got}, expected {expected}")


def from_helper(done: Completed) -> RunResult:
    """The run's result from the helper's status line (the last line of its stderr)."""
    stdout = done.stdout.decode(errors="replace")
    stderr = done.stderr.decode(errors="replace")
    head, mark, status = stderr.rpartition(STATUS_MARK)
    if done.cut:
        return RunResult(-1, stdout, stderr, cut=True)
    if done.timed_out or not mark:
        why = "timed out" if done.timed_out else f"the helper ended with {done.returncode}"
        return RunResult(-1, stdout, f"{stderr}\n({why})", timed_out=done.timed_out)
    stderr = head[:-1] if head.endswith("\n") else head
    kind, _, value = status.strip().partition(" ")
    if kind == "timeout":
        return RunResult(-1, stdout, stderr, timed_out=True)
    if kind == "signal":
        return RunResult(128 + int(value), stdout, stderr, signal=int(value))
    return RunResult(int(value), stdout, stderr)


def oldest_cpu_env(isa: Isa) -> dict[str, str]:
    return {"QEMU_CPU": isa.qemu_cpu}


def emulator_prefix(isa: Isa, qemu: str) -> list[str]:
    """What starts a program of `isa` on its oldest CPU: qemu-user for an ISA this machine
    runs natively (binfmt does it, with QEMU_CPU, for every other ISA)."""
    return [qemu, "-cpu", isa.qemu_cpu] if runs_natively(isa) else []


def helper_run_args(isa: Isa, dns: Mapping[str, str], timeout: float) -> list[str]:
    personality = ["--linux32"] if isa.linux32 and runs_natively(isa) else []
    names = [a for name, addr in sorted(dns.items()) for a in ("--dns", f"{name}={addr}")]
    return [*names, *personality, str(max(1, int(timeout)))]


class Session(ABC):
    """Files in place for one ISA; `run` executes a command among them."""

    # Whether runs have the session's own /etc, /var, /run and network namespace (a
    # container), so that a test may add users or bind ports without touching the host.
    isolated = False

    def __init__(self, isa: Isa) -> None:
        self.isa = isa

    @abstractmethod
    def path(self, name: str) -> str:
        """Where the file `name` given to the session is, as the emulated program sees it."""

    @abstractmethod
    def run(
        self,
        program: str,
        args: list[str],
        stdin: str | bytes | int | None = None,
        timeout: float = RUN_TIMEOUT,
        env: Mapping[str, str] | None = None,
        output: Output | None = None,
    ) -> RunResult:
        """Run file `program` with `args` (and `env` added to the guest's). `stdin` is text or
        bytes to feed it, or a descriptor it reads itself. Its stdout and stderr are kept (up to
        OUTPUT_LIMIT bytes), or passed through to `output` as they come."""


def _helper_call(argv: list[str], stdin: str | bytes | int | None, timeout: float,
                 output: Output | None, **kwargs) -> RunResult:  # fmt: skip
    """The helper's run, bounded in time and output; its status line read from its stderr."""
    feed = stdin.encode() if isinstance(stdin, str) else stdin
    done = call(argv, input=feed if isinstance(feed, bytes) else (b"" if feed is None else None),
                stdin=feed if isinstance(feed, int) else None, timeout=timeout + BACKSTOP,
                limit=OUTPUT_LIMIT, stdout_to=output[0] if output else None,
                stderr_to=output[1] if output else None, keep_stderr_tail=STATUS_TAIL if output else 0,
                **kwargs)  # fmt: skip
    return from_helper(done)


class Runner(ABC):
    name: str

    @abstractmethod
    def check_ready(self, isa: Isa) -> None:
        """Raise MissingToolError when this runner cannot run `isa` binaries here."""

    @abstractmethod
    def session(
        self, isa: Isa, tree: Tree, dns: Mapping[str, str] | None = None, private: Sequence[str] = ()
    ) -> contextlib.AbstractContextManager[Session]:
        """The files in place for the block; `dns` names (name -> IPv4) are served to runs;
        `private` folders (/etc, /var ...) are empty and writable where the runner isolates."""


class DockerSession(Session):
    isolated = True

    def __init__(self, isa: Isa, container: SessionContainer, dns: Mapping[str, str]) -> None:
        super().__init__(isa)
        self.container = container
        self.dns = dns

    def path(self, name: str) -> str:
        return f"/{name}"

    def run(
        self,
        program: str,
        args: list[str],
        stdin: str | bytes | int | None = None,
        timeout: float = RUN_TIMEOUT,
        env: Mapping[str, str] | None = None,
        output: Output | None = None,
    ) -> RunResult:
        emulator = emulator_prefix(self.isa, f"/{QEMU_IN_IMAGE}")
        argv = [f"/{HELPER_IN_IMAGE}", "run", *helper_run_args(self.isa, self.dns, timeout), *emulator,
                self.path(program), *args]  # fmt: skip
        guest = {**GUEST_ENV, **oldest_cpu_env(self.isa), **(env or {})}
        return _helper_call(self.container.exec_args(argv, guest), stdin, timeout, output)


class DockerRunner(Runner):
    """A scratch container holding only the given files (and the helper), with no network."""

    name = "docker"

    def check_ready(self, isa: Isa) -> None:
        require_docker()
        if emulator_prefix(isa, "qemu"):
            _qemu_path(isa)  # the host's own ISA runs under qemu-user on its oldest CPU
        ok, detail = binfmt_ready(isa)
        if not ok:
            raise MissingToolError(f"cannot run {isa.name} in docker: {detail}; run: invoke setup")

    @contextlib.contextmanager
    def session(
        self, isa: Isa, tree: Tree, dns: Mapping[str, str] | None = None, private: Sequence[str] = ()
    ) -> Iterator[Session]:
        image = Tree(list(tree.entries))
        image.add_dir("tmp", 0o1777)
        image.add_dir(".musltool")
        image.add_file(HELPER_IN_IMAGE, helper_program().read_bytes(), 0o755)
        if emulator_prefix(isa, "qemu"):
            image.add_file(QEMU_IN_IMAGE, Path(_qemu_path(isa)).read_bytes(), 0o755)
        with tempfile.TemporaryDirectory(prefix=temp_prefix("session")) as tmp:
            etc = _session_etc(Path(tmp))
            mounts = [(etc / "resolv.conf", "/etc/resolv.conf"), (etc / "hosts", "/etc/hosts")]
            entrypoint = [f"/{HELPER_IN_IMAGE}", "serve"]
            with SessionContainer(image, isa, entrypoint, mounts, private) as container:
                yield DockerSession(isa, container, dns or {})


def _session_etc(folder: Path) -> Path:
    (folder / "resolv.conf").write_text(RESOLV_CONF)
    (folder / "hosts").write_text(HOSTS)
    for path in folder.iterdir():
        path.chmod(0o644)
    folder.chmod(0o755)
    return folder


class QemuSession(Session):
    def __init__(self, isa: Isa, root: Path, qemu: str, dns: Mapping[str, str], etc: Path) -> None:
        super().__init__(isa)
        self.root = root
        self.qemu = qemu
        self.dns = dns
        self.etc = etc

    def path(self, name: str) -> str:
        return str(self.root / name)

    def run(
        self,
        program: str,
        args: list[str],
        stdin: str | bytes | int | None = None,
        timeout: float = RUN_TIMEOUT,
        env: Mapping[str, str] | None = None,
        output: Output | None = None,
    ) -> RunResult:
        env = {**GUEST_ENV, **oldest_cpu_env(self.isa), "TMPDIR": str(self.root / "tmp"),
               "PATH": str(self.root / "bin"), **(env or {})}  # fmt: skip
        isolate = ["--isolate", str(self.etc / "resolv.conf"), str(self.etc / "hosts")] if self.dns else []
        argv = [str(helper_program()), "run", *isolate, *helper_run_args(self.isa, self.dns, timeout),
                self.qemu, "-cpu", self.isa.qemu_cpu, self.path(program), *args]  # fmt: skip
        return _helper_call(argv, stdin, timeout, output, cwd=self.root, env=env)


class QemuRunner(Runner):
    """qemu-user-static directly on the host, for machines without docker.

    Programs that start other programs (a shell running applets) need the ISA's binfmt entry.
    """

    name = "qemu"

    def check_ready(self, isa: Isa) -> None:
        qemu_user(isa)

    @contextlib.contextmanager
    def session(
        self, isa: Isa, tree: Tree, dns: Mapping[str, str] | None = None, private: Sequence[str] = ()
    ) -> Iterator[Session]:
        """`private` folders cannot be given on the host: the session is not isolated."""
        root = Path(tempfile.mkdtemp(prefix=temp_prefix(f"qemu-{isa.name}")))
        try:
            session = Tree(list(tree.entries))
            session.add_dir("tmp", 0o1777)
            write_tree(session, root)
            etc = root / ".musltool-etc"
            etc.mkdir()
            _session_etc(etc)
            yield QemuSession(isa, root, _qemu_path(isa), dns or {}, etc)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _qemu_path(isa: Isa) -> str:
    return qemu_user(isa)


def check_runner_name(name: str) -> None:
    if name not in RUNNER_NAMES:
        raise UsageError(f"unknown runner {name!r}; valid: {', '.join(RUNNER_NAMES)}")


def get_runner(name: str, isa: Isa) -> Runner:
    """The runner by name; 'auto' takes docker when its daemon answers, and says which."""
    check_runner_name(name)
    if name == "auto":
        ok, detail = docker_available()
        chosen: Runner = DockerRunner() if ok else QemuRunner()
        reason = f"docker {detail} answers" if ok else f"docker unavailable: {detail}"
        log(f"runner auto: using {chosen.name} ({reason})")
    else:
        chosen = DockerRunner() if name == "docker" else QemuRunner()
    chosen.check_ready(isa)
    return chosen
