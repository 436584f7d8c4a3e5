"""The 17 safety bugs found by running musltool as a new user would (and its weak spots),
each reproduced the way it was found, through the command line, with real builds, qemu and
docker. Each of these tests failed on the code before the fix.

Every case runs among someone else's files (tests/sentinel.py) where it could touch them: a
fake $HOME, a fake /etc, sibling folders of user files, hashed before and after.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT, invoke
from tests.integration.helpers import all_session_objects, any_process, one_line
from tests.sentinel import World, snapshot

HELLO = '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n'
FAILS = "int main(void) { return 1; }\n"
SLEEPS = "#include <unistd.h>\nint main(void) { sleep(20); return 0; }\n"
# Prints argv[1] bytes of 'x' (nothing without an argument): verification runs it bare.
PRINTS = ('#include <stdio.h>\n#include <stdlib.h>\nint main(int c, char **v) {\n'
          '  long long n = c > 1 ? atoll(v[1]) : 0; static char b[65536];\n'
          '  for (int i = 0; i < 65536; i++) b[i] = 120;\n'
          '  while (n > 0) { long long k = n < 65536 ? n : 65536; fwrite(b, 1, k, stdout); n -= k; }\n'
          '  return 0; }\n')  # fmt: skip
# Leaves a daemon behind (setsid and a double fork) that holds stdout for 300 s.
DAEMON = ('#include <stdio.h>\n#include <unistd.h>\n#include <sys/wait.h>\nint main(void) {\n'
          '  pid_t p = fork();\n  if (p == 0) { setsid(); if (fork() == 0) { sleep(300); return 0; } return 0; }\n'
          '  waitpid(p, 0, 0); puts("parent done"); return 0; }\n')  # fmt: skip
# Copies stdin to stdout byte for byte; with an argument, reads one line and exits.
CAT = ('#include <stdio.h>\nint main(int c, char **v) {\n  int ch;\n'
       '  while ((ch = getchar()) != EOF) { putchar(ch); if (c > 1 && ch == 10) break; }\n  return 0; }\n')  # fmt: skip


def source(tmp_path: Path, name: str, code: str) -> Path:
    path = tmp_path / f"{name}.c"
    path.write_text(code)
    return path


def built(tmp_path: Path, name: str, code: str, arch: str = "x86_64") -> Path:
    """A verified static binary of `code` (through `invoke build --src`)."""
    dist = tmp_path / f"dist-{name}"
    proc = invoke("build", "--src", str(source(tmp_path, name, code)), "--arch", arch, "--dist", str(dist))
    assert proc.returncode == 0, proc.stderr
    return dist / arch / name


@pytest.fixture
def world(tmp_path) -> World:
    return World.make(tmp_path / "world")


# ---------------------------------------------------------------- 1. clean and a used --dist


def test_1_clean_removes_only_what_the_build_wrote_in_a_folder_of_photos(world):
    folder = world.siblings / "photos"
    proc = invoke("build", "--arch", "x86_64", "--dist", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert invoke("clean", "--dist", str(folder)).returncode == 0
    assert not (folder / "x86_64").exists()
    assert world.changed() == {}


def test_1_clean_refuses_the_home_folder_and_the_checkout(world):
    env = {"HOME": str(world.home)}
    assert invoke("build", "--arch", "x86_64", "--dist", str(world.home), env=env).returncode == 0
    one_line(invoke("clean", "--dist", str(world.home), env=env), 2, "it is your home folder")
    one_line(invoke("clean", "--dist", "."), 2, "it is a checkout's root")  # cwd is musltool's checkout
    assert (world.home / "notes.txt").is_file() and (ROOT / ".git").exists()


# ---------------------------------------------------------------- 2, 6, 15: overlays


@pytest.fixture
def busybox_dist(shared, tmp_path) -> Path:
    dist = tmp_path / "bb"
    shutil.copytree(shared.dist("busybox", "x86_64"), dist)
    return dist


@pytest.mark.parametrize("target", ["absolute", "relative"])
def test_2_an_overlay_symlink_never_makes_musltool_write_on_the_host(world, busybox_dist, target):
    overlay = world.mine / "ov"
    overlay.mkdir()
    victim = world.etc if target == "absolute" else Path(os.path.relpath(world.etc, overlay))
    (overlay / "etc").symlink_to(victim)
    proc = invoke("boot", "--arch", "x86_64", "--dist", str(busybox_dist), "--overlay", str(overlay))
    one_line(proc, 2, "etc is a symlink, but the image has a folder there")
    assert world.changed() == {}


def firmware_images(dist: Path, overlay: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """build_images in a child with 2 GiB of address space and a time limit: reading a FIFO
    hangs, reading /dev/zero eats memory."""
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from pathlib import Path\nfrom musltool.firmware.tree import build_images\nfrom musltool.isa import get_isa\n"
        f"images = build_images(Path({str(dist)!r}), get_isa('x86_64'), [], Path({str(overlay)!r}), None)\n"
        "print(images.initramfs)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip


def cpio_entries(path: Path) -> dict[str, tuple[int, int, int]]:
    """name -> (mode, rdev major, rdev minor) of a gzip'd newc archive."""
    data = gzip.decompress(path.read_bytes())
    found, at = {}, 0
    while True:
        fields = [int(data[at + 6 + 8 * i : at + 14 + 8 * i], 16) for i in range(13)]
        name_size, file_size = fields[11], fields[6]
        name = data[at + 110 : at + 110 + name_size - 1].decode()
        if name == "TRAILER!!!":
            return found
        found[name] = (fields[1], fields[9], fields[10])
        at = (at + 110 + name_size + 3) & ~3
        at = (at + file_size + 3) & ~3


