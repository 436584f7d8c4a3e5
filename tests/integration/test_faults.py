"""Faults during real builds: interrupts at each phase, a read-only or full dist/, a failing build
command, a malformed report, a missing emulator, garbage configs, leftovers in docker.

Each ends in one line with the documented exit code (README: "When things go wrong") and leaves
nothing behind: no container or image labelled musltool.session, no process of the run, no
temporary folder, no half-installed build. (Faults that need nothing but Python are in
tests/unit/test_faults.py.)
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from musltool.build import build
from musltool.docker import OWNER_LABEL, SESSION_LABEL, SessionContainer
from musltool.filetree import Tree
from musltool.isa import get_isa
from musltool.kinds.base import BuildOptions
from musltool.recipes import recipe_for_sources
from tests.integration.conftest import ROOT, invoke
from tests.integration.helpers import (
    all_session_objects,
    any_process,
    docker_leftovers,
    one_line,
    processes_in_group,
    temp_folders,
)
from tests.loopback import LoopbackServer

LOOP = "int main(void) { for (;;) ; }\n"
# A 48 MiB initialised array makes a session image that takes docker a while to load.
BIG = "static volatile char blob[48 << 20] = {1};\nint main(void) { return blob[0] - 1; }\n"


def default_interrupt() -> None:
    """A terminal's job gets Ctrl-C's default action; a test run started in the background
    (`cmd &` ignores SIGINT for its children) must not pass that on to the build."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_when(args: list[str], ready: Callable[[], bool], sig: int, env: dict[str, str] | None = None,
                   limit: float = 300) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Start `invoke ARGS`, wait until `ready()` says the phase is running, then send `sig`:
    SIGINT to the process group, as a terminal's Ctrl-C does; SIGTERM to the process, as
    `kill` does."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "invoke", "-r", str(ROOT), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, **(env or {})}, preexec_fn=default_interrupt,
    )  # fmt: skip
    deadline = time.monotonic() + limit
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            out, err = proc.communicate()
            raise AssertionError(f"the phase never came (exit {proc.returncode}): {err[-2000:]}")
        time.sleep(0.005)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)
    else:
        os.kill(proc.pid, sig)
    out, err = proc.communicate(timeout=180)
    remaining = processes_in_group(proc.pid)
    assert not remaining, f"left running: {remaining}"
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def assert_interrupted(proc: subprocess.CompletedProcess[str], sig: int, dist: Path, temps: set[str]) -> None:
    code, word = (130, "interrupted") if sig == signal.SIGINT else (143, "terminated")
    assert proc.returncode == code, proc.stderr
    assert f"musltool: {word}" in proc.stderr and "Traceback" not in proc.stderr
    assert docker_leftovers() == ([], []), "containers or images left in docker"
    assert temp_folders() <= temps, f"temporary folders left: {temp_folders() - temps}"
    assert not dist.exists() or not [p for p in dist.rglob("*") if p.is_file() and p.name != ".musltool-dist"]


SIGNALS = [signal.SIGINT, signal.SIGTERM]
SIGNAL_IDS = ["SIGINT", "SIGTERM"]


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
@pytest.mark.serial
def test_interrupted_download_leaves_no_part_file(sig, tmp_path, mirror_url):
    assert mirror_url
    tarball = Path(mirror_url.removeprefix("file://")) / "busybox-1.37.0.tar.bz2"
    cache = tmp_path / "cache"
    temps = temp_folders()
    with LoopbackServer() as slow:
        slow.files[tarball.name] = tarball.read_bytes()
        slow.stall_after[tarball.name] = 100_000
        slow.stall_seconds = 60
        part = cache / "downloads" / f"{tarball.name}.part"
        proc = interrupt_when(
            ["build", "--recipe", "busybox", "--list-applets"],
            lambda: part.exists() and part.stat().st_size > 0,
            sig,
            env={"MUSLTOOL_CACHE": str(cache), "MUSLTOOL_MIRRORS": slow.url()},
        )
    assert_interrupted(proc, sig, tmp_path / "dist", temps)
    assert [p.name for p in (cache / "downloads").iterdir() if not p.name.endswith(".lock")] == []


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
@pytest.mark.serial
def test_interrupted_compile_stops_make_and_installs_nothing(sig, tmp_path, mirror_url):
    dist = tmp_path / "dist"
    temps = temp_folders()
    # The run's cache (an empty one would first spend a minute compiling zig's libc for
    # musltool's own driver), with applets no other build selects, so make has to compile.
    proc = interrupt_when(
        ["build", "--recipe", "busybox", "--applets", "sh,ls,wc", "--arch", "riscv64", "--force",
         "--dist", str(dist)],
        lambda: any_process("-target riscv64-linux-musl"),
        sig,
        env={"MUSLTOOL_MIRRORS": mirror_url or ""},
    )  # fmt: skip
    assert_interrupted(proc, sig, dist, temps)
    assert not any_process("-target riscv64-linux-musl")


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
@pytest.mark.serial
def test_interrupted_image_load_leaves_no_image(sig, tmp_path):
    source = tmp_path / "big.c"
    source.write_text(BIG)
    dist = tmp_path / "dist"
    build(recipe_for_sources([str(source)]), get_isa("aarch64"), BuildOptions(runner="qemu", dist=tmp_path / "warm"))
    temps = temp_folders()
    proc = interrupt_when(
        ["build", "--src", str(source), "--arch", "aarch64", "--runner", "docker", "--force", "--dist", str(dist)],
        lambda: any_process("docker load"),
        sig,
    )
    assert_interrupted(proc, sig, dist, temps)


