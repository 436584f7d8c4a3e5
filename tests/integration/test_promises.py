"""What README promises about the command line, each through the command a user types."""

from __future__ import annotations

import hashlib
import json
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from musltool.dist import Dist
from musltool.errors import DownloadError
from musltool.fetch import FetchOptions, Source, fetch
from musltool.isa import ISAS, runs_natively
from tests.integration.conftest import invoke
from tests.integration.helpers import one_line
from tests.loopback import LoopbackServer

# The names the outside world gives each ISA (musl's triples, zig's targets, Debian's
# qemu-user-static binaries, the OCI platforms), written out here rather than read back from
# the ISA table the command prints: a wrong row in the table fails this.
# tier, musl triple, zig target, qemu-user's -cpu, docker platform: as users see them elsewhere
OUTSIDE_NAMES = {
    "x86_64": ["1", "x86_64-linux-musl", "x86_64-linux-musl", "qemu64", "linux/amd64"],
    "aarch64": ["1", "aarch64-linux-musl", "aarch64-linux-musl", "cortex-a53", "linux/arm64"],
    "armv7": ["1", "armv7-linux-musleabihf", "arm-linux-musleabihf", "cortex-a9,neon=off", "linux/arm/v7"],
    "riscv64": ["1", "riscv64-linux-musl", "riscv64-linux-musl", "rv64,zba=false,zbb=false,zbc=false,zbs=false", "linux/riscv64"],
    "x86": ["2", "i686-linux-musl", "x86-linux-musl", "qemu32,sse3=off", "linux/386"],
    "armv6": ["2", "armv6-linux-musleabihf", "arm-linux-musleabihf", "arm1176", "linux/arm/v6"],
    "ppc64le": ["2", "powerpc64le-linux-musl", "powerpc64le-linux-musl", "power8_v2.0", "linux/ppc64le"],
    "s390x": ["2", "s390x-linux-musl", "s390x-linux-musl", "z900", "linux/s390x"],
    "loongarch64": ["2", "loongarch64-linux-musl", "loongarch64-linux-musl", "la464", "linux/loong64"],
    "mips64el": ["3", "mips64el-linux-musl", "mips64el-linux-muslabi64", "5KEf", "linux/mips64le"],
    "mipsel": ["3", "mipsel-linux-musl", "mipsel-linux-musleabihf", "24Kf", "linux/mipsle"],
}  # fmt: skip


def test_isas_prints_the_table():
    proc = invoke("isas")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    rows = {line.split()[0]: line.split()[1:6] for line in lines[1:] if line[:1].strip() and line.split()[0] in OUTSIDE_NAMES}
    assert rows == OUTSIDE_NAMES
    said = proc.stdout
    assert "oldest CPU: Pentium 4 class" in said and "Debian trixie's qemu-loongarch64 (fetched)" in said
    assert "armhf means armv7 here" in said and "that is armv6 (linux/arm/v6)" in said
    assert all(f"tier {n} proves: " in said for n in (1, 2, 3))


