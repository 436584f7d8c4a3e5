"""Runners execute a built binary under qemu-user: in a scratch container, or directly.

A runner's `session` puts files (the binary, a test script) somewhere the emulated program
sees them and yields a Session whose `run` executes one command there.
"""

from __future__ import annotations

import contextlib
import platform
import shutil
import signal
import subprocess
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from musltool.container import (
    Entry,
    Tree,
    docker_available,
    materialize,
    require_docker,
    temporary_image,
)
from musltool.errors import MissingToolError, UsageError
from musltool.isa import Isa, get_isa
from musltool.util import log, which

RUN_TIMEOUT = 120
RUNNER_NAMES = ("auto", "docker", "qemu")
GUEST_ENV = {"PATH": "/bin:/sbin:/usr/bin:/usr/sbin", "LC_ALL": "C", "HOME": "/", "TZ": "UTC"}


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    stdout: str
    stderr: str
    signal: int | None = None
    timed_out: bool = False

    def describe(self) -> str:
        if self.timed_out:
            return "timed out"
        if self.signal:
            return f"killed by {signal.Signals(self.signal).name}"
        return f"exit {self.exit_code}"


def host_isa() -> Isa | None:
    with contextlib.suppress(UsageError):
        return get_isa(platform.machine())
    return None


def binfmt_entry(isa: Isa) -> Path:
    return Path("/proc/sys/fs/binfmt_misc") / isa.binfmt_name


def binfmt_ready(isa: Isa) -> tuple[bool, str]:
    """Whether the kernel runs this ISA's binaries through qemu, even inside containers."""
    if isa == host_isa():
        return True, "native"
    entry = binfmt_entry(isa)
    if not entry.exists():
        return False, f"binfmt entry {isa.binfmt_name} not registered"
    text = entry.read_text()
    if not text.startswith("enabled"):
        return False, f"binfmt entry {isa.binfmt_name} is disabled"
    flags = next(
        (line.split(":", 1)[1] for line in text.splitlines() if line.startswith("flags")), ""
    )
    if "F" not in flags:
        return False, f"binfmt entry {isa.binfmt_name} lacks the F flag (needed in containers)"
    return True, f"{isa.binfmt_name} (flags{flags})"


def _result(proc_returncode: int, stdout: bytes, stderr: bytes, signal_offset: bool) -> RunResult:
    sig = None
    if proc_returncode < 0:
        sig = -proc_returncode
    elif signal_offset and 128 < proc_returncode < 128 + 65:
        sig = proc_returncode - 128
    return RunResult(
        proc_returncode,
        stdout.decode(errors="replace"),
        stderr.decode(errors="replace"),
        signal=sig,
    )


class Session(ABC):
    """Files in place for one ISA; `run` executes a command among them."""

    def __init__(self, isa: Isa) -> None:
        self.isa = isa

    @abstractmethod
    def path(self, name: str) -> str:
        """Where the file `name` given to the session is, as the emulated program sees it."""

    @abstractmethod
    def run(
        self, program: str, args: list[str], stdin: str | None = None, timeout: float = RUN_TIMEOUT
    ) -> RunResult:
        """Run file `program` with `args`; stdout and stderr are captured."""


class Runner(ABC):
    name: str

    @abstractmethod
    def check_ready(self, isa: Isa) -> None:
        """Raise MissingToolError when this runner cannot run `isa` binaries here."""

    @abstractmethod
    def session(
        self, isa: Isa, files: dict[str, tuple[bytes, int]]
    ) -> contextlib.AbstractContextManager[Session]:
        """Files (name -> content, mode) put in place for the block."""


class DockerSession(Session):
    def __init__(self, isa: Isa, image: str) -> None:
        super().__init__(isa)
        self.image = image

    def path(self, name: str) -> str:
        return f"/{name}"

    def run(
        self, program: str, args: list[str], stdin: str | None = None, timeout: float = RUN_TIMEOUT
    ) -> RunResult:
        name = f"musltool-{uuid.uuid4().hex[:12]}"
        env_args = [a for key, value in GUEST_ENV.items() for a in ("-e", f"{key}={value}")]
        cmd = [
            # --init: the program must not be PID 1, which ignores fatal signals it
            # does not handle (a crash under qemu would hang instead of failing).
            "docker", "run", "--rm", "-i", "--init", "--name", name,
            "--pull", "never", "--network", "none", "--read-only",
            "--tmpfs", "/tmp:rw,exec,mode=1777",
            "--platform", self.isa.docker_platform,
            *env_args,
            "--entrypoint", self.path(program), self.image, *args,
        ]  # fmt: skip
        try:
            proc = subprocess.run(
                cmd, input=(stdin or "").encode(), capture_output=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
            return RunResult(-1, "", "", timed_out=True)
        return _result(proc.returncode, proc.stdout, proc.stderr, signal_offset=True)


class DockerRunner(Runner):
    """A scratch image holding only the given files, run with no network and a read-only root."""

    name = "docker"

    def check_ready(self, isa: Isa) -> None:
        require_docker()
        ok, detail = binfmt_ready(isa)
        if not ok:
            raise MissingToolError(f"cannot run {isa.name} in docker: {detail}; run: invoke setup")

    @contextlib.contextmanager
    def session(self, isa: Isa, tree: Tree) -> Iterator[Session]:
        image = Tree([*tree.entries, Entry("tmp", mode=0o1777, kind="dir")])
        tag = f"musltool-verify/{isa.name}:{uuid.uuid4().hex[:12]}"
        first_file = next(e.path for e in tree.entries if e.kind == "file")
        with temporary_image(image, isa, tag, [f"/{first_file}"]):
            yield DockerSession(isa, tag)


class QemuSession(Session):
    def __init__(self, isa: Isa, root: Path, qemu: str) -> None:
        super().__init__(isa)
        self.root = root
        self.qemu = qemu

    def path(self, name: str) -> str:
        return str(self.root / name)

    def run(
        self, program: str, args: list[str], stdin: str | None = None, timeout: float = RUN_TIMEOUT
    ) -> RunResult:
        env = {**GUEST_ENV, "TMPDIR": str(self.root / "tmp"), "PATH": str(self.root / "bin")}
        try:
            proc = subprocess.run(
                [self.qemu, self.path(program), *args],
                input=(stdin or "").encode(),
                capture_output=True,
                timeout=timeout,
                cwd=self.root,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return RunResult(-1, "", "", timed_out=True)
        return _result(proc.returncode, proc.stdout, proc.stderr, signal_offset=False)


class QemuRunner(Runner):
    """qemu-user-static directly on the host, for machines without docker.

    Programs that start other programs (a shell running applets) need the ISA's binfmt entry.
    """

    name = "qemu"

    def check_ready(self, isa: Isa) -> None:
        if which(isa.qemu_binary) is None:
            raise MissingToolError(
                f"{isa.qemu_binary} not found: install qemu-user-static (invoke setup)"
            )

    @contextlib.contextmanager
    def session(self, isa: Isa, tree: Tree) -> Iterator[Session]:
        root = Path(tempfile.mkdtemp(prefix=f"musltool-qemu-{isa.name}-"))
        try:
            (root / "tmp").mkdir(mode=0o1777)
            materialize(tree, root)
            yield QemuSession(isa, root, which(isa.qemu_binary) or isa.qemu_binary)
        finally:
            shutil.rmtree(root, ignore_errors=True)


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
