"""BusyBox's own testsuite (`testsuite/` in the same source tarball) run against a build.

It runs as upstream's `make check` does: the host's shell runs `testsuite/runtest` with the
built binary and its .config one folder up; a foreign ISA's binary runs through binfmt
(qemu-user). Tests write into their folder and some mount or chroot as root, so the run is
sandboxed with bubblewrap: the host read-only, a private /tmp, no network, its own PID and
IPC namespaces. Results are PASS / FAIL / SKIPPED / UNTESTED per test; the recipe keeps a
reviewed list of expected failures per version, each with its cause, and any other failure
fails verification.

Given the build's applets, the run is split into SHARDS runs of `runtest APPLET...` side by side
in the one sandbox, each in a copy of the testsuite of its own: much of a run is waiting
(network timeouts, sleeps, emulated process starts), and each applet's tests still run in
upstream's order. `runtest` with no applet named runs exactly "busybox" and the applets the
binary has, which the shards share out.
"""

from __future__ import annotations

import re
import shlex
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musltool.hostparts import require_program
from musltool.owners import temp_prefix
from musltool.process import call
from musltool.report import Evidence, Status, TestResult

SOURCE = "upstream testsuite"
LINE = re.compile(r"^(PASS|FAIL|SKIPPED|UNTESTED): (.+)$", re.M)
RUN_LIMIT = 1800  # seconds for the whole testsuite of one ISA
SHARDS = 2
# The host tools the testsuite uses besides the applets (its helper echo is built with gcc).
HOST_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class UpstreamTest:
    name: str
    outcome: str  # PASS | FAIL | SKIPPED | UNTESTED


def parse_runtest(output: str) -> list[UpstreamTest]:
    return [UpstreamTest(name.strip(), outcome) for outcome, name in LINE.findall(output)]


def applet_of(test_name: str, applets: list[str]) -> str | None:
    """The applet a test is about, from its name's first word ('sed NUL in command',
    'date-timezone', 'tar-handles-empty-include-and-exclude-lists'); None when unclear."""
    known = set(applets)
    words = test_name.split()
    if not words:
        return None
    first = words[0]
    if first in known:
        return first
    head = first.split("-", 1)[0]
    return head if head in known else None


# The sandbox's own host name and hosts file: hostname -f, -d, -i and -s give the same answers
# on every machine (a build host whose name resolves nowhere made them fail).
SANDBOX_HOSTNAME = "musltool"
SANDBOX_HOSTS = f"127.0.0.1\tlocalhost\n127.0.1.1\t{SANDBOX_HOSTNAME}.musltool.test\t{SANDBOX_HOSTNAME}\n"


def require_sandbox() -> str:
    """bwrap: the upstream testsuite runs sandboxed."""
    return require_program("bwrap")


def files_in(src: Path, test_files: Mapping[str, str]) -> dict[str, str]:
    """Those of `test_files` (file -> why) this source's testsuite has."""
    return {name: why for name, why in test_files.items() if (src / "testsuite" / name).is_file()}


def shard_applets(applets: list[str], count: int = SHARDS, seconds: Mapping[str, float] | None = None) -> list[list[str]]:
    """"busybox" and the applets dealt out to `count` shards: the slow ones (`seconds`, the
    recipe's measured times) first, each to the shard with the fewest seconds so far, then the
    rest in turn, so that the shards run about as long; each shard keeps `runtest`'s order."""
    seconds = {name: time for name, time in (seconds or {}).items() if name in applets}
    loads, shards = [0.0] * count, [[] for _ in range(count)]
    for name in sorted(seconds, key=lambda name: (-seconds[name], name)):
        least = loads.index(min(loads))
        loads[least] += seconds[name]
        shards[least].append(name)
    rest = sorted({"busybox", *applets} - set(seconds))
    for index, name in enumerate(rest):
        shards[index % count].append(name)
    ordered = [sorted(shard, key=lambda name: (name != "busybox", name)) for shard in shards]
    return [shard for shard in ordered if shard]