@pytest.mark.serial  # looks at machine-wide state
def test_setup_is_idempotent_with_the_F_flag_and_a_dockerd_without_bridge():
    for _ in range(2):
        proc = invoke("setup", "--no-packages")
        assert proc.returncode == 0, proc.stderr
    foreign = [isa for isa in ISAS if not runs_natively(isa)]  # every row, tier 3 too
    for isa in foreign:
        assert (
            f"{isa.name}: {isa.binfmt_name} (flags" in proc.stderr
            and "already registered" in proc.stderr
        )
        entry = Path("/proc/sys/fs/binfmt_misc", isa.binfmt_name).read_text()
        flags = next(line for line in entry.splitlines() if line.startswith("flags:"))
        assert "F" in flags.split(":", 1)[1], entry  # the interpreter is opened at registration
    networks = subprocess.run(["docker", "network", "ls", "--format", "{{.Name}}"],
                              capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    assert "bridge" not in networks and "none" in networks  # dockerd --bridge=none


@pytest.mark.serial  # doctor counts every musltool container as a leftover
def test_doctor_says_ok_for_every_part():
    proc = invoke("doctor")
    assert proc.returncode == 0, proc.stdout
    for isa in ISAS:
        assert f"[ok] {isa.qemu_binary}:" in proc.stdout
        assert f"[ok] binfmt {isa.name}:" in proc.stdout
        assert not isa.qemu_system or f"[ok] {isa.qemu_system}:" in proc.stdout
    assert "[ok] docker daemon:" in proc.stdout


def test_clean_with_cache_removes_dist_and_the_cache(tmp_path):
    cache, dist = tmp_path / "cache", tmp_path / "dist"
    env = {"MUSLTOOL_CACHE": str(cache)}
    # doctor makes the (marked) cache; its exit code also counts the machine's leftovers,
    # which a test running beside this one (or a killed run) may have left: not this test's
    doctor = invoke("doctor", env=env)
    assert "[ok] cache:" in doctor.stdout and cache.is_dir(), doctor.stdout
    (cache / "downloads").mkdir(exist_ok=True)
    (cache / "downloads" / "something.tar.gz").write_bytes(b"x")
    Dist(dist).install({"x86_64/hello": (b"\x7fELF", 0o755)})  # as a build writes it
    proc = invoke("clean", "--cache", "--dist", str(dist), env=env)
    assert proc.returncode == 0, proc.stderr
    assert not dist.exists() and not cache.exists()


def test_auto_runner_falls_back_to_qemu_and_says_so(tmp_path):
    proc = invoke("build", "--arch", "riscv64", "--dist", str(tmp_path),
                  env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "runner auto: using qemu" in proc.stderr
    report = json.loads((tmp_path / "riscv64" / "hello.json").read_text())
    assert report["verification"]["runner"] == "qemu"


def c_recipe(folder: Path, code: str, verify: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "prog.c").write_text(code)
    (folder / "recipe.toml").write_text(
        f'name = "prog"\nversion = "1"\nkind = "c"\n\n[build]\nsources = ["prog.c"]\n\n{verify}'
    )
    return folder


EXITS_3 = '#include <stdio.h>\nint main(void) { puts("three"); return 3; }\n'


def test_a_verify_exit_code_other_than_0(tmp_path):
    good = c_recipe(tmp_path / "good", EXITS_3, '[[verify]]\nstdout = "three\\n"\nexit_code = 3\n')
    proc = invoke(
        "build", "--recipe", str(good), "--arch", "aarch64", "--dist", str(tmp_path / "d1")
    )
    assert proc.returncode == 0, proc.stderr
    wrong = c_recipe(tmp_path / "wrong", EXITS_3, '[[verify]]\nstdout = "three\\n"\n')
    proc = invoke(
        "build", "--recipe", str(wrong), "--arch", "aarch64", "--dist", str(tmp_path / "d2")
    )
    one_line(proc, 7, "exit 3, expected 0")
    assert not (tmp_path / "d2" / "aarch64" / "prog").exists()


def test_a_dynamic_binary_is_exit_6_through_the_cli(tmp_path):
    folder = tmp_path / "dyn"
    folder.mkdir()
    (folder / "prog.c").write_text(EXITS_3)
    host_cc = shutil.which("gcc")
    assert host_cc, "the host's gcc makes the dynamic binary"
    (folder / "recipe.toml").write_text(
        'name = "dyn"\nversion = "1"\nkind = "command"\n\n'
        f'[build]\ncommand = "{host_cc} -o dyn prog.c"\noutput = "dyn"\n\n'
        '[[verify]]\nstdout = "three\\n"\nexit_code = 3\n'
    )
    proc = invoke(
        "build", "--recipe", str(folder), "--arch", "x86_64", "--dist", str(tmp_path / "d")
    )
    one_line(proc, 6, "dynamically linked")


def test_musltools_nm_reads_binaries_and_archives(tmp_path):
    env = invoke("toolchain.env", "--arch", "armv7").stdout
    (tmp_path / "twice.c").write_text("int twice(int x) { return 2 * x; }\n")
    (tmp_path / "a_rather_long_object_name.c").write_text("int thrice(int x) { return 3 * x; }\n")
    script = env + (
        f"\ncd {tmp_path} && $CC $CFLAGS -c twice.c a_rather_long_object_name.c"
        " && $AR rc libm3.a twice.o a_rather_long_object_name.o && $RANLIB libm3.a && $NM libm3.a\n"
    )
    proc = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "\ntwice.o:\n" in proc.stdout and "\na_rather_long_object_name.o:\n" in proc.stdout
    assert " T twice" in proc.stdout and " T thrice" in proc.stdout
    not_elf = subprocess.run(
        ["sh", "-c", env + f"\n$NM {tmp_path / 'twice.c'}\n"], capture_output=True, text=True
    )
    assert not_elf.returncode == 1 and "file format not recognized" in not_elf.stderr
    assert "Traceback" not in not_elf.stderr


def test_busybox_config_file_builds_exactly_it(shared, tmp_path):
    base = shared.dist("busybox", "x86_64", config="minimal") / "x86_64" / "busybox.config"
    mine = tmp_path / "my.config"
    mine.write_text(base.read_text().replace("# CONFIG_SEQ is not set", "CONFIG_SEQ=y"))
    assert "CONFIG_SEQ=y" in mine.read_text()
    dist = tmp_path / "d"
    proc = invoke(
        "build",
        "--recipe",
        "busybox",
        "--config",
        str(mine),
        "--arch",
        "x86_64",
        "--dist",
        str(dist),
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads((dist / "x86_64" / "busybox.json").read_text())
    assert "seq" in report["details"]["applets"]
    table = (dist / "x86_64" / "busybox.verify.txt").read_text()
    assert (
        "applet seq" in table and "CONFIG_SEQ=y" in (dist / "x86_64" / "busybox.config").read_text()
    )
    listing = invoke("build", "--recipe", "busybox", "--config", str(mine), "--list-applets")
    assert listing.returncode == 0, listing.stderr
    assert "seq" in listing.stdout.split()


def test_offline_from_the_environment_uses_the_cache_only(tmp_path):
    proc = invoke("toolchain.fetch", "--arch", "aarch64", "--toolchain", "bootlin",
                  env={"MUSLTOOL_CACHE": str(tmp_path / "cache"), "MUSLTOOL_OFFLINE": "1"})  # fmt: skip
    one_line(proc, 4, "not cached and MUSLTOOL_OFFLINE is set")


@pytest.fixture
def tls_files(tmp_path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_an_https_mirror_is_used_and_its_certificate_checked(tls_files, tmp_path, monkeypatch):
    cert, key = tls_files
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    payload = b"source tarball" * 1000
    source = Source(
        "https://upstream.invalid/src/tool-1.0.tar.gz", hashlib.sha256(payload).hexdigest()
    )
    with LoopbackServer(tls=context) as server:
        server.files["tool-1.0.tar.gz"] = payload
        assert server.url().startswith("https://127.0.0.1:")
        options = FetchOptions(mirrors=(server.url(),), cache=tmp_path / "untrusted", quiet=True)
        with pytest.raises(DownloadError, match=r"tool-1\.0\.tar\.gz"):
            fetch(source, options)  # a certificate nobody trusts is refused
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        path = fetch(
            source, FetchOptions(mirrors=(server.url(),), cache=tmp_path / "trusted", quiet=True)
        )
    assert path.read_bytes() == payload
    assert server.paths[-1] == "/mirror/tool-1.0.tar.gz"


RUN_ME = """#include <stdio.h>
int main(int argc, char **argv) {
    char line[64] = "";
    FILE *data = fopen("data/in.txt", "r");
    if (data) fgets(line, sizeof line, data);
    printf("%s|%s", argc > 1 ? argv[1] : "-", line);
    return argc + 2;
}
"""


@pytest.mark.parametrize("runner", ["docker", "qemu"])
def test_run_passes_output_and_exit_code_through(shared, tmp_path, runner):
    hello = shared.dist("hello", "riscv64") / "riscv64" / "hello"
    proc = invoke("run", "--arch", "riscv64", "--runner", runner, "--", str(hello))
    assert (proc.returncode, proc.stdout) == (0, "riscv64\n"), proc.stderr

    (tmp_path / "run_me.c").write_text(RUN_ME)
    (tmp_path / "in.txt").write_text("from a file\n")
    env = invoke("toolchain.env", "--arch", "armv7").stdout
    subprocess.run(["sh", "-c", env + f"\ncd {tmp_path} && $CC $CFLAGS -o run_me run_me.c $LDFLAGS\n"], check=True)
    proc = invoke("run", "--runner", runner, "--file", f"{tmp_path / 'in.txt'}:data/in.txt",
                  "--", str(tmp_path / "run_me"), "two words")  # fmt: skip
    assert proc.returncode == 4, proc.stderr  # argc + 2: the program's own exit code
    assert proc.stdout == "two words|from a file\n"

    wrong = invoke("run", "--arch", "aarch64", "--", str(tmp_path / "run_me"))
    one_line(wrong, 6, "built for armv7 or armv6, expected aarch64")  # one machine, class, byte order
    nothing = invoke("run", "--arch", "riscv64")
    one_line(nothing, 2, "give the program to run after --")
