"""The whole path for real: zig compiles, the ELF is checked, qemu runs it in docker or directly."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess

import pytest

from musltool.build import build
from musltool.catalog import load_recipe
from musltool.errors import VerificationError
from musltool.isa import ALL, TIERS, get_isa
from musltool.kinds.base import BuildOptions
from musltool.recipes import VerifyRun, recipe_for_sources
from tests.integration.conftest import ROOT, invoke
from tests.integration.helpers import rows_in_ci

ISA_NAMES = [isa.name for isa in TIERS["tier1"]]


@pytest.mark.parametrize("runner", ["docker", "qemu"])
@pytest.mark.parametrize("recipe_name", ["hello", "musl-claims"])
@pytest.mark.parametrize("isa_name", ISA_NAMES)
def test_recipe_builds_and_verifies(shared, isa_name, recipe_name, runner):
    dist = shared.dist(recipe_name, isa_name, runner=runner)
    report = json.loads((dist / isa_name / f"{recipe_name}.json").read_text())
    binary = dist / isa_name / recipe_name
    assert report["verification"]["runner"] == runner
    assert report["verification"]["passed"] is True
    assert report["verification"]["counts"]["passed"] == len(load_recipe(recipe_name).runs)
    assert all(check["ok"] for check in report["checks"])
    assert report["toolchain"]["provider"] == "zig"
    assert report["size"] == binary.stat().st_size


# zig compiles libc++ for each ISA (1 to 4 minutes of two cores per row here): CI runs it on
# tier 1 (whose CMake C++ test needs that libc++ too) and the big-endian s390x (README: CI
# time); MUSLTOOL_TEST_ALL_ROWS=1 runs every row. x86 passed it in CI until commit 3e9a650,
# armv6, ppc64le and loongarch64 until 58a6b16.
CXX_DEMO_ISAS = rows_in_ci([isa.name for isa in ALL], {*(isa.name for isa in TIERS["tier1"]), "s390x"})


@pytest.mark.parametrize("isa_name", CXX_DEMO_ISAS)
def test_cxx_recipe_with_threads_and_exceptions_verifies(shared, isa_name):
    dist = shared.dist("cxx-demo", isa_name)
    report = json.loads((dist / isa_name / "cxx-demo.json").read_text())
    assert report["verification"]["passed"]
    assert report["verification"]["counts"]["passed"] == 4  # threads, exceptions, streams, exit 2


def test_hello_prints_the_emulated_machine(shared):
    dist = shared.dist("hello", "armv7", runner="docker")
    direct = subprocess.run(
        ["qemu-arm-static", dist / "armv7" / "hello"], capture_output=True, text=True
    )
    assert direct.stdout == "armv7l\n"


def test_unchanged_inputs_rebuild_nothing_and_changes_or_force_do(tmp_path, capsys):
    source = tmp_path / "prog.c"
    source.write_text('#include <stdio.h>\nint main(void){puts("one");return 0;}\n')
    options = BuildOptions(runner="qemu", dist=tmp_path / "dist")
    riscv = get_isa("riscv64")
    first = build(recipe_for_sources([str(source)]), riscv, options)
    before = first.binary.stat().st_mtime_ns
    second = build(recipe_for_sources([str(source)]), riscv, options)
    assert (first.up_to_date, second.up_to_date) == (False, True)
    assert second.binary.stat().st_mtime_ns == before
    assert "up to date" in capsys.readouterr().err

    forced = build(recipe_for_sources([str(source)]), riscv, dataclasses.replace(options, force=True))
    assert not forced.up_to_date
    assert forced.binary.stat().st_mtime_ns != before
    assert forced.binary.read_bytes() == first.binary.read_bytes()  # same inputs, same bytes

    source.write_text('#include <stdio.h>\nint main(void){puts("two");return 0;}\n')
    changed = build(recipe_for_sources([str(source)]), riscv, options)
    assert not changed.up_to_date
    out = subprocess.run(["qemu-riscv64-static", changed.binary], capture_output=True, text=True)
    assert out.stdout == "two\n"


def test_build_command_recipe(shared):
    report = shared.report("crc32", "aarch64")
    assert report["verification"]["passed"]
    assert report["flags"]["command"] == "make crc32"


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
    assert [p.name for p in dist.rglob("*") if p.is_file()] == [".musltool-dist"]


def test_wrong_output_fails_verification(tmp_path):
    recipe = load_recipe("hello")
    lying = dataclasses.replace(recipe, runs=(VerifyRun("lie", stdout="sparc\n"),))
    with pytest.raises(VerificationError, match="expected 'sparc\\\\n'"):
        build(lying, get_isa("x86_64"), BuildOptions(runner="docker", dist=tmp_path))
    assert not (tmp_path / "x86_64" / "hello").exists()


def test_user_sources_without_recipe_through_the_cli(tmp_path):
    main = tmp_path / "main.c"
    util = tmp_path / "util.c"
    main.write_text(
        '#include <stdio.h>\nint twice(int);\nint main(void){printf("%d\\n", twice(21));return 0;}\n'
    )
    util.write_text("int twice(int x) { return 2 * x; }\n")
    dist = tmp_path / "d"
    proc = invoke("build", "--src", str(main), "--src", str(util), "--name", "answer",
                  "--arch", "riscv64", "--dist", str(dist))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    binary = dist / "riscv64" / "answer"
    out = subprocess.run(["qemu-riscv64-static", binary], capture_output=True, text=True)
    assert out.stdout == "42\n"


def test_toolchain_env_exports_a_usable_compiler(tmp_path):
    proc = invoke("toolchain.env", "--arch", "arm64")
    assert proc.returncode == 0
    script = proc.stdout + f"\n$CC $CFLAGS -o {tmp_path}/h {ROOT}/recipes/hello/hello.c $LDFLAGS\n"
    subprocess.run(["sh", "-c", script], check=True)
    out = subprocess.run(["qemu-aarch64-static", tmp_path / "h"], capture_output=True, text=True)
    assert out.stdout == "aarch64\n"
    assert "export CROSS_COMPILE=" in proc.stdout and "aarch64-linux-musl-" in proc.stdout


def test_configure_script_with_the_host_triple(tmp_path):
    """README: `./configure $CONFIGURE_HOST && make` with the exported environment."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "configure").write_text(
        "#!/bin/sh\n"
        'case "$1" in --host=*) host=${1#--host=} ;; *) echo "no --host" >&2; exit 1 ;; esac\n'
        '{ echo "CC = $CC"; printf \'prog: prog.c\\n\\t$(CC) $(CFLAGS) -o prog prog.c $(LDFLAGS)\\n\'; } > Makefile\n'
        'echo "configured for $host"\n'
    )
    (project / "configure").chmod(0o755)
    (project / "prog.c").write_text('#include <stdio.h>\nint main(void){puts("configured");return 0;}\n')
    env = invoke("toolchain.env", "--arch", "armv7").stdout
    script = env + f'\ncd {project} && ./configure $CONFIGURE_HOST && make -s\n'
    proc = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "configured for armv7-linux-musleabihf" in proc.stdout
    out = subprocess.run(["qemu-arm-static", project / "prog"], capture_output=True, text=True)
    assert out.stdout == "configured\n"


