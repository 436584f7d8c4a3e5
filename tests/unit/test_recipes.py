"""Recipe types and the keys every recipe shares (musltool/recipes.py): the name and version
rules, placeholders, verification runs, versions and sources, the fingerprint, `--src`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from musltool.errors import UsageError
from musltool.fetch import Source
from musltool.isa import get_isa
from musltool.recipes import (
    COMMON_KEYS,
    SOURCE,
    VERIFY,
    Recipe,
    VerifyRun,
    placeholders_problem,
    plain_file_name,
    recipe_for_sources,
    recipe_from_data,
    relative_path_problem,
    require_file_name,
    verify_runs,
)
from musltool.schema import Table, problems


@pytest.mark.parametrize("name", ["hello", "busybox", "a.b", "x_1"])
def test_plain_file_names_pass(name):
    assert plain_file_name(name) is None
    assert require_file_name(name) == name


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("a/b", "'a/b' is not a plain file name (it holds '/') (no '/', not '.' or '..', not starting with '-', no glob or control characters)"),
        ("..", "'..' is not a plain file name (no '/'"),
        ("-rf", "(it starts with '-')"),
        (".hidden", "'.hidden' would be a hidden file"),
    ],
)  # fmt: skip
def test_names_that_are_no_plain_file_names_say_why(name, problem):
    assert problem in plain_file_name(name)
    with pytest.raises(UsageError, match=r"^--name: "):
        require_file_name(name, "--name")


def test_versions_are_plain_names():
    schema = Table(COMMON_KEYS)
    base = {"name": "x", "kind": "c"}
    assert problems({**base, "version": "1.0"}, schema) == []
    assert problems({**base, "version": "1/0"}, schema) == [
        "version: version '1/0' is not a plain name (it holds '/')"
    ]
    source = {"url": "https://example.invalid/x.tar.gz", "sha256": "0" * 64}
    found = problems({**base, "version": "1", "versions": {"1": source, "../2": source}}, schema)
    assert found == ["versions: version '../2' is not a plain name (it holds '/')"]


def test_placeholders_are_the_isa_tables_fields():
    assert placeholders_problem("{uname_machine}\n") is None
    assert placeholders_problem("{{literal}}") is None
    assert placeholders_problem("{machine}").startswith("unknown placeholder {machine}; known: ")
    assert placeholders_problem("{unclosed").startswith("bad placeholder: ")


@pytest.mark.parametrize(("code", "ok"), [(0, True), (255, True), (256, False), (-1, False)])
def test_an_exit_code_is_a_byte(code, ok):
    assert (problems({"exit_code": code}, VERIFY) == []) is ok


def test_a_source_needs_url_and_hash_and_a_plain_top():
    assert problems({"url": "u"}, SOURCE) == ["sha256: missing (required)"]
    assert problems({"url": "u", "sha256": "h", "top": "../x"}, SOURCE) == [
        "top: '../x' is not a plain name (it holds '/')"
    ]


@pytest.mark.parametrize(
    ("path", "ok"),
    [("data/in.txt", True), ("/etc/passwd", False), ("a/../../b", False), ("", False)],
)
def test_verify_files_stay_inside_the_recipe_folder(path, ok):
    assert (relative_path_problem(path) is None) is ok
    found = problems(
        {"name": "x", "version": "1", "kind": "c", "verify_files": ["ok.txt", path]},
        Table(COMMON_KEYS),
    )
    assert (found == []) is ok


@pytest.mark.parametrize(
    ("address", "ok"),
    [("10.0.0.1", True), ("255.255.255.255", True), ("256.0.0.1", False), ("10.0.0", False), ("a.b.c.d", False), (7, False)],
)  # fmt: skip
def test_dns_names_need_ipv4_addresses(address, ok):
    found = problems(
        {"name": "x", "version": "1", "kind": "c", "verify_dns": {"db.test": address}},
        Table(COMMON_KEYS),
    )
    assert (found == []) is ok
    if not ok:
        assert found == [f"verify_dns: db.test: {address!r} is not an IPv4 address"]


def test_verify_runs_are_named_by_their_name_or_arguments():
    runs = verify_runs(
        [
            {"name": "greets", "stdout": "hi\n"},
            {"args": ["-n", "3"], "exit_code": 2},
            {"stdin": "x"},
        ]
    )
    assert runs == (
        VerifyRun("greets", stdout="hi\n"),
        VerifyRun("-n 3", args=("-n", "3"), exit_code=2),
        VerifyRun("run", stdin="x"),
    )
    assert runs[0].expected_stdout(get_isa("armv7")) == "hi\n"
    assert VerifyRun("m", stdout="{uname_machine}").expected_stdout(get_isa("armv7")) == "armv7l"
    assert VerifyRun("m").expected_stdout(get_isa("armv7")) is None


def test_a_recipe_from_data_takes_defaults_and_paths_in_its_folder(tmp_path):
    data = {
        "name": "tool",
        "version": "1.2",
        "kind": "c",
        "build": {"sources": ["src/a.c"], "cflags": ["-O2"]},
        "depends": ["zlib"],
        "versions": {"1.2": {"url": "https://example.invalid/t.tgz", "sha256": "0" * 64}},
    }
    recipe = recipe_from_data(data, tmp_path)
    assert (recipe.binary, recipe.description, recipe.sources, recipe.cflags) == (
        "tool",
        "",
        (tmp_path / "src/a.c",),
        ("-O2",),
    )
    assert recipe.depends == ("zlib",) and recipe.runs == ()
    assert recipe.versions == {"1.2": Source("https://example.invalid/t.tgz", "0" * 64, None)}
    assert recipe_from_data({**data, "binary": "t"}, tmp_path).binary == "t"


def test_the_version_to_build_and_its_source():
    source = Source("https://example.invalid/b-1.tgz", "1" * 64)
    recipe = Recipe(
        "b", "1", "", "busybox", "b", None, versions={"1": source, "2": Source("u2", "2" * 64)}
    )
    assert recipe.version_source(None) == ("1", source)
    assert recipe.version_source("2")[0] == "2"
    with pytest.raises(UsageError, match=r"^unknown b version '3'; known: 1, 2$"):
        recipe.version_source("3")
    plain = Recipe("h", "1.0", "", "c", "h", None)
    assert plain.version_source(None) == ("1.0", None)
    assert plain.version_source("1.0") == ("1.0", None)
    with pytest.raises(UsageError, match=r"known: 1\.0$"):
        plain.version_source("2.0")


def test_the_fingerprint_follows_every_file_and_the_defining_fields(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.c").write_text("int a;\n")
    (tmp_path / "sub" / "b.h").write_text("int b;\n")
    recipe = Recipe("x", "1", "", "c", "x", tmp_path)
    first = recipe.fingerprint()
    assert (
        first == Recipe("x", "2", "other words", "c", "x", tmp_path).fingerprint()
    )  # version: a source's
    assert (
        len(
            {
                first,
                *(
                    dataclasses.replace(recipe, **c).fingerprint()
                    for c in ({"name": "y"}, {"kind": "command"}, {"cflags": ("-O2",)})
                ),
            }
        )
        == 4
    )
    (tmp_path / "sub" / "b.h").write_text("int c;\n")
    assert recipe.fingerprint() != first
    loose = Recipe("x", "1", "", "c", "x", None, sources=(tmp_path / "a.c",))
    before = loose.fingerprint()
    (tmp_path / "a.c").write_text("int z;\n")
    assert loose.fingerprint() != before


def test_src_files_make_a_recipe_that_must_run_and_exit_0(tmp_path):
    (tmp_path / "main.c").write_text("int main(void) { return 0; }\n")
    (tmp_path / "util.c").write_text("int u;\n")
    recipe = recipe_for_sources([str(tmp_path / "main.c"), str(tmp_path / "util.c")])
    assert (recipe.name, recipe.binary, recipe.version, recipe.kind) == (
        "main",
        "main",
        "local",
        "c",
    )
    assert recipe.description == "built from main.c, util.c"
    assert recipe.runs == (VerifyRun("runs and exits 0"),)
    assert recipe_for_sources([str(tmp_path / "main.c")], "tool").binary == "tool"


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        ([], "--src needs at least one C source file"),
        (["."], "is a folder"),
        (["absent.c"], "source file not found"),
    ],
)
def test_src_refusals_are_usage_errors(sources, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match=message):
        recipe_for_sources(sources)


def test_recipes_and_runs_are_frozen(tmp_path):
    for thing, attribute in (
        (Recipe("x", "1", "", "c", "x", None), "name"),
        (VerifyRun("r"), "args"),
    ):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(thing, attribute, None)


def test_a_src_name_with_a_slash_is_refused(tmp_path):
    (tmp_path / "m.c").write_text("")
    with pytest.raises(UsageError, match=r"^--name: 'a/b' is not a plain file name"):
        recipe_for_sources([str(tmp_path / "m.c")], "a/b")


def test_paths_are_resolved(tmp_path, monkeypatch):
    (tmp_path / "m.c").write_text("")
    monkeypatch.chdir(tmp_path)
    assert recipe_for_sources(["m.c"]).sources == (Path(tmp_path / "m.c").resolve(),)
