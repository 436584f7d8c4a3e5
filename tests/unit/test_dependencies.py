"""Library recipes and their dependents: the build order `depends` gives, refusals (cycle,
unknown, not a library), the sysroot, fingerprints and reports naming the libraries, and the
build-system files pointing at the sysroot."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from musltool.build import dependency_record, fingerprint
from musltool.catalog import load_recipe
from musltool.dependencies import assemble_sysroot, dependency_order, keep_library, sysroot_key
from musltool.dist import Dist
from musltool.envfiles import render_environment
from musltool.errors import BuildError, UsageError
from musltool.files import sha256_bytes
from musltool.isa import get_isa
from musltool.kinds.base import BuildOptions
from musltool.kinds.command import CommandBuilder
from musltool.recipes import Recipe
from musltool.report import BuildReport
from musltool.toolchain.base import Toolchain
from tests.unit.test_report import make_report


class FolderToolchain(Toolchain):
    """A toolchain whose tools are names in a folder: enough to render files and fingerprints."""

    provider = "test"

    def __init__(self, isa, folder: Path) -> None:
        super().__init__(isa)
        self.folder = folder

    def bin_dir(self) -> Path:
        return self.folder

    def identity(self) -> dict[str, str]:
        return {"provider": "test", "version": "1"}


def recipe(name: str, depends: tuple[str, ...] = (), library: bool = True) -> Recipe:
    build = {"command": "true", "output": name}
    if library:
        build |= {"install": "true", "installs": [f"usr/lib/lib{name}.a"]}
    return Recipe(name=name, version="1.0", description="", kind="command", binary=name, folder=None,
                  depends=depends, data={"build": build})  # fmt: skip


def loader(*recipes: Recipe):
    known = {r.name: r for r in recipes}

    def load(name: str) -> Recipe:
        if name not in known:
            raise UsageError(f"unknown recipe {name!r}")
        return known[name]

    return load


def test_dependencies_come_first_each_once_transitively():
    z, y = recipe("z"), recipe("y", ("z",))
    x = recipe("x", ("y", "z"))
    app = recipe("app", ("x", "y"), library=False)
    order = dependency_order(app, loader(x, y, z))
    assert [r.name for r in order] == ["z", "y", "x"]


@pytest.mark.parametrize(
    ("recipes", "message"),
    [
        ((recipe("a", ("b",)), recipe("b", ("a",))), "dependency cycle: a -> b -> a"),
        ((recipe("a", ("a",)),), "dependency cycle: a -> a"),
        ((recipe("a", ("b",)), recipe("b", ("c",)), recipe("c", ("b",))), "dependency cycle: b -> c -> b"),
        ((recipe("a", ("nope",)),), "a: depends: unknown recipe 'nope'"),
        ((recipe("a", ("b",)), recipe("b", library=False)), "a: depends: b installs no library"),
        ((recipe("a", ("../b",)),), "a: depends: '../b' is not a recipe name"),
    ],
)
def test_refused_dependencies_are_one_usage_error(recipes, message):
    with pytest.raises(UsageError) as caught:
        dependency_order(recipes[0], loader(*recipes))
    assert str(caught.value).startswith(message)
    assert caught.value.exit_code == 2
    assert "\n" not in str(caught.value)


def files(root: Path, entries: dict[str, bytes]) -> Path:
    for name, data in entries.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_sysroot_is_the_union_of_the_libraries_kept_per_fingerprint(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSLTOOL_CACHE", str(tmp_path / "cache"))
    a = keep_library("a", "armv7", "1" * 64, files(tmp_path / "a", {"usr/lib/liba.a": b"A", "usr/include/a.h": b"a"}))
    b = keep_library("b", "armv7", "2" * 64, files(tmp_path / "b", {"usr/lib/libb.a": b"B", "usr/include/a.h": b"a"}))
    key = sysroot_key("armv7", {"provider": "zig"}, [("a", "1", "1" * 64), ("b", "1", "2" * 64)])
    sysroot = assemble_sysroot("armv7", key, [a, b])
    assert (sysroot / "usr/lib/liba.a").read_bytes() == b"A"
    assert (sysroot / "usr/lib/libb.a").read_bytes() == b"B"
    assert key != sysroot_key("armv7", {"provider": "zig"}, [("a", "1", "1" * 64), ("b", "1", "3" * 64)])
    assert key != sysroot_key("riscv64", {"provider": "zig"}, [("a", "1", "1" * 64), ("b", "1", "2" * 64)])


def test_two_libraries_installing_one_path_differently_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSLTOOL_CACHE", str(tmp_path / "cache"))
    a = keep_library("a", "armv7", "1" * 64, files(tmp_path / "a", {"usr/include/x.h": b"one"}))
    b = keep_library("b", "armv7", "2" * 64, files(tmp_path / "b", {"usr/include/x.h": b"two"}))
    with pytest.raises(BuildError, match=r"usr/include/x\.h is installed differently"):
        assemble_sysroot("armv7", "k", [a, b])
    assert not (tmp_path / "cache" / "sysroot" / "armv7-k").exists()  # nothing half-made


def builder_for(folder: Path, tmp_path: Path) -> CommandBuilder:
    isa = get_isa("riscv64")
    return CommandBuilder(load_recipe(str(folder)), isa, FolderToolchain(isa, tmp_path / "bin"), BuildOptions())


def write_recipe(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "recipe.toml").write_text(text)
    return folder


LIBRARY = """name = "libdemo"
version = "2.0"
kind = "command"
[build]
command = "make"
output = "demo"
install = "make install"
installs = ["usr/lib/libdemo.a"]
[[verify]]
args = []
"""


def test_a_dependent_is_rebuilt_when_its_library_changes(tmp_path):
    library = write_recipe(tmp_path / "libdemo", LIBRARY)
    app = write_recipe(tmp_path / "app", LIBRARY.replace('"libdemo"', '"app"').replace("install", "#"))
    dependent, lib = builder_for(app, tmp_path), builder_for(library, tmp_path)
    alone = fingerprint(dependent)
    dependent.dependencies = [lib]
    with_library = fingerprint(dependent)
    (library / "patch.diff").write_text("a change to the library\n")
    dependent.dependencies = [builder_for(library, tmp_path)]
    assert len({alone, with_library, fingerprint(dependent)}) == 3
    record = dependency_record(lib)
    assert record["name"] == "libdemo" and record["version"] == "2.0"
    assert record["source"] == "recipe folder" and len(record["sha256"]) == 64


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('installs = ["usr/lib/libdemo.a"]', ""), r"says both how it installs \(install\) and what \(installs\)"),
        (("[[verify]]", '[[verify]]\nprogram = "other"'), "program 'other' is not built"),
        (('install = "make install"', 'check = "make check"\ninstall = "make install"'), "check_shows"),
        (('kind = "command"', 'kind = "command"\nverify_files = ["data.txt"]'), "verify_files: not found"),
        (('kind = "command"', 'kind = "command"\ndepends = "xz"'), "depends"),
        (('output = "demo"', 'output = "demo"\nprograms = ["/bin/sh"]'), "must be a path inside the recipe folder"),
    ],
)
def test_library_recipe_mistakes_are_found_before_any_work(tmp_path, change, message):
    folder = write_recipe(tmp_path / "libdemo", LIBRARY.replace(*change))
    with pytest.raises(UsageError, match=message):
        load_recipe(str(folder))


def test_report_names_programs_and_dependencies_and_checks_every_program(tmp_path):
    deps = ({"name": "xz", "version": "5.8.1", "source": "https://example.invalid/xz.tar.xz", "sha256": "0" * 64},)
    report = make_report(programs={"helper": sha256_bytes(b"\x7fELF helper")}, dependencies=deps)
    folder = tmp_path / report.isa
    folder.mkdir()
    (folder / report.binary).write_bytes(b"\x7fELF binary")
    (folder / "helper").write_bytes(b"\x7fELF helper")
    assert BuildReport.from_json(report.to_json()) == report
    assert json.loads(report.to_json())["dependencies"][0]["name"] == "xz"
    assert Dist(tmp_path).matches(report)
    (folder / "helper").write_bytes(b"\x7fELF changed")
    assert not Dist(tmp_path).matches(report)


def test_build_system_files_point_at_the_sysroot(tmp_path):
    isa = get_isa("armv7")
    toolchain = FolderToolchain(isa, tmp_path / "bin")
    sysroot = tmp_path / "sysroot"
    cmake = render_environment(toolchain, "cmake", sysroot)
    assert f'set(CMAKE_FIND_ROOT_PATH "{sysroot}")' in cmake
    assert f'set(ENV{{PKG_CONFIG_LIBDIR}} "{sysroot}/usr/lib/pkgconfig")' in cmake
    meson = render_environment(toolchain, "meson", sysroot)
    assert f"sys_root = '{sysroot}'" in meson
    assert f"pkg_config_libdir = ['{sysroot}/usr/lib/pkgconfig']" in meson
    assert "pkg-config = 'pkg-config'" in meson
    assert "pkg-config" not in render_environment(toolchain, "meson")
    shell = render_environment(toolchain, "json", sysroot)
    environment = json.loads(shell)
    assert environment["PKG_CONFIG_SYSROOT_DIR"] == str(sysroot)
    assert environment["LDFLAGS"].endswith(f"-L{sysroot}/usr/lib")
    assert f"-I{sysroot}/usr/include" in environment["CPPFLAGS"]
    assert "set(CMAKE_FIND_ROOT_PATH \"" not in render_environment(toolchain, "cmake")
    assert "PKG_CONFIG" not in render_environment(toolchain, "sh")


def test_meson_links_with_the_compile_flags_as_make_and_cmake_do(tmp_path):
    """zig links the libc its link's -O asks for: a Meson link without -Os got a debug libc
    compiled for the project (a minute and more per ISA) instead of the one builds share."""
    meson = render_environment(FolderToolchain(get_isa("riscv64"), tmp_path / "bin"), "meson")
    assert "c_args = ['-Os']" in meson and "c_link_args = ['-Os', '-static']" in meson
    assert "cpp_link_args = ['-Os', '-static']" in meson


def test_siblings_are_all_kept_in_order():
    app = recipe("app", ("b", "c", "d"), library=False)
    order = dependency_order(app, loader(recipe("b"), recipe("c"), recipe("d")))
    assert [r.name for r in order] == ["b", "c", "d"]


@pytest.mark.parametrize("name", ["a/b", ".hidden", "..", "/abs"])
def test_a_path_is_no_recipe_name(name):
    with pytest.raises(UsageError, match="is not a recipe name"):
        dependency_order(recipe("app", (name,)), loader(recipe("hidden")))


def test_kept_libraries_and_sysroots_are_named_by_key_and_keep_symlinks(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSLTOOL_CACHE", str(tmp_path / "cache"))
    installed = files(tmp_path / "z", {"usr/lib/libz.so.1.3": b"Z"})
    (installed / "usr/lib/libz.a").symlink_to("libz.so.1.3")
    kept = keep_library("z", "aarch64", "0123456789abcdef" + "9" * 48, installed)
    assert kept == tmp_path / "cache" / "sysroot" / "libraries" / "z-aarch64-0123456789abcdef"
    assert (kept / "usr/lib/libz.a").is_symlink()
    key = sysroot_key("aarch64", {"provider": "zig"}, [("z", "1", "0" * 64)])
    assert len(key) == 16 and set(key) <= set("0123456789abcdef")
    assert key == sysroot_key("aarch64", {"provider": "zig"}, [("z", "1", "0" * 64)])
    assert sysroot_key("x", {}, [("a", "1", "1"), ("b", "1", "2")]) == sysroot_key("x", {}, [("b", "1", "2"), ("a", "1", "1")])
    sysroot = assemble_sysroot("aarch64", key, [kept])
    assert sysroot == tmp_path / "cache" / "sysroot" / f"aarch64-{key}"
    assert os.readlink(sysroot / "usr/lib/libz.a") == "libz.so.1.3"
    assert assemble_sysroot("aarch64", key, [kept]) == sysroot  # made once, then found


def test_the_sysroot_key_does_not_depend_on_the_toolchain_fields_order():
    one = sysroot_key("x86_64", {"provider": "zig", "version": "0.17.1"}, [("a", "1", "f")])
    other = sysroot_key("x86_64", {"version": "0.17.1", "provider": "zig"}, [("a", "1", "f")])
    assert one == other
