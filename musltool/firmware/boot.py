"""Boot the firmware images under qemu-system and prove the system works.

The machine (from the ISA table: a PC for x86_64, virt machines for ARM and RISC-V, each on
its oldest CPU model) boots the kernel with the initramfs, and the ext4 image as a read-only
virtio disk; no network device; its serial console on a pipe. musltool drives that console:
it waits for getty's login prompt, logs root in, runs the boot suite (kernel-level checks:
init, mount, mdev, modules, loop devices, the clock, namespaces, the ext4 image) and the
applet suite, then powers the machine off and checks that it stopped. Every wait has a time
limit, and the qemu process group is killed on the way out whatever happened.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from musltool.cache import cache_dir
from musltool.dist import Dist
from musltool.emulators import qemu_system_command
from musltool.errors import VerificationError
from musltool.files import atomic_write_text
from musltool.firmware.bootreport import BootReport
from musltool.firmware.kernels import Kernel
from musltool.firmware.tree import SHARE, FirmwareImages, system_kind
from musltool.isa import Isa
from musltool.package import BOOT_REPORT
from musltool.process import kill_group, log
from musltool.report import BuildReport, Evidence, ReportError, Status, TestResult, Verification
from musltool.suites import SuiteOutcome, SuiteTest, parse_suite

LOGIN_LIMIT = 240  # seconds from power-on to the login prompt
SUITE_LIMIT = 900  # seconds for one suite on the booted system
POWEROFF_LIMIT = 90
MEMORY_MB = 512
LOGIN_PROMPT = re.compile(rb"login: ")
MOTD = b"Welcome to musltool"
POWER_DOWN = b"reboot: Power down"
# An oops in the kernel itself (not init dying, which panics with "Attempted to kill init"
# or "No working init found"): seen once in CI before the login prompt of an x86_64 boot under
# multi-threaded TCG, a fault in interrupt context at a user address; 0 of 80 boots beside 10
# busy loops showed it again. Such a boot is booted once more, and the report says so.
KERNEL_OOPS = re.compile(r"Kernel panic - not syncing: Fatal exception")


def qemu_command(isa: Isa, kernel: Path, initramfs: Path, disk: Path, qemu: list[str] | None = None) -> list[str]:
    """The qemu-system command line that boots the images on the ISA's oldest CPU."""
    append = f"console={isa.console} panic=-1 quiet"
    return [
        *(qemu or [isa.qemu_system]), "-M", isa.boot_machine, "-cpu", isa.boot_cpu,
        "-accel", f"tcg,thread={isa.boot_tcg_thread}",
        "-m", str(MEMORY_MB), "-smp", "2", *isa.boot_firmware,
        "-kernel", str(kernel), "-initrd", str(initramfs), "-append", append,
        "-drive", f"file={disk},format=raw,if=none,id=disk,readonly=on",
        "-device", f"{isa.boot_disk_device},drive=disk",
        "-nic", "none", "-display", "none", "-monitor", "none", *isa.boot_console_args, "-no-reboot",
    ]  # fmt: skip


class Console:
    """qemu-system with its serial console on a pipe: everything it prints is kept (the
    transcript); `wait_for` waits for text, `send` types a line. The block's end kills the
    process group, so no emulator outlives a boot, whatever ended it."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.buffer = bytearray()
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Console:
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while chunk := os.read(self.proc.stdout.fileno(), 65536):
            with self.lock:
                self.buffer.extend(chunk)

    def mark(self) -> int:
        with self.lock:
            return len(self.buffer)

    def text(self, start: int = 0) -> str:
        with self.lock:
            return self.buffer[start:].decode(errors="replace")

    def wait_for(self, pattern: re.Pattern[bytes] | bytes, limit: float, start: int = 0) -> bool:
        """Whether the console showed `pattern` after `start` within `limit` seconds (false at
        once when the machine stopped)."""
        assert self.proc is not None
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            with self.lock:
                if regex.search(self.buffer, start):
                    return True
            if self.proc.poll() is not None:
                time.sleep(0.2)  # the reader may still hold the last output
                with self.lock:
                    return bool(regex.search(self.buffer, start))
            time.sleep(0.05)
        return False

    def send(self, line: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def wait_exit(self, limit: float) -> int | None:
        assert self.proc is not None
        try:
            return self.proc.wait(limit)
        except subprocess.TimeoutExpired:
            return None

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            kill_group(self.proc)
        self.proc.wait()


@dataclass
class BootResult:
    isa: Isa
    checks: list[TestResult]
    evidence: SuiteOutcome
    timings: dict[str, float]
    transcript: str
    command: list[str]
    kernel: Kernel
    images: FirmwareImages
    applets: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return Verification("qemu-system", tuple(self.checks)).passed


def _run_suite(console: Console, command: str, end: str, limit: float) -> tuple[SuiteOutcome, bool]:
    """Type a suite's command; its records, and whether it reached its end mark in time."""
    start = console.mark()
    console.send(f'{command}; echo "@@done-$?"')
    finished = console.wait_for(re.compile(rb"@@done-\d+"), limit, start)
    outcome = parse_suite(console.text(start).replace("\r", ""))
    return outcome, finished and end in console.text(start)