@pytest.mark.serial
@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
@pytest.mark.parametrize("runner", ["docker", "qemu"])
def test_interrupted_verification_leaves_no_container_or_emulator(sig, runner, tmp_path):
    source = tmp_path / "loop.c"
    source.write_text(LOOP)
    dist = tmp_path / "dist"
    temps = temp_folders()
    proc = interrupt_when(
        ["build", "--src", str(source), "--arch", "riscv64", "--runner", runner, "--dist", str(dist)],
        lambda: any_process("qemu-riscv64") or any_process("docker exec"),
        sig,
    )
    assert_interrupted(proc, sig, dist, temps)
    time.sleep(0.5)
    assert not any_process("/loop")


def mount_tmpfs(path: Path, options: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True)


@pytest.fixture
def mounts():
    made: list[Path] = []
    yield made
    for path in reversed(made):
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_read_only_dist_is_refused_before_building(tmp_path, mounts):
    dist = tmp_path / "ro"
    mount_tmpfs(dist, "ro,size=1m")
    mounts.append(dist)
    started = time.monotonic()
    proc = invoke("build", "--arch", "x86_64", "--dist", str(dist))
    one_line(proc, 2, f"output folder {dist / 'x86_64'} is not writable")
    assert "building hello" not in proc.stderr and time.monotonic() - started < 30


def test_full_dist_keeps_the_previous_build_whole(tmp_path, mounts):
    dist = tmp_path / "small"
    mount_tmpfs(dist, "size=256k")
    mounts.append(dist)
    first = invoke("build", "--arch", "x86_64", "--dist", str(dist))
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in (dist / "x86_64").iterdir()}
    filler = dist / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=4k", "count=1000"], capture_output=True)
    proc = invoke("build", "--arch", "x86_64", "--dist", str(dist), "--force")
    one_line(proc, 2, "the previous build is unchanged")
    after = {p.name: p.read_bytes() for p in (dist / "x86_64").iterdir()}
    assert after == before  # no temporary file left, the old binary and its report intact
    report = json.loads(before["hello.json"])
    assert report["sha256"] == hashlib.sha256(after["hello"]).hexdigest()


def test_failing_build_command_keeps_its_log_where_the_message_says(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "recipe.toml").write_text(
        'name = "broken"\nversion = "1"\nkind = "command"\n[build]\ncommand = "make"\n'
        'output = "broken"\n[[verify]]\nstdout = ""\n'
    )
    # A compile only: zig compiles its libc for a link even when a source is missing (minutes)
    (folder / "Makefile").write_text("broken:\n\t$(CC) -c -o broken.o no_such_file.c\n")
    proc = invoke("build", "--recipe", str(folder), "--arch", "aarch64", "--dist", str(tmp_path / "d"))
    one_line(proc, 5, "no_such_file.c")
    log = Path(proc.stderr.rsplit("(full log: ", 1)[1].split(")")[0])
    assert log.is_file() and "no_such_file.c" in log.read_text()


def test_malformed_report_in_dist_is_rebuilt(tmp_path):
    dist = tmp_path / "dist"
    assert invoke("build", "--arch", "armv7", "--dist", str(dist)).returncode == 0
    (dist / "armv7" / "hello.json").write_text('{"verification": "yes"}')
    proc = invoke("build", "--arch", "armv7", "--dist", str(dist))
    assert proc.returncode == 0, proc.stderr
    assert "is not a musltool build report" in proc.stderr and "rebuilding" in proc.stderr
    assert json.loads((dist / "armv7" / "hello.json").read_text())["verification"]["passed"]


