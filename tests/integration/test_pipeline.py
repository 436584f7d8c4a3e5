"""The whole path for real: zig compiles, the ELF is checked, qemu runs it in docker or directly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from musltool.build import BuildOptions, build
from musltool.errors import VerificationError
from musltool.isa import ISAS, get_isa
from musltool.recipes import SmokeTest, load_recipe, recipe_for_sources

ROOT = Path(__file__).resolve().parents[2]
ISA_NAMES = [isa.name for isa in ISAS]


@pytest.mark.parametrize("runner", ["docker", "qemu"])
@pytest.mark.parametrize("recipe_name", ["hello", "musl-claims"])
@pytest.mark.parametrize("isa_name", ISA_NAMES)
def test_recipe_builds_and_verifies(tmp_path, isa_name, recipe_name, runner):
    isa = get_isa(isa_name)
    result = build(load_recipe(recipe_name), isa, BuildOptions(runner=runner, dist=tmp_path))
    report = json.loads((tmp_path / isa_name / f"{recipe_name}.json").read_text())
    assert result.binary == tmp_path / isa_name / recipe_name
    assert report["verification"] == {**report["verification"], "runner": runner, "passed": True}
    assert all(check["ok"] for check in report["checks"])
    assert report["toolchain"]["provider"] == "zig"
    assert report["size"] == result.binary.stat().st_size


def test_hello_prints_the_emulated_machine(tmp_path):
    build(load_recipe("hello"), get_isa("armv7"), BuildOptions(runner="docker", dist=tmp_path))
    direct = subprocess.run(
        ["qemu-arm-static", tmp_path / "armv7" / "hello"], capture_output=True, text=True
    )
    assert direct.stdout == "armv7l\n"


def test_unchanged_inputs_rebuild_nothing(tmp_path, capsys):
    options = BuildOptions(runner="qemu", dist=tmp_path)
    first = build(load_recipe("hello"), get_isa("riscv64"), options)
    before = first.binary.stat().st_mtime_ns
    second = build(load_recipe("hello"), get_isa("riscv64"), options)
    assert not first.up_to_date
    assert second.up_to_date
    assert second.binary.stat().st_mtime_ns == before
    assert "up to date" in capsys.readouterr().err


def test_build_command_recipe(tmp_path):
    result = build(load_recipe("crc32"), get_isa("aarch64"), BuildOptions(dist=tmp_path))
    assert result.report["verification"]["passed"]
    assert result.report["flags"]["command"] == "make crc32"


def test_crashing_binary_fails_verification_and_leaves_nothing(tmp_path):
    source = tmp_path / "crash.c"
    source.write_text("int main(void) { volatile int *p = 0; return *p; }\n")
    dist = tmp_path / "dist"
    for runner in ("docker", "qemu"):
        with pytest.raises(VerificationError, match="SIGSEGV"):
            build(
                recipe_for_sources([str(source)]),
                get_isa("aarch64"),
                BuildOptions(runner=runner, dist=dist),
            )
    assert not any(p.is_file() for p in dist.rglob("*"))


def test_wrong_output_fails_verification(tmp_path):
    recipe = load_recipe("hello")
    lying = type(recipe)(**{**recipe.__dict__, "smoke": (SmokeTest("lie", stdout="sparc\n"),)})
    with pytest.raises(VerificationError, match="expected 'sparc\\\\n'"):
        build(lying, get_isa("x86_64"), BuildOptions(runner="docker", dist=tmp_path))
    assert not (tmp_path / "x86_64" / "hello").exists()


def test_user_sources_without_recipe(tmp_path):
    main = tmp_path / "main.c"
    util = tmp_path / "util.c"
    main.write_text(
        '#include <stdio.h>\nint twice(int);\nint main(void){printf("%d\\n", twice(21));return 0;}\n'
    )
    util.write_text("int twice(int x) { return 2 * x; }\n")
    result = build(
        recipe_for_sources([str(main), str(util)]),
        get_isa("riscv64"),
        BuildOptions(dist=tmp_path / "d"),
    )
    assert result.binary.name == "main"
    out = subprocess.run(["qemu-riscv64-static", result.binary], capture_output=True, text=True)
    assert out.stdout == "42\n"


def invoke(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT):
    import os

    return subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(ROOT), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("build", "--arch", "sparc"), 2, "unknown ISA 'sparc'"),
        (("build", "--recipe", "nope"), 2, "unknown recipe 'nope'"),
        (("build", "--src", "/no/such.c"), 2, "source file not found"),
        (("build", "--toolchain", "tcc"), 2, "unknown toolchain 'tcc'"),
        (("build", "--runner", "vm"), 2, "unknown runner 'vm'"),
    ],
)
def test_bad_input_is_one_line(args, code, words, tmp_path):
    proc = invoke(*args, "--dist", str(tmp_path))
    assert proc.returncode == code
    assert proc.stderr.count("\n") == 1 and words in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for isa in ISA_NAMES:
        if "ISA" in words:
            assert isa in proc.stderr


def test_missing_docker_is_one_line(tmp_path):
    proc = invoke(
        "build", "--runner", "docker", "--dist", str(tmp_path),
        env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"},
    )  # fmt: skip
    assert proc.returncode == 3
    assert "docker daemon not available" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_compiler_error_is_one_line(tmp_path):
    broken = tmp_path / "broken.c"
    broken.write_text("int main(void) { return undefined_thing; }\n")
    proc = invoke("build", "--src", str(broken), "--dist", str(tmp_path / "d"))
    assert proc.returncode == 5
    assert "undefined_thing" in proc.stderr and "Traceback" not in proc.stderr
    assert not any((tmp_path / "d").rglob("broken*"))


def test_every_task_option_is_explained():
    listing = invoke("--list")
    for name in ("build", "toolchain.env", "doctor", "setup", "isas", "test"):
        assert name in listing.stdout
    help_text = invoke("build", "--help").stdout
    for option in (
        "--arch",
        "--recipe",
        "--src",
        "--toolchain",
        "--runner",
        "--applets",
        "--config",
    ):
        assert option in help_text


def test_toolchain_env_exports_a_usable_compiler(tmp_path):
    proc = invoke("toolchain.env", "--arch", "arm64")
    assert proc.returncode == 0
    script = proc.stdout + f"\n$CC $CFLAGS -o {tmp_path}/h {ROOT}/recipes/hello/hello.c $LDFLAGS\n"
    subprocess.run(["sh", "-c", script], check=True)
    out = subprocess.run(["qemu-aarch64-static", tmp_path / "h"], capture_output=True, text=True)
    assert out.stdout == "aarch64\n"
    assert "export CROSS_COMPILE=" in proc.stdout and "aarch64-linux-musl-" in proc.stdout