def test_recipe_folder_given_as_a_path(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "yes.c").write_text('#include <stdio.h>\nint main(void){puts("y");return 0;}\n')
    (folder / "recipe.toml").write_text(
        'name = "yes"\nversion = "2.0"\nkind = "c"\n[build]\nsources = ["yes.c"]\n'
        '[[verify]]\nstdout = "y\\n"\n'
    )
    proc = invoke("build", "--recipe", str(folder), "--arch", "x86_64", "--dist", str(tmp_path / "d"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "d" / "x86_64" / "yes").is_file()


def test_a_recipe_of_an_older_checkout_is_not_needed(tmp_path):
    """Building from an older checkout's folder: a built-in recipe comes from the package, and
    ./recipes only adds the recipes the package lacks."""
    older = tmp_path / "recipes" / "hello"
    older.mkdir(parents=True)
    (older / "hello.c").write_text('#include <stdio.h>\nint main(void){puts("older");return 0;}\n')
    (older / "recipe.toml").write_text(
        'name = "hello"\nversion = "0.0.1"\nkind = "c"\n[build]\nsources = ["hello.c"]\n'
        '[[verify]]\nstdout = "older\\n"\n'
    )
    shutil.copytree(older, tmp_path / "recipes" / "mine")
    (tmp_path / "recipes" / "mine" / "recipe.toml").write_text(
        (older / "recipe.toml").read_text().replace('"hello"', '"mine"')
    )
    dist = tmp_path / "d"
    for recipe in ("hello", "mine"):
        proc = invoke("build", "--arch", "riscv64", "--recipe", recipe, "--dist", str(dist), cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    package_version = load_recipe("hello").version
    assert package_version != "0.0.1"
    assert json.loads((dist / "riscv64" / "hello.json").read_text())["version"] == package_version
    assert json.loads((dist / "riscv64" / "mine.json").read_text())["version"] == "0.0.1"


def test_toolchain_env_for_fish_and_json(tmp_path):
    fish = shutil.which("fish")
    assert fish, "fish is installed by .ci/run to check the fish format"
    env_file = tmp_path / "env.fish"
    proc = invoke("toolchain.env", "--arch", "riscv64", "--format", "fish", "--output", str(env_file))
    assert proc.returncode == 0, proc.stderr
    hello = ROOT / "recipes" / "hello" / "hello.c"
    subprocess.run([fish, "-c", f"source {env_file}; $CC $CFLAGS -o {tmp_path}/h {hello} $LDFLAGS"], check=True)
    out = subprocess.run(["qemu-riscv64-static", tmp_path / "h"], capture_output=True, text=True)
    assert out.stdout == "riscv64\n"
    as_json = json.loads(invoke("toolchain.env", "--arch", "riscv64", "--format", "json").stdout)
    assert as_json["CC"].endswith("riscv64-linux-musl-gcc") and as_json["CONFIGURE_HOST"] == "--host=riscv64-linux-musl"