def boot(isa: Isa, kernel: Kernel, images: FirmwareImages, applet_suite: bool = True) -> BootResult:
    """Boot, log in, run the suites, power off: every step is a check."""
    command = qemu_command(isa, kernel.path, images.initramfs, images.disk, qemu_system_command(isa))
    checks: list[TestResult] = []
    outcome = SuiteOutcome()
    timings: dict[str, float] = {}
    started = time.monotonic()

    def check(name: str, ok: bool, detail: str, applet: str | None = None) -> bool:
        checks.append(TestResult(name, Status.PASSED if ok else Status.FAILED, detail,
                                 Evidence.FUNCTIONAL if ok else Evidence.NONE, "boot"))  # fmt: skip
        if applet:
            outcome.tests.append(SuiteTest(applet, name, ok, detail, source="boot"))
        return ok

    with ExitStack() as stack:
        console, up, oopsed = _boot_to_login(command, stack)
        timings["to login prompt"] = time.monotonic() - started
        if check(
            "boots to a login prompt (init, rcS, getty)",
            up,
            _tail(console) if not up else _second_boot(oopsed),
            "getty",
        ):
            outcome.tests.append(
                SuiteTest("init", "runs as process 1 and starts getty", True, source="boot")
            )
            mark = console.mark()
            console.send("root")
            logged_in = console.wait_for(MOTD, 60, mark) and console.wait_for(b"# ", 30, mark)
            if check(
                "logs root in on the console",
                logged_in,
                "" if logged_in else _tail(console),
                "login",
            ):
                suites = system_kind().boot_suites(SHARE, isa)
                for suite in suites if applet_suite else suites[:1]:
                    t0 = time.monotonic()
                    records, ended = _run_suite(console, suite.command, suite.end, SUITE_LIMIT)
                    timings[suite.label] = time.monotonic() - t0
                    _suite_checks(checks, records, suite.label)
                    check(f"{suite.label} ran to its end", ended, "" if ended else _tail(console))
                    outcome = outcome.merge(_sourced(records, suite.source))
                t0 = time.monotonic()
                console.send("poweroff")
                code = console.wait_exit(POWEROFF_LIMIT)
                timings["power off"] = time.monotonic() - t0
                off = code == 0 and POWER_DOWN in console.text().encode()
                detail = (
                    f"qemu exited {code}"
                    if code is not None
                    else f"still running after {POWEROFF_LIMIT}s"
                )
                check("poweroff powers the machine off", off, detail, "poweroff")
        timings["total"] = time.monotonic() - started
        transcript = (f"{oopsed}\n---- booted once more: the kernel oopsed ----\n" if oopsed else "") + console.text()
    applets = list(images.busybox.details.get("applets", []))
    return BootResult(isa, checks, outcome, timings, transcript, command, kernel, images, applets)


def _boot_to_login(command: list[str], stack: ExitStack) -> tuple[Console, bool, str]:
    """qemu started and waited on to its login prompt; whether it came, and what the console
    printed if a first boot's kernel oopsed before it (then booted once more; see KERNEL_OOPS)."""
    console = stack.enter_context(Console(command))
    up = console.wait_for(LOGIN_PROMPT, LOGIN_LIMIT)
    if up or not KERNEL_OOPS.search(console.text()):
        return console, up, ""
    oopsed = console.text()
    console.__exit__(None, None, None)
    log(f"the kernel oopsed before the login prompt: booting once more ({_tail(console)})")
    console = stack.enter_context(Console(command))
    return console, console.wait_for(LOGIN_PROMPT, LOGIN_LIMIT), oopsed


def _second_boot(oopsed: str) -> str:
    if not oopsed:
        return ""
    lines = [line for line in oopsed.replace("\r", "").splitlines() if line.strip()]
    return "on a second boot: the first one's kernel oopsed before the prompt: " + " | ".join(lines[-3:])[-200:]