def test_missing_emulator_is_found_before_compiling(tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    for folder in ("/usr/local/bin", "/usr/bin", "/bin"):
        for tool in Path(folder).iterdir():
            if not tool.name.startswith("qemu-") and not (tools / tool.name).exists():
                (tools / tool.name).symlink_to(tool)
    path = f"{Path(sys.executable).parent}:{tools}"
    proc = invoke("build", "--arch", "riscv64", "--runner", "qemu", "--dist", str(tmp_path / "d"),
                  env={"PATH": path})  # fmt: skip
    one_line(proc, 3, "qemu-riscv64-static not found")
    assert "building hello" not in proc.stderr


def test_missing_docker_is_one_line(tmp_path):
    proc = invoke("build", "--runner", "docker", "--dist", str(tmp_path),
                  env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})  # fmt: skip
    one_line(proc, 3, "docker daemon not available")


def test_compiler_error_is_one_line(tmp_path):
    broken = tmp_path / "broken.c"
    broken.write_text("int main(void) { return undefined_thing; }\n")
    proc = invoke("build", "--src", str(broken), "--dist", str(tmp_path / "d"))
    one_line(proc, 5, "undefined_thing")
    assert not any((tmp_path / "d").rglob("broken*"))


def test_garbage_busybox_config_names_the_line(tmp_path):
    garbage = tmp_path / "my.config"
    garbage.write_text("CONFIG_ASH=y\nthis is not a config\n")
    proc = invoke("build", "--recipe", "busybox", "--config", str(garbage), "--arch", "x86_64",
                  "--dist", str(tmp_path / "d"))  # fmt: skip
    one_line(proc, 2, f"--config {garbage}: line 2 is not a Kconfig line")


def test_image_of_a_busybox_without_the_check_applets_is_one_line(shared, tmp_path):
    import shutil

    dist = tmp_path / "dist"
    shutil.copytree(shared.dist("busybox", "riscv64", applets=("sh", "ls", "awk")), dist)
    proc = invoke("image", "--arch", "riscv64", "--dist", str(dist))
    one_line(proc, 2, "lacks echo, grep")


DEAD_OWNER = "0000deadbeef.1.1"  # a run that is gone: no process 1 started at tick 1


def stray_session(monkeypatch, owner: str) -> SessionContainer:
    """A session container and image as a run with `owner` left them (after kill -9)."""
    import musltool.docker as docker_mod
    from musltool.runners import HELPER_IN_IMAGE, helper_program

    tree = Tree()
    tree.add_file("x", b"x")
    tree.add_dir(".musltool")
    tree.add_file(HELPER_IN_IMAGE, helper_program().read_bytes(), 0o755)
    monkeypatch.setattr(docker_mod, "session_labels", lambda session: {SESSION_LABEL: session, OWNER_LABEL: owner})
    return SessionContainer(tree, get_isa("x86_64"), [f"/{HELPER_IN_IMAGE}", "serve"]).__enter__()


@pytest.mark.serial
def test_doctor_lists_leftovers_and_clean_removes_them(tmp_path, monkeypatch):
    stray = stray_session(monkeypatch, DEAD_OWNER)
    try:
        assert stray.name in all_session_objects()[0]
        doctor = invoke("doctor")
        assert doctor.returncode == 1
        assert f"container {stray.name}" in doctor.stdout and stray.tag in doctor.stdout
        cleaned = invoke("clean", "--dist", str(tmp_path / "none"))
        assert cleaned.returncode == 0, cleaned.stderr
        assert f"removed leftover container {stray.name}" in cleaned.stdout
        assert all_session_objects() == ([], [])
        assert invoke("doctor").returncode == 0
    finally:
        stray.remove()
    assert SESSION_LABEL == "musltool.session"


@pytest.mark.serial
def test_a_session_whose_run_still_goes_is_no_leftover(tmp_path, monkeypatch):
    from musltool.owners import current_owner

    live = stray_session(monkeypatch, current_owner().tag)
    try:
        doctor = invoke("doctor")
        assert live.name not in doctor.stdout, doctor.stdout
        assert invoke("clean", "--dist", str(tmp_path / "none")).returncode == 0
        assert live.name in all_session_objects()[0] and live.tag in all_session_objects()[1]
    finally:
        live.remove()