@pytest.mark.parametrize("node", ["fifo", "zero"])
def test_6_a_fifo_or_a_device_in_an_overlay_is_recorded_never_read(world, busybox_dist, node):
    overlay = world.mine / "ov"
    (overlay / "srv").mkdir(parents=True)
    if node == "fifo":
        os.mkfifo(overlay / "srv" / "node")
    else:
        os.mknod(overlay / "srv" / "node", 0o640 | stat.S_IFCHR, os.makedev(1, 5))
    try:
        proc = firmware_images(busybox_dist, overlay)
    except subprocess.TimeoutExpired:
        pytest.fail(f"building the images hung on the overlay's {node}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    mode, major, minor = cpio_entries(Path(proc.stdout.strip()))["srv/node"]
    if node == "fifo":
        assert stat.S_ISFIFO(mode)
    else:
        assert stat.S_ISCHR(mode) and (major, minor) == (1, 5) and stat.S_IMODE(mode) == 0o640


def test_15_an_overlay_with_tmp_and_root_keeps_their_modes_and_its_setuid_bits(world, busybox_dist):
    overlay = world.mine / "ov"
    for folder in ("tmp", "root", "usr/bin"):
        (overlay / folder).mkdir(parents=True)
        (overlay / folder).chmod(0o755)
    (overlay / "usr/bin/su-helper").write_text("#!/bin/sh\n")
    (overlay / "usr/bin/su-helper").chmod(0o4755)
    proc = firmware_images(busybox_dist, overlay)
    assert proc.returncode == 0, proc.stderr[-2000:]
    entries = cpio_entries(Path(proc.stdout.strip()))
    assert stat.S_IMODE(entries["tmp"][0]) == 0o1777
    assert stat.S_IMODE(entries["root"][0]) == 0o700
    assert stat.S_IMODE(entries["usr/bin/su-helper"][0]) == 0o4755


# ---------------------------------------------------------------- 3. a failed rebuild


def test_3_a_failed_rebuild_keeps_the_previous_good_build_and_every_other(tmp_path):
    dist = tmp_path / "dist"
    good, bad = source(tmp_path, "good", HELLO), source(tmp_path, "bad", FAILS)
    for name in ("tool.v2", "tool"):
        assert invoke("build", "--src", str(good), "--name", name, "--arch", "x86_64", "--dist", str(dist)).returncode == 0
    before = snapshot(dist)
    proc = invoke("build", "--src", str(bad), "--name", "tool", "--arch", "x86_64", "--dist", str(dist))
    one_line(proc, 7, "failed verification")
    assert snapshot(dist) == before  # tool (the previous good build) and tool.v2 untouched
    one_line(invoke("build", "--src", str(good), "--name", "*", "--dist", str(dist)), 2, "glob character")
    assert snapshot(dist) == before


# ---------------------------------------------------------------- 4. running builds elsewhere


@pytest.mark.serial
def test_4_clean_and_doctor_beside_two_running_builds_break_neither(tmp_path):
    """Two builds in two checkouts verify in docker; meanwhile a third checkout runs clean and
    doctor. Neither build is touched: both finish verified."""
    builds = []
    for name in ("a", "b"):
        checkout = tmp_path / f"checkout-{name}"
        checkout.mkdir()
        # each its own program: one program's builds take turns on its work folder
        slow = source(checkout, f"slow-{name}", SLEEPS.replace("main(void)", f"main(void) /* {name} */"))
        builds.append(subprocess.Popen(
            [sys.executable, "-m", "invoke", "-r", str(ROOT), "build", "--src", str(slow), "--arch", "aarch64",
             "--runner", "docker", "--dist", str(checkout / "dist")],
            cwd=checkout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))  # fmt: skip
    deadline = time.monotonic() + 300
    while len(all_session_objects()[0]) < 2:
        assert time.monotonic() < deadline and all(b.poll() is None for b in builds), "the builds never verified"
        time.sleep(0.2)
    other = tmp_path / "checkout-c"
    other.mkdir()
    cleaned = invoke("clean", "--dist", str(other / "dist"), cwd=other)
    doctor = invoke("doctor", cwd=other)
    results = [b.communicate(timeout=300) for b in builds]
    assert cleaned.returncode == 0 and "leftover" not in cleaned.stdout, cleaned.stdout
    assert "[ok] leftovers of killed runs: none" in doctor.stdout, doctor.stdout
    assert doctor.returncode == 0, doctor.stdout
    for build, (_, err) in zip(builds, results, strict=True):
        assert build.returncode == 0, err


# ---------------------------------------------------------------- 5. the cache marker


def test_5_a_cache_folder_of_the_users_is_never_claimed_nor_removed(world):
    folder = world.mine / "d"  # holds only src/, a name musltool's cache has too
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "main.c").write_text("the user's code")
    before = snapshot(folder)
    env = {"MUSLTOOL_CACHE": str(folder)}
    doctor = invoke("doctor", env=env)
    assert "[missing] cache:" in doctor.stdout and "holds files musltool did not make" in doctor.stdout
    one_line(invoke("clean", "--cache", "--dist", str(world.mine / "none"), env=env), 2, "is not musltool's cache")
    assert snapshot(folder) == before and world.changed() == {}


