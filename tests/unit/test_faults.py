"""Faults and bad input that need nothing but Python: each ends in one line, the documented exit
code, and no work done. (Faults that need a build, docker or a signal mid-run are in
tests/integration/test_faults.py.)

Covered here: B1 recipe validation, B2 --name, B9 MUSLTOOL_CACHE, B10 SOURCE_DATE_EPOCH,
B11 malformed reports in package, and weak spots W1 (missing option value, unknown flag), W2
(--src folder), W3 (--sha256), W7 (--format), W8 (clean a foreign folder), W9 (mirrors as one
string), W10 (broken invoke.yaml, INVOKE_MUSLTOOL_MIRRORS), W11 (unpinned archive advice).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from musltool.catalog import load_recipe
from musltool.errors import UsageError
from musltool.fetch import config_mirror_list, fetch_options
from musltool.isa import get_isa
from musltool.recipes import recipe_for_sources

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT):
    return subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(ROOT), *args],
        capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=120,
    )  # fmt: skip


def one_line(proc: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("musltool: error: "), proc.stderr
    assert words in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


# ---------------------------------------------------------------- B1: recipes are checked

HELLO = '#include <stdio.h>\nint main(void){puts("hi");return 0;}\n'
GOOD = """name = "hi"
version = "1"
kind = "c"
[build]
sources = ["hi.c"]
[[verify]]
stdout = "hi\\n"
"""


def recipe_dir(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "hi"
    folder.mkdir(exist_ok=True)
    (folder / "hi.c").write_text(HELLO)
    (folder / "recipe.toml").write_text(text)
    return folder


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('name = "hi"\n', ""), "name: missing (required)"),
        (lambda t: t.replace('"hi.c"', '"gone.c"'), "build.sources: file not found"),
        (lambda t: t.replace('stdout = "hi\\n"', 'stdout = "{nosuchfield}"'), "verify[0].stdout: unknown placeholder {nosuchfield}"),
        (lambda t: t.replace('sources = ["hi.c"]', 'sources = "hi.c"'), "build.sources: must be a list, not str 'hi.c'"),
        (lambda t: t.replace('kind = "c"', 'kind = "rust"'), "kind: must be one of c, command, busybox, not 'rust'"),
        (lambda t: t + "colour = 'blue'\n", "colour: unknown key"),
        (lambda t: t.replace('[[verify]]\nstdout = "hi\\n"\n', ""), "no [[verify]] runs"),
        (lambda t: t.replace('stdout = "hi\\n"', "exit_code = true"), "verify[0].exit_code: must be an integer"),
        (lambda t: t.replace('name = "hi"', 'name = "../hi"'), "name: '../hi' is not a plain file name"),
        (lambda t: t + "[[verify]\n", "invalid TOML"),
    ],
)
def test_recipe_problems_are_one_line_naming_file_and_key(tmp_path, edit, message):
    folder = recipe_dir(tmp_path, edit(GOOD))
    with pytest.raises(UsageError) as err:
        load_recipe(str(folder))
    text = str(err.value)
    assert str(folder / "recipe.toml") in text and message in text and "\n" not in text


def test_a_good_recipe_folder_loads(tmp_path):
    recipe = load_recipe(str(recipe_dir(tmp_path, GOOD)))
    assert (recipe.name, recipe.binary, len(recipe.runs)) == ("hi", "hi", 1)


def test_recipe_errors_reach_the_cli_as_one_line(tmp_path):
    folder = recipe_dir(tmp_path, GOOD.replace('name = "hi"\n', ""))
    one_line(invoke("build", "--recipe", str(folder)), 2, "name: missing (required)")


# ---------------------------------------------------------------- B2: --name stays in dist/


@pytest.mark.parametrize("name", ["../escape", "/tmp/x", "sub/prog", "..", ".hidden", "-rf"])
def test_binary_names_are_plain_file_names(tmp_path, name):
    source = tmp_path / "ok.c"
    source.write_text(HELLO)
    with pytest.raises(UsageError, match=r"not a plain file name|hidden file"):
        recipe_for_sources([str(source)], name)


def test_escaping_name_through_the_cli_writes_nothing(tmp_path):
    source = tmp_path / "ok.c"
    source.write_text(HELLO)
    proc = invoke("build", "--src", str(source), "--name", "../escape", "--dist", str(tmp_path / "dist"))
    one_line(proc, 2, "--name: '../escape' is not a plain file name")
    assert not (tmp_path / "escape").exists() and not (tmp_path / "dist").exists()


# ---------------------------------------------------------------- B9, B10: the environment


def test_cache_pointing_at_a_file_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    source = tmp_path / "ok.c"
    source.write_text(HELLO)
    proc = invoke("build", "--src", str(source), "--dist", str(tmp_path / "d"), env={"MUSLTOOL_CACHE": str(blocker)})
    one_line(proc, 2, f"cache folder {blocker} (MUSLTOOL_CACHE) is not a folder")


def test_bad_source_date_epoch_is_one_line(tmp_path):
    proc = invoke("package", "--no-build", "--dist", str(tmp_path), env={"SOURCE_DATE_EPOCH": "abc"})
    one_line(proc, 2, "SOURCE_DATE_EPOCH='abc' is not a number")
    proc = invoke("build", "--dist", str(tmp_path), env={"SOURCE_DATE_EPOCH": "abc"})
    one_line(proc, 2, "SOURCE_DATE_EPOCH='abc' is not a number")


# ---------------------------------------------------------------- B11: reports of the wrong shape


@pytest.mark.parametrize("text", ["[]", '{"verification": "yes"}', "{"])
def test_package_refuses_a_malformed_report_in_one_line(tmp_path, text):
    dist = tmp_path / "dist"
    (dist / "x86_64").mkdir(parents=True)
    (dist / "x86_64" / "hello").write_bytes(b"\x7fELF")
    (dist / "x86_64" / "hello.json").write_text(text)
    proc = invoke("package", "--arch", "x86_64", "--no-build", "--dist", str(dist))
    one_line(proc, 2, "is not a musltool build report")


# ---------------------------------------------------------------- weak spots


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("build", "--arch"), "needed value and was not given one"),
        (("build", "--bogus"), "No idea what '--bogus' is!"),
        (("build", "--arch", "sparc"), "unknown ISA 'sparc'"),
        (("boot", "--arch", "armv6,aarch64"), "armv6 cannot boot here: no kernel and machine"),
        (("boot", "--arch", "tier3"), "no ISA in 'tier3' boots here"),
        (("build", "--recipe", "nope"), "unknown recipe 'nope'"),
        (("build", "--src", "/no/such.c"), "source file not found"),
        (("build", "--src", "/tmp"), "--src /tmp is a folder"),
        (("build", "--toolchain", "tcc"), "unknown toolchain 'tcc'"),
        (("build", "--runner", "vm"), "unknown runner 'vm'"),
        (("build", "--recipe", "hello", "--applets", "sh"), "--applets: not an option for hello"),
        (("build", "--recipe", "hello", "--version", "9"), "unknown hello version '9'"),
        (("build", "--name", "x"), "--name goes with --src"),
        (("toolchain.fetch", "--sha256", "xyz"), "--sha256 'xyz' is not a sha256"),
        (("toolchain.env", "--format", "xml"), "unknown --format 'xml'"),
        (("toolchain.env", "--arch", "all"), "exactly one ISA"),
    ],
)
def test_bad_input_is_one_line(args, words, tmp_path):
    """Bad input is exit 2 (README's table), one `musltool: error:` line."""
    one_line(invoke(*args), 2, words)


def test_unknown_isa_lists_the_valid_ones():
    proc = invoke("build", "--arch", "sparc")
    one_line(proc, 2, "valid: x86_64, aarch64, armv7, riscv64, x86, armv6, ppc64le, s390x, mips64el, "
                      "mipsel, loongarch64, or all, tier1, tier2, tier3")


def test_clean_refuses_a_folder_musltool_did_not_make(tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    one_line(invoke("clean", "--dist", str(precious)), 2, "is not a musltool output folder")
    assert (precious / "thesis.tex").is_file()


def test_clean_refuses_a_cache_that_is_not_musltools(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("keep me")
    proc = invoke("clean", "--cache", "--dist", str(tmp_path / "none"), env={"MUSLTOOL_CACHE": str(home)})
    one_line(proc, 2, "is not musltool's cache")
    assert (home / "notes.txt").is_file()


def test_mirrors_from_config_as_a_list_or_one_string():
    assert config_mirror_list("http://a/ file:///b") == ["http://a/", "file:///b"]
    assert config_mirror_list(["http://a/"]) == ["http://a/"]
    assert config_mirror_list(None) == [] and config_mirror_list("") == []
    with pytest.raises(UsageError, match="must be a list of URLs"):
        config_mirror_list({"url": 1})
    with pytest.raises(UsageError, match="is not an https, http, file URL"):
        fetch_options("ftp://old.example/")


def test_mirrors_from_the_environment_variable_invoke_reads(tmp_path):
    proc = invoke("build", "--recipe", "busybox", "--list-applets",
                  env={"INVOKE_MUSLTOOL_MIRRORS": "gopher://x", "MUSLTOOL_OFFLINE": "1"})  # fmt: skip
    one_line(proc, 2, "mirror 'gopher://x' is not an https, http, file URL")


def test_a_broken_invoke_yaml_beside_the_tasks_is_one_line(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "tasks.py").write_text((ROOT / "tasks.py").read_text())
    (project / "invoke.yaml").write_text("musltool:\n  mirrors: [unclosed\n")
    proc = subprocess.run([sys.executable, "-m", "invoke", "isas"], cwd=project, capture_output=True, text=True)
    one_line(proc, 2, f"invalid Invoke config {project / 'invoke.yaml'}")


def test_a_broken_user_invoke_yaml_is_one_line_for_the_musltool_command(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".invoke.yaml").write_text("musltool:\n  mirrors: [unclosed\n")
    proc = subprocess.run([sys.executable, "-m", "musltool", "isas"], cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "HOME": str(home)})  # fmt: skip
    one_line(proc, 2, f"invalid Invoke config {home / '.invoke.yaml'}")


def test_unpinned_archive_advice_names_the_task_that_takes_sha256(tmp_path, monkeypatch):
    from musltool.toolchain.gcc import GccToolchain

    monkeypatch.setenv("MUSLTOOL_CACHE", str(tmp_path / "cache"))
    with pytest.raises(UsageError) as err:
        GccToolchain("muslcc", get_isa("riscv64")).fetch()
    text = str(err.value)
    assert "invoke toolchain.fetch --toolchain muslcc --arch riscv64 --sha256 HASH" in text
    assert "--trust" in text


def test_report_json_of_the_right_shape_still_loads(tmp_path):
    from musltool.dist import Dist

    (tmp_path / "x86_64").mkdir()
    (tmp_path / "x86_64" / "r.json").write_text(json.dumps({"recipe": "x"}))
    with pytest.raises(UsageError, match="checks is not a list"):
        Dist(tmp_path).report("x86_64", "r")