def _testsuite_copy(folder: Path, src: Path, binary: Path, config: str, left_out: tuple[str, ...]) -> None:
    """What `runtest` needs, as `make check` has it: testsuite/, the binary and .config one
    folder up, and scripts/echo.c (its helper echo)."""
    shutil.copytree(src / "testsuite", folder / "testsuite", symlinks=True)
    for test_file in left_out:
        (folder / "testsuite" / test_file).unlink()
    (folder / "scripts").mkdir()
    shutil.copyfile(src / "scripts" / "echo.c", folder / "scripts" / "echo.c")
    shutil.copyfile(binary, folder / "busybox")
    (folder / "busybox").chmod(0o755)
    (folder / ".config").write_text(config)


def run_testsuite(
    src: Path, binary: Path, config: str, env: Mapping[str, str], left_out: tuple[str, ...] = (),
    applets: list[str] | None = None, seconds: Mapping[str, float] | None = None,
) -> tuple[list[UpstreamTest], str]:
    """Run `runtest` of the source's testsuite against `binary` in a sandbox; the results and
    the output's tail (for a run that ended early). Test files named in `left_out` ('bc.tests')
    are not run. With `applets` (the binary's), the run is split into shards run side by side
    (`seconds`: the slow test files' times, to spread them); without, one `runtest` runs all."""
    bwrap = require_sandbox()
    slow = {name: time for name, time in (seconds or {}).items() if f"{name}.tests" not in left_out}
    shards = shard_applets(applets, SHARDS, slow) if applets else [[]]
    with tempfile.TemporaryDirectory(prefix=temp_prefix("upstream")) as tmp:
        work = Path(tmp)
        hosts = work / "hosts"
        hosts.write_text(SANDBOX_HOSTS)
        runs = []
        for index, names in enumerate(shards):
            folder = work / f"shard{index}"
            _testsuite_copy(folder, src, binary, config, left_out)
            runtest = " ".join(["./runtest", *map(shlex.quote, names)])
            runs.append(f"(cd {shlex.quote(str(folder / 'testsuite'))} && exec {runtest}) >{shlex.quote(str(folder / 'output'))} 2>&1 &")
        sandbox = [
            bwrap, "--ro-bind", "/", "/", "--tmpfs", "/tmp", "--bind", str(work), str(work),
            "--dev", "/dev", "--proc", "/proc", "--unshare-net", "--unshare-pid",
            "--unshare-ipc", "--unshare-uts", "--hostname", SANDBOX_HOSTNAME, "--ro-bind", str(hosts), "/etc/hosts",
            "--die-with-parent", "--chdir", str(work),
        ]  # fmt: skip
        # Tests run "$SHELL -c ...": set it, whatever the caller's environment has
        guest = {"PATH": HOST_PATH, "LC_ALL": "C", "TZ": "UTC", "HOME": "/tmp", "SHELL": "/bin/sh", **env}
        done = call([*sandbox, "/bin/sh", "-c", "\n".join([*runs, "wait"])], env=guest, timeout=RUN_LIMIT,
                    merge_stderr=True)  # fmt: skip
        outputs = [work / f"shard{i}" / "output" for i in range(len(shards))]
        # the shards' reports in turn, then what the sandbox itself said (bwrap's errors)
        parts = [*(f.read_bytes() for f in outputs if f.is_file()), done.stdout]
        output = b"".join(part if part.endswith(b"\n") else part + b"\n" for part in parts if part)
    text = output.decode(errors="replace")
    tests = parse_runtest(text)
    if done.timed_out:  # a run cut short must not pass on the tests it got through
        tests.append(UpstreamTest(f"the testsuite ends within {RUN_LIMIT} s", "FAIL"))
    return tests, text[-2000:]