# ---------------------------------------------------------------- 7, 12, 13, 16: invoke run


def test_7_run_streams_its_output_and_stops_a_printer_at_the_limit(tmp_path):
    """200 MB of output: passed through as it comes, cut at 64 MiB, never held in memory."""
    program = built(tmp_path, "prints", PRINTS)
    out = tmp_path / "out"
    code = (
        "import resource, subprocess, sys\n"
        f"with open({str(out)!r}, 'wb') as out:\n"
        f"    proc = subprocess.run([sys.executable, '-m', 'invoke', '-r', {str(ROOT)!r}, 'run', '--runner', 'qemu',"
        f" '--timeout', '120', '--', {str(program)!r}, '200000000'], stdout=out, stderr=subprocess.PIPE)\n"
        "print(proc.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stderr.write(proc.stderr.decode())\n"
    )
    measured = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    returncode, max_rss_kb = map(int, measured.stdout.split())
    assert returncode == 255, measured.stderr
    assert "printed more than 64 MiB: stopped, output cut there" in measured.stderr
    assert out.stat().st_size == 64 << 20
    assert max_rss_kb < 400_000, f"{max_rss_kb} kB: the output was held in memory"


def test_12_stdin_is_passed_as_bytes_and_streamed(tmp_path):
    program = built(tmp_path, "cat", CAT)
    raw = bytes(range(256)) + b"\xff\xfe not utf-8\n"
    proc = subprocess.run([sys.executable, "-m", "invoke", "-r", str(ROOT), "run", "--runner", "qemu", "--",
                           str(program)], input=raw, capture_output=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == raw
    # A program that reads one line and ends: the run ends with it, though stdin stays open.
    run = subprocess.Popen([sys.executable, "-m", "invoke", "-r", str(ROOT), "run", "--runner", "qemu", "--",
                            str(program), "one-line"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)  # fmt: skip
    assert run.stdin is not None
    run.stdin.write(b"first\n")
    run.stdin.flush()
    try:
        out, err = _wait_with_open_stdin(run)
    finally:
        run.stdin.close()
    assert run.returncode == 0, err
    assert out == b"first\n"


def _wait_with_open_stdin(proc: subprocess.Popen[bytes], limit: float = 60) -> tuple[bytes, bytes]:
    """Wait for `proc` without closing its stdin; its output afterwards."""
    output: list[bytes] = []
    reader = threading.Thread(target=lambda: output.extend([proc.stdout.read(), proc.stderr.read()]))  # type: ignore[union-attr]
    reader.start()
    try:
        proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("run waited for stdin to close, though the program had ended")
    reader.join(10)
    return output[0], output[1]


@pytest.mark.parametrize("value", ["abc", "0.5", "0", "-5", ""])
def test_13_a_timeout_that_is_not_whole_seconds_is_one_line(value):
    one_line(invoke("run", "--timeout", value, "--", "/bin/true"), 2, "give whole seconds, 1 or more")


@pytest.mark.parametrize("guest", ["prog", "tmp/x", ".musltool/helper", "etc/hosts"])
def test_16_a_file_may_not_take_the_place_of_the_program_or_the_sessions_own(tmp_path, guest):
    program = built(tmp_path, "prog", HELLO)
    decoy = tmp_path / "decoy"
    decoy.write_text("#!/bin/sh\necho replaced\n")
    proc = invoke("run", "--runner", "qemu", "--file", f"{decoy}:{guest}", "--", str(program))
    one_line(proc, 2, "that place is")


# ---------------------------------------------------------------- 8. daemons


@pytest.mark.parametrize("runner", ["qemu", "docker"])
def test_8_a_daemon_the_program_leaves_ends_with_the_run(tmp_path, runner):
    # a name of its own: the other runner's case and the verification case below leave daemons
    # of their own, and another worker may run them at the same time
    program = built(tmp_path, f"daemon-{runner}", DAEMON, arch="riscv64")
    started = time.monotonic()
    proc = invoke("run", "--runner", runner, "--timeout", "60", "--", str(program))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "parent done\n"
    assert time.monotonic() - started < 45
    time.sleep(1)
    assert not any_process(str(program.name) + "\0") and not any_process(f"/{program.name} ")


def test_8_verification_of_a_program_that_leaves_a_daemon_is_not_a_timeout(tmp_path):
    started = time.monotonic()
    proc = invoke("build", "--src", str(source(tmp_path, "daemon-verified", DAEMON)), "--arch", "aarch64",
                  "--runner", "qemu", "--dist", str(tmp_path / "d"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 90


# ---------------------------------------------------------------- 9. headers


def test_9_an_edited_header_rebuilds_a_src_build(tmp_path):
    (tmp_path / "value.h").write_text("#define VALUE 1\n")
    main = source(tmp_path, "main", '#include <stdio.h>\n#include "value.h"\nint main(void) { printf("%d\\n", VALUE); return 0; }\n')
    dist = tmp_path / "dist"
    assert invoke("build", "--src", str(main), "--arch", "x86_64", "--dist", str(dist)).returncode == 0
    (tmp_path / "value.h").write_text("#define VALUE 2\n")
    proc = invoke("build", "--src", str(main), "--arch", "x86_64", "--dist", str(dist))
    assert proc.returncode == 0 and "up to date" not in proc.stderr, proc.stderr
    out = subprocess.run(["qemu-x86_64-static", dist / "x86_64" / "main"], capture_output=True, text=True)
    assert out.stdout == "2\n"


# ---------------------------------------------------------------- 10. versions that are paths


def test_10_a_version_that_climbs_out_of_dist_is_refused_before_any_work(world):
    folder = world.mine / "recipe"
    folder.mkdir()
    (folder / "hello.c").write_text(HELLO)
    (folder / "recipe.toml").write_text(
        'name = "hello"\nversion = "1/../../../x"\nkind = "c"\n[build]\nsources = ["hello.c"]\n'
        '[[verify]]\nstdout = "hi\\n"\n'
    )
    dist = world.mine / "dist"
    proc = invoke("package", "--recipe", str(folder), "--arch", "x86_64", "--dist", str(dist))
    one_line(proc, 2, "version: version '1/../../../x' is not a plain name")
    assert not dist.exists() and world.changed() == {}


# ---------------------------------------------------------------- 11. Invoke config


def musltool_command(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "musltool", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "HOME": str(home)}, timeout=120)  # fmt: skip


def test_11_a_user_config_that_is_a_folder_is_one_line(tmp_path):
    home = tmp_path / "home"
    (home / ".invoke.yaml").mkdir(parents=True)
    one_line(musltool_command("isas", cwd=tmp_path, home=home), 2, f"invalid Invoke config {home / '.invoke.yaml'}: is not a file")


@pytest.mark.parametrize("text", ["musltool: 5\n", "musltool:\n  mirrors: {a: 1}\n", "musltool: [a]\n"])
def test_11_wrongly_typed_musltool_settings_are_one_line_under_both_commands(tmp_path, text):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".invoke.yaml").write_text(text)
    one_line(musltool_command("build", "--dist", str(tmp_path / "d"), cwd=tmp_path, home=home), 2, "invalid Invoke config")
    one_line(invoke("build", "--dist", str(tmp_path / "d"), env={"HOME": str(home)}), 2, "invalid Invoke config")


def test_11_the_musltool_command_reads_invoke_yaml_in_the_current_folder(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "invoke.yaml").write_text("musltool:\n  mirrors: gopher://from-project-yaml\n")
    proc = musltool_command("build", "--recipe", "busybox", "--list-applets", cwd=tmp_path, home=home)
    one_line(proc, 2, "mirror 'gopher://from-project-yaml'")


# ---------------------------------------------------------------- 14. SOURCE_DATE_EPOCH


@pytest.mark.parametrize("epoch", [str(2**32), str(10**20)])
@pytest.mark.parametrize("task", [("build", "--arch", "x86_64"), ("boot", "--arch", "x86_64"), ("rootfs", "--arch", "x86_64")])
def test_14_a_source_date_epoch_no_image_can_hold_is_one_line(tmp_path, epoch, task):
    proc = invoke(*task, "--dist", str(tmp_path / "d"), env={"SOURCE_DATE_EPOCH": epoch})
    one_line(proc, 2, "the last second a cpio, ext4 or tar image can hold")
    assert not (tmp_path / "d").exists()


# ---------------------------------------------------------------- 17. a cache with a space


def test_17_a_cache_path_with_a_space_is_refused_in_one_line(tmp_path):
    cache = tmp_path / "my cache"
    proc = invoke("build", "--recipe", "crc32", "--arch", "x86_64", "--dist", str(tmp_path / "d"),
                  env={"MUSLTOOL_CACHE": str(cache)})  # fmt: skip
    one_line(proc, 2, "has a space in its path")
    assert not cache.exists()


# ---------------------------------------------------------------- the weak spots


def test_weak_a_read_only_cache_is_one_line_exit_2(tmp_path):
    """A cache musltool made before, mounted read-only since."""
    cache = tmp_path / "ro-cache"
    cache.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(cache)], check=True)
    assert invoke("doctor", env={"MUSLTOOL_CACHE": str(cache)}).returncode in (0, 1)  # marks it
    subprocess.run(["mount", "-o", "remount,ro", str(cache)], check=True)
    try:
        one_line(invoke("build", "--dist", str(tmp_path / "d"), env={"MUSLTOOL_CACHE": str(cache)}), 2,
                 "cannot be used: Read-only file system")  # fmt: skip
    finally:
        subprocess.run(["umount", str(cache)], check=True)