def _sourced(outcome: SuiteOutcome, source: str) -> SuiteOutcome:
    tests = [SuiteTest(t.applet, t.name, t.passed, t.detail, source) for t in outcome.tests]
    return SuiteOutcome(dict(outcome.usage), tests, outcome.ended)


def _suite_checks(checks: list[TestResult], outcome: SuiteOutcome, suite: str) -> None:
    for test in outcome.tests:
        status = Status.PASSED if test.passed else Status.FAILED
        evidence = Evidence.FUNCTIONAL if test.passed else Evidence.NONE
        checks.append(
            TestResult(f"{suite}: {test.applet}: {test.name}", status, test.detail, evidence, suite)
        )


def _tail(console: Console) -> str:
    lines = [line for line in console.text().replace("\r", "").splitlines() if line.strip()]
    return " | ".join(lines[-3:])[-300:] or "the console printed nothing"


def boot_table(result: BootResult, user_functional: set[str]) -> str:
    """The checks, the evidence they add to user-mode verification, the times, the transcript."""
    verification = Verification("qemu-system", tuple(result.checks))
    boot_functional = {t.applet for t in result.evidence.tests if t.passed}
    union = user_functional | boot_functional
    times = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
    lines = [
        f"boot of {result.isa.name} on {result.isa.boot_machine}/{result.isa.boot_cpu}: {times}",
        f"applets with functional evidence: {len(user_functional)} in user mode, "
        f"{len(boot_functional)} on the booted system, {len(union)} together "
        f"(of {len(result.applets)}); new here: {', '.join(sorted(boot_functional - user_functional)) or 'none'}",
        f"command: {shlex.join(result.command)}",
        "",
        verification.table(result.isa.name),
        "transcript:",
        result.transcript.replace("\r", ""),
    ]
    return "\n".join(lines)


def boot_report(result: BootResult, user_functional: set[str]) -> BootReport:
    boot_functional = sorted({t.applet for t in result.evidence.tests if t.passed})
    functional = {"boot": boot_functional, "user_mode": len(user_functional),
                  "together": len(user_functional | set(boot_functional)), "of": len(result.applets)}  # fmt: skip
    return BootReport(
        isa=result.isa.name, machine=result.isa.boot_machine, cpu=result.isa.boot_cpu,
        kernel={**result.kernel.source, "sha256": result.kernel.sha256}, images=result.images.sha256,
        system_sha256=result.images.busybox.sha256, command=tuple(result.command),
        verification=Verification("qemu-system", tuple(result.checks)), functional=functional,
        timings=result.timings,
    )  # fmt: skip


def record(result: BootResult, dist: Path) -> Path:
    """boot.txt and boot.json in dist/<isa>/ for a passing boot; for a failing one, the table
    goes to the cache's logs and the error names the first failed check."""
    user = user_functional_applets(result.images.busybox)
    table = boot_table(result, user)
    if not result.passed:
        path = cache_dir() / "logs" / f"boot-{result.isa.name}.txt"
        atomic_write_text(path, table)
        failed = [c for c in result.checks if c.failed]
        raise VerificationError(
            f"boot of {result.isa.name} failed: {len(failed)} of {len(result.checks)} checks, first: "
            f"{failed[0].name}: {failed[0].detail[:200]} (table and transcript: {path})"
        )
    folder = result.isa.name
    report = boot_report(result, user).to_json()
    Dist(dist).install({f"{folder}/boot.txt": (table.encode(), 0o644), f"{folder}/{BOOT_REPORT}": (report.encode(), 0o644)})
    log(
        f"boot of {result.isa.name}: passed {len(result.checks)} checks in {result.timings['total']:.1f}s"
    )
    return dist / folder / BOOT_REPORT


def user_functional_applets(report: BuildReport) -> set[str]:
    """What the system build's own (user-mode) verification proved with a known answer."""
    return system_kind().proven_parts(report)


def proven_boot(dist: Path, images: FirmwareImages, kernel: Kernel) -> BootReport | None:
    """The boot report in dist/<isa>/ if it proves these very images with this very kernel
    (a passing boot of the same bytes: reproducible images make this common)."""
    data = Dist(dist).read(f"{images.isa.name}/{BOOT_REPORT}")
    try:
        report = BootReport.from_json(data.decode(errors="replace")) if data is not None else None
    except ReportError:
        return None
    return report if report is not None and report.proves(images.sha256, kernel.sha256) else None