def upstream_results(
    tests: list[UpstreamTest], expected: Mapping[str, str], applets: list[str], tail: str,
    left_out: Mapping[str, str] | None = None,
) -> tuple[list[TestResult], list[tuple[str, str, bool]]]:
    """One result per test and a summary, plus (applet, test, passed) records that count as
    evidence for the applet (expected failures are not counted either way); a not-testable
    line per test file left out (file -> why)."""
    results: list[TestResult] = []
    evidence: list[tuple[str, str, bool]] = []
    counts = {"passed": 0, "failed": 0, "expected failures": 0, "skipped": 0}
    for test in tests:
        name = f"upstream: {test.name}"
        reason = expected.get(test.name)
        applet = applet_of(test.name, applets)
        if test.outcome == "PASS":
            counts["passed"] += 1
            detail = f"listed as an expected failure ({reason}), passed: the list can lose it" if reason else ""
            results.append(TestResult(name, Status.PASSED, detail, Evidence.FUNCTIONAL, SOURCE))
            if applet:
                evidence.append((applet, test.name, True))
        elif test.outcome == "FAIL" and reason:
            counts["expected failures"] += 1
            results.append(TestResult(name, Status.EXPECTED_FAILURE, reason, Evidence.NONE, SOURCE))
        elif test.outcome == "FAIL":
            counts["failed"] += 1
            results.append(TestResult(name, Status.FAILED, "not on the reviewed list of expected failures", Evidence.NONE, SOURCE))
            if applet:
                evidence.append((applet, test.name, False))
        else:
            counts["skipped"] += 1
            why = "skipped by the testsuite: it needs an option this configuration does not have"
            results.append(TestResult(name, Status.NOT_TESTABLE, why, Evidence.NONE, SOURCE))
    summary = ", ".join(f"{n} {what}" for what, n in counts.items())
    if left_out:
        summary += f", {len(left_out)} test files not run under emulation ({' '.join(left_out)})"
    if not tests:
        status, summary = Status.FAILED, f"the testsuite reported nothing: {tail.strip()[-300:]}"
    else:
        status = Status.FAILED if counts["failed"] else Status.PASSED
    results.insert(0, TestResult("upstream testsuite", status, summary, Evidence.FUNCTIONAL if status is Status.PASSED else Evidence.NONE, SOURCE))
    for test_file, why in (left_out or {}).items():
        results.append(TestResult(f"upstream: {test_file} (not run under emulation)", Status.NOT_TESTABLE, why, Evidence.NONE, SOURCE))
    return results, evidence


# ---------------------------------------------------------------- the recipe's reviewed lists


def all_text(table: dict[str, Any]) -> str | None:
    bad = [k for k, v in table.items() if not isinstance(v, str) or not v.strip()]
    return f"{bad[0]}: the reason must be text" if bad else None


def all_numbers(table: dict[str, Any]) -> str | None:
    bad = [k for k, v in table.items() if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0]
    return f"{bad[0]}: must be a number of seconds above 0" if bad else None


def text_tables(table: dict[str, Any]) -> str | None:
    for version, inner in table.items():
        problem = all_text(inner) if isinstance(inner, dict) else "must be a table"
        if problem:
            return f"{version}: {problem}"
    return None


def byte_order_tables(table: dict[str, Any]) -> str | None:
    for order, inner in table.items():
        problem = text_tables(inner) if order in ("big", "little") and isinstance(inner, dict) else (
            "keys are byte orders (big, little) holding tables of versions")
        if problem:
            return f"{order}: {problem}"
    return None


def expected_failures(data: dict[str, Any], version: str, byte_order: str) -> dict[str, str]:
    """The recipe's reviewed upstream failures for this version: those of every ISA, and
    those of ISAs of this byte order (tests that assume the other one)."""
    by_order = data.get("upstream_expected_failures_by_byte_order", {}).get(byte_order, {})
    return {**data.get("upstream_expected_failures", {}).get(version, {}), **by_order.get(version, {})}