def test_weak_an_unwritable_output_file_is_exit_2(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(locked)], check=True)
    try:
        one_line(invoke("toolchain.env", "--arch", "x86_64", "--output", str(locked / "env.sh")), 2, "Read-only file system")
    finally:
        subprocess.run(["umount", str(locked)], check=True)


@pytest.mark.parametrize(("args", "words"), [
    (("build", "--bogus"), "No idea what '--bogus' is!"),
    (("build", "--arch"), "needed value and was not given one"),
    (("build", "--src", "x.c", "--name", "a\nb"), "control character"),
    (("toolchain.env", "--libs", ",,"), "names no library"),
])  # fmt: skip
def test_weak_bad_options_are_one_line_exit_2(tmp_path, args, words):
    (tmp_path / "x.c").write_text(HELLO)
    one_line(invoke(*args, cwd=tmp_path), 2, words)


def test_weak_a_garbage_or_foreign_kernel_is_refused_at_once(tmp_path):
    garbage = tmp_path / "garbage"
    garbage.write_bytes(os.urandom(1 << 16))
    started = time.monotonic()
    one_line(invoke("boot", "--arch", "x86_64", "--kernel", str(garbage), "--dist", str(tmp_path)), 2,
             "is not a kernel image qemu-system boots for x86_64")  # fmt: skip
    assert time.monotonic() - started < 30


def test_weak_a_busybox_that_cannot_reach_a_login_prompt_is_refused_before_booting(shared):
    minimal = shared.dist("busybox", "x86_64", config="minimal")
    started = time.monotonic()
    one_line(invoke("boot", "--arch", "x86_64", "--dist", str(minimal)), 2,
             "cannot boot to a login prompt: it lacks")  # fmt: skip
    assert time.monotonic() - started < 30


def test_weak_a_killed_install_leaves_nothing_hidden_for_long(tmp_path):
    """A staging folder of a run that was killed (kill -9 mid-install) goes with the next run."""
    dist = tmp_path / "dist"
    assert invoke("build", "--arch", "x86_64", "--dist", str(dist)).returncode == 0
    stale = dist / ".musltool-staging" / "0000deadbeef.1.1-dead"
    stale.mkdir(parents=True)
    (stale / "0").write_bytes(b"half a binary")
    assert invoke("build", "--arch", "x86_64", "--dist", str(dist), "--force").returncode == 0
    assert not (dist / ".musltool-staging").exists()
    assert sorted(p.name for p in dist.iterdir()) == [".musltool-dist", "x86_64"]
    assert not [p for p in (dist / "x86_64").iterdir() if p.name.startswith(".")]


def test_weak_package_writes_its_files_as_one(tmp_path):
    """Tarballs, SHA256SUMS and the manifest are one transaction: the sums always match."""
    dist = tmp_path / "dist"
    assert invoke("package", "--arch", "x86_64", "--dist", str(dist)).returncode == 0
    sums = dict(line.split("  ")[::-1] for line in (dist / "SHA256SUMS").read_text().splitlines())
    for name, digest in sums.items():
        assert subprocess.run(["sha256sum", dist / name], capture_output=True, text=True).stdout.split()[0] == digest
    record = json.loads((dist / ".musltool-dist").read_text())
    assert {"SHA256SUMS", "hello.manifest.json"} <= set(record["entries"])
    assert "hello-1.0.0-x86_64.tar.gz" in sums and "hello-1.0.0-x86_64.spdx.json" in sums
