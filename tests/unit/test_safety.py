"""The fault suite for musltool's safety rules, with nothing but Python: the tree writer and
reader, the output folder (install, records, clean), the cache, names that become paths, the
bounded process runner.

Every case runs inside a sentinel world (a fake $HOME, a fake /etc, sibling folders of user
files; tests/sentinel.py) hashed before and after: nothing outside musltool's own folder may
change. Every refusal is one line with exit code 2, and nothing is leaked: no staging folder,
no temporary folder, no process. Generated cases (seeded, so every run is the same) throw
random names, versions and paths with symlinks, `..`, globs, newlines and special files at
the same code.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from musltool import cache as cache_mod
from musltool.dist import RECORD, STAGING, Dist, Record
from musltool.errors import MusltoolError, UsageError
from musltool.files import plain_name_problem
from musltool.filetree import (
    Entry,
    Tree,
    TreeError,
    path_problem,
    read_folder,
    tar_bytes,
    write_tree,
)
from musltool.owners import OWNER_ENV, current_owner, orphaned_temp_folders, temp_prefix
from musltool.process import OUTPUT_LIMIT, call
from musltool.settings import EPOCH_MAX, source_date_epoch
from tests.sentinel import World, snapshot

SEED = 20261130
NASTY = ["..", ".", "a/../..", "../etc", "/etc", "*", "a?b", "[x]", "a\nb", "tab\there", "nul\x00x",
         "-rf", "a/b", "", " ", "é", "name with space", "x" * 200, "~", "$HOME", "a\\b", "\x7f"]  # fmt: skip


def generated_names(count: int) -> list[str]:
    rng = random.Random(SEED)
    alphabet = "ab.-_/*?[]\n\t ~$é\\"
    names = []
    while len(names) < count:
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        if name not in names:
            names.append(name)
    return names


GENERATED = generated_names(40)


@pytest.fixture
def world(tmp_path, monkeypatch) -> World:
    made = World.make(tmp_path / "world")
    monkeypatch.setenv("HOME", str(made.home))
    return made


def processes_started_here() -> list[str]:
    """Live processes carrying this test process's owner tag (started through musltool)."""
    tag = f"{OWNER_ENV}={current_owner().tag}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            alive = entry.name.isdigit() and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
            if alive and tag in (entry / "environ").read_bytes().split(b"\0"):
                found.append((entry / "cmdline").read_text().replace("\0", " "))
        except OSError:
            continue
    return found


@pytest.fixture(autouse=True)
def no_leaks():
    """No temporary folder musltool made here is left, and no process it started here (other
    test workers may be making their own meanwhile: only this process's count)."""
    mine = f"*-{current_owner().tag}-*"
    before = {p.name for p in Path(tempfile.gettempdir()).glob(mine)}
    yield
    after = {p.name for p in Path(tempfile.gettempdir()).glob(mine)}
    assert after <= before, f"temporary folders left: {after - before}"
    assert processes_started_here() == []


def one_line_usage_error(error: pytest.ExceptionInfo[MusltoolError]) -> None:
    assert error.value.exit_code == 2
    assert "\n" not in str(error.value).replace("\\n", "")


def staged_left(dist: Path) -> list[Path]:
    return list(dist.rglob(f"{STAGING}*")) + [p for p in dist.rglob(".*") if p.name.startswith(".musltool-probe")]


# ------------------------------------------------------------------ names that become paths


@pytest.mark.parametrize("name", NASTY + GENERATED)
def test_an_install_path_takes_plain_names_only(world, no_leaks, name):
    dist = Dist(world.mine / "dist")
    relative = f"x86_64/{name}"
    problem = any(plain_name_problem(part) for part in relative.split("/"))
    if problem:
        with pytest.raises(UsageError) as error:
            dist.install({relative: (b"data", 0o644)})
        one_line_usage_error(error)
    else:
        dist.install({relative: (b"data", 0o644)})
        assert (world.mine / "dist" / "x86_64" / name).read_bytes() == b"data"
    assert world.changed() == {}
    assert staged_left(world.mine / "dist") == []


@pytest.mark.parametrize("version", NASTY + GENERATED[:20])
def test_a_recipe_version_that_would_leave_dist_is_refused_before_work(world, version):
    from musltool.catalog import load_recipe

    folder = world.mine / "recipe"
    folder.mkdir()
    (folder / "p.c").write_text("int main(void) { return 0; }\n")
    (folder / "recipe.toml").write_text(
        f'name = "p"\nversion = {version!r}\nkind = "c"\n[build]\nsources = ["p.c"]\n[[verify]]\nstdout = ""\n'
        .replace("'", '"') if "'" not in version and '"' not in version and "\\" not in version else
        f'name = "p"\nversion = """{version}"""\nkind = "c"\n[build]\nsources = ["p.c"]\n[[verify]]\nstdout = ""\n'
    )  # fmt: skip
    try:
        recipe = load_recipe(str(folder))
    except UsageError as exc:
        assert "\n" not in str(exc).replace("\\n", "")
        return
    assert plain_name_problem(recipe.version) is None


def test_version_1_dot_dot_is_refused_naming_the_key(world):
    from musltool.catalog import load_recipe

    folder = world.mine / "recipe"
    folder.mkdir()
    (folder / "p.c").write_text("int main(void) { return 0; }\n")
    (folder / "recipe.toml").write_text(
        'name = "p"\nversion = "1/../../../x"\nkind = "c"\n[build]\nsources = ["p.c"]\n[[verify]]\nstdout = ""\n'
    )
    with pytest.raises(UsageError, match=r"version: version '1/\.\./\.\./\.\./x' is not a plain name"):
        load_recipe(str(folder))


# ------------------------------------------------------------------ the tree writer


def symlinked_trees() -> list[tuple[str, Tree]]:
    """Trees that try to write through their own symlinks out of the target."""
    cases = []
    for target in ("/", "..", "../..", "../../home", "/tmp", "../world/etc"):
        tree = Tree()
        tree.add_symlink("etc", target)
        tree.add_file("etc/passwd", b"root::0:0::/:/bin/sh\n")
        cases.append((f"file below symlink to {target}", tree))
        tree = Tree()
        tree.add_dir("usr")
        tree.add_symlink("usr/lib", target)
        tree.add_dir("usr/lib/x")
        cases.append((f"folder below symlink to {target}", tree))
    return cases


@pytest.mark.parametrize(("what", "tree"), symlinked_trees(), ids=[w for w, _ in symlinked_trees()])
def test_the_tree_writer_refuses_entries_below_a_symlink(world, no_leaks, what, tree):
    root = world.mine / "root"
    root.mkdir()
    with pytest.raises(TreeError) as error:
        write_tree(tree, root)
    one_line_usage_error(error)
    assert world.changed() == {}


def test_a_symlink_already_on_disk_is_never_followed(world):
    """Even if something put a symlink in the target meanwhile, the writer walks with
    O_NOFOLLOW and stops."""
    root = world.mine / "root"
    root.mkdir()
    (root / "etc").symlink_to(world.etc)
    tree = Tree()
    tree.add_file("etc/passwd", b"hacked\n")
    with pytest.raises(TreeError, match="cannot write etc/passwd"):
        write_tree(tree, root)
    assert world.changed() == {}


@pytest.mark.parametrize("path", NASTY + GENERATED)
def test_tree_paths_are_relative_and_plain(world, path):
    problem = path_problem(path.lstrip("/"))  # a leading / means the tree's own root
    if problem:
        with pytest.raises(TreeError) as error:
            Tree().add_file(path, b"x")
        one_line_usage_error(error)
        return
    tree = Tree()
    tree.add_file(path, b"x")
    root = world.mine / "root"
    root.mkdir()
    write_tree(tree.with_parents(), root)
    assert (root / path.lstrip("/")).read_bytes() == b"x"
    assert world.changed() == {}


def test_symlinks_are_written_as_symlinks_and_special_nodes_recorded(world):
    tree = Tree()
    tree.add_symlink("up", "../../../home/notes.txt")
    tree.add_symlink("abs", str(world.etc / "shadow"))
    tree.add(Entry("fifo", mode=0o640, kind="fifo"))
    tree.add(Entry("null", mode=0o666, kind="chardev", rdev=(1, 3)))
    root = world.mine / "root"
    root.mkdir()
    skipped = write_tree(tree, root)
    assert os.readlink(root / "up") == "../../../home/notes.txt"
    assert os.readlink(root / "abs") == str(world.etc / "shadow")
    assert stat.S_ISFIFO((root / "fifo").lstat().st_mode) and stat.S_IMODE((root / "fifo").lstat().st_mode) == 0o640
    assert [e.path for e in skipped] == ["null"] and not (root / "null").exists()
    assert world.changed() == {}


def test_a_path_listed_twice_or_below_a_file_is_refused():
    tree = Tree()
    tree.add_file("a", b"1")
    tree.add_file("a", b"2")
    with pytest.raises(TreeError, match="listed twice"):
        tree.check()
    tree = Tree()
    tree.add_file("a", b"1")
    tree.add_file("a/b", b"2")
    with pytest.raises(TreeError, match="lies below 'a', which is a file"):
        tar_bytes(tree)


def test_read_only_folders_still_get_their_entries(world):
    tree = Tree()
    tree.add_dir("ro", 0o555)
    tree.add_file("ro/x", b"x")
    root = world.mine / "root"
    root.mkdir()
    write_tree(tree, root)
    assert (root / "ro" / "x").read_bytes() == b"x" and stat.S_IMODE((root / "ro").stat().st_mode) == 0o555


# ------------------------------------------------------------------ reading a user's folder


def overlay_with(world: World, kind: str) -> Path:
    overlay = world.mine / "overlay"
    (overlay / "etc").mkdir(parents=True)
    node = overlay / "etc" / "node"
    if kind == "fifo":
        os.mkfifo(node)
    elif kind == "chardev":
        os.mknod(node, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero: reading it never ends
    elif kind == "blockdev":
        os.mknod(node, 0o600 | stat.S_IFBLK, os.makedev(7, 0))
    elif kind == "symlink-out":
        node.symlink_to(world.etc / "shadow")
    elif kind == "symlink-up":
        node.symlink_to("../../../../etc/shadow")
    elif kind == "setuid":
        node.write_bytes(b"#!/bin/sh\n")
        node.chmod(0o4755)
    return overlay


@pytest.mark.parametrize("kind", ["fifo", "chardev", "blockdev", "symlink-out", "symlink-up", "setuid"])
def test_an_overlay_is_read_without_following_or_blocking(world, kind):
    overlay = overlay_with(world, kind)
    started = time.monotonic()
    tree = read_folder(overlay, what="--overlay")
    assert time.monotonic() - started < 5
    entry = tree.get("etc/node")
    assert entry is not None
    expected = {"fifo": "fifo", "chardev": "chardev", "blockdev": "blockdev", "symlink-out": "symlink",
                "symlink-up": "symlink", "setuid": "file"}[kind]  # fmt: skip
    assert entry.kind == expected
    if kind == "chardev":
        assert entry.rdev == (1, 5)
    if kind == "setuid":
        assert entry.mode == 0o4755  # kept, not dropped
    if kind.startswith("symlink"):
        assert entry.data == b""  # the link, never what it points at
    assert world.changed() == {}


def test_a_socket_in_an_overlay_is_refused_in_one_line(world):
    overlay = world.mine / "overlay"
    overlay.mkdir()
    here = os.getcwd()
    with socket.socket(socket.AF_UNIX) as server:
        os.chdir(overlay)  # a relative name: the test's folder may be longer than a socket path
        try:
            server.bind("sock")
        finally:
            os.chdir(here)
        with pytest.raises(TreeError) as error:
            read_folder(overlay, what="--overlay ov")
    one_line_usage_error(error)
    assert "sock is a socket" in str(error.value)


def test_an_overlay_over_its_size_cap_is_refused(world):
    overlay = world.mine / "overlay"
    overlay.mkdir()
    (overlay / "big").write_bytes(b"x" * 4096)
    with pytest.raises(TreeError, match="more than"):
        read_folder(overlay, limit=1024)


@pytest.mark.parametrize("over", ["symlink", "file", "fifo"])
def test_an_overlay_entry_may_not_drop_a_folder_of_the_image(over):
    image = Tree()
    image.add_dir("etc")
    image.add_file("etc/passwd", b"root\n")
    overlay = Tree()
    if over == "symlink":
        overlay.add_symlink("etc", "/some/dir")
    elif over == "file":
        overlay.add_file("etc", b"x")
    else:
        overlay.add(Entry("etc", kind="fifo"))
    with pytest.raises(TreeError) as error:
        image.overlay(overlay, "--overlay ov")
    one_line_usage_error(error)
    assert "make it a folder" in str(error.value)


@pytest.mark.parametrize(("folder", "image_mode", "overlay_mode", "result"), [
    ("tmp", 0o1777, 0o755, 0o1777), ("root", 0o700, 0o755, 0o700), ("tmp", 0o1777, 0o1777, 0o1777),
    ("root", 0o700, 0o750, 0o750), ("srv", None, 0o755, 0o755),
])  # fmt: skip
def test_an_overlay_keeps_the_modes_of_folders_the_image_defines(folder, image_mode, overlay_mode, result):
    image = Tree()
    if image_mode is not None:
        image.add_dir(folder, image_mode)
    overlay = Tree()
    overlay.add_dir(folder, overlay_mode)
    image.overlay(overlay, "--overlay")
    assert image.get(folder).mode == result


# ------------------------------------------------------------------ the output folder


def test_an_existing_folder_is_used_never_claimed_and_clean_keeps_what_is_not_musltools(world, no_leaks):
    dist = world.siblings / "photos"  # a folder of the user's files, used as --dist
    Dist(dist).install({"x86_64/hello": (b"\x7fELF", 0o755), "SHA256SUMS": (b"sums\n", 0o644)})
    record = Record.parse((dist / RECORD).read_text())
    assert record.created is False
    assert set(record.entries) == {"x86_64", "x86_64/hello", "SHA256SUMS"}
    cleaned = Dist(dist).clean()
    assert sorted(cleaned.removed) == ["SHA256SUMS", "x86_64", "x86_64/hello"]
    assert (dist / "b.png").read_bytes() == b"\x89PNG" and dist.is_dir()
    assert not (dist / RECORD).exists()
    assert world.changed() == {}


def test_a_folder_musltool_made_goes_whole(world):
    dist = world.mine / "dist"
    Dist(dist).install({"x86_64/hello": (b"\x7fELF", 0o755)})
    Dist(dist).clean()
    assert not dist.exists()


def test_clean_keeps_a_file_changed_since_and_anything_added(world):
    dist = world.mine / "dist"
    Dist(dist).install({"x86_64/hello": (b"\x7fELF", 0o755), "x86_64/hello.json": (b"{}", 0o644)})
    (dist / "x86_64" / "hello").write_bytes(b"my own edit")
    (dist / "x86_64" / "notes.txt").write_text("mine")
    cleaned = Dist(dist).clean()
    assert cleaned.removed == ["x86_64/hello.json"]
    assert any(k.startswith("x86_64/hello (changed") for k in cleaned.kept)
    assert (dist / "x86_64" / "hello").read_bytes() == b"my own edit" and (dist / "x86_64" / "notes.txt").exists()


@pytest.mark.parametrize("where", ["home", "root", "checkout", "mount"])
def test_clean_refuses_home_root_checkouts_and_mount_points(world, where, monkeypatch):
    if where == "home":
        folder = world.home
    elif where == "root":
        folder = Path("/")
    elif where == "checkout":
        folder = world.mine / "checkout"
        (folder / ".git").mkdir(parents=True)
    else:
        folder = world.mine / "mnt"
        folder.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(folder)], capture_output=True).returncode != 0:
            pytest.fail("mounting a tmpfs needs root: the mount-point case cannot run")
    try:
        with pytest.raises(UsageError) as error:
            Dist(folder).clean()
        one_line_usage_error(error)
        assert "never cleans it" in str(error.value)
    finally:
        if where == "mount":
            subprocess.run(["umount", str(folder)], check=True)
    assert world.changed() == {}


def symlink_layouts(world: World) -> list[tuple[str, Path]]:
    return [("isa folder", world.etc), ("isa folder relative", Path("../../../etc")), ("isa folder home", world.home)]


@pytest.mark.parametrize("layout", range(3))
def test_a_symlinked_isa_folder_is_refused_never_written_through(world, layout):
    what, target = symlink_layouts(world)[layout]
    dist = world.mine / "dist"
    dist.mkdir()
    (dist / "x86_64").symlink_to(target)
    with pytest.raises(UsageError) as error:
        Dist(dist).install({"x86_64/passwd": (b"root::0:0::/:/bin/sh\n", 0o644)})
    one_line_usage_error(error)
    with pytest.raises(UsageError):
        Dist(dist).prepare("x86_64")
    assert world.changed() == {}, what


@pytest.mark.parametrize("victim", ["etc/passwd", "etc/shadow", "home/notes.txt"])
def test_a_symlink_at_a_files_place_is_replaced_not_written_through(world, victim):
    dist = world.mine / "dist"
    (dist / "x86_64").mkdir(parents=True)
    (dist / "x86_64" / "hello").symlink_to(world.root / victim)
    Dist(dist).install({"x86_64/hello": (b"\x7fELF new", 0o755)})
    assert not (dist / "x86_64" / "hello").is_symlink()
    assert world.changed() == {}


@pytest.mark.parametrize("kind", ["fifo", "symlink", "folder"])
def test_reading_a_report_never_blocks_or_follows(world, kind):
    dist = world.mine / "dist"
    (dist / "x86_64").mkdir(parents=True)
    report = dist / "x86_64" / "hello.json"
    if kind == "fifo":
        os.mkfifo(report)
    elif kind == "symlink":
        report.symlink_to(world.etc / "shadow")
    else:
        report.mkdir()
    started = time.monotonic()
    assert Dist(dist).report("x86_64", "hello") is None
    assert time.monotonic() - started < 2


def test_staging_of_a_killed_run_is_swept_and_a_live_one_kept(world):
    dist = world.mine / "dist"
    Dist(dist).install({"a": (b"a", 0o644)})
    dead = dist / STAGING / "0000deadbeef.1.1-aaaa"
    live = dist / STAGING / f"{current_owner().tag}-bbbb"
    for folder in (dead, live):
        folder.mkdir(parents=True)
        (folder / "0").write_bytes(b"half")
    Dist(dist).install({"b": (b"b", 0o644)})
    assert not dead.exists() and live.is_dir()
    cleaned = Dist(dist).clean()
    assert live.is_dir() and any(k.startswith("a") for k in cleaned.removed)


def test_a_failed_install_leaves_the_previous_files_and_no_staging(world, monkeypatch):
    dist = world.mine / "dist"
    Dist(dist).install({"x86_64/hello": (b"good", 0o755), "x86_64/hello.json": (b"{}", 0o644)})

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "rename", fail)
    with pytest.raises(UsageError, match="the previous build is unchanged") as error:
        Dist(dist).install({"x86_64/hello": (b"new", 0o755), "x86_64/hello.json": (b"{1}", 0o644)})
    one_line_usage_error(error)
    assert (dist / "x86_64" / "hello").read_bytes() == b"good"
    assert staged_left(dist) == []


def test_an_older_musltools_marker_is_not_a_licence_to_delete(world):
    dist = world.siblings / "thesis"
    (dist / RECORD).write_text("musltool output folder\n")
    with pytest.raises(UsageError, match="kept no record"):
        Dist(dist).clean()
    assert (dist / "thesis.tex").is_file()


def test_clean_of_a_folder_without_a_record_is_refused(world):
    with pytest.raises(UsageError, match="not a musltool output folder"):
        Dist(world.siblings).clean()
    assert world.changed() == {}


@pytest.mark.parametrize("name", [RECORD, STAGING, f"{STAGING}/x"])
def test_musltools_own_names_cannot_be_installed_over(world, name):
    with pytest.raises(UsageError):
        Dist(world.mine / "dist").install({name: (b"x", 0o644)})


@pytest.mark.parametrize("case", range(30))
def test_generated_dist_layouts_never_change_the_world(world, no_leaks, case):
    """Random mixes of user files, symlinks out (absolute and ../), FIFOs and folders at the
    places musltool writes, then an install and a clean."""
    rng = random.Random(SEED + case)
    dist = world.mine / "dist"
    (dist / "x86_64").mkdir(parents=True)
    targets = [world.etc / "passwd", world.home, Path("../../../../etc"), world.siblings / "photos", Path("/")]
    places = ["x86_64/hello", "x86_64/hello.json", "SHA256SUMS", "x86_64/hello.verify.txt", "x86_64/sub"]
    for place in rng.sample(places, rng.randint(1, len(places))):
        path = dist / place
        choice = rng.choice(["symlink", "fifo", "file", "folder"])
        if choice == "symlink":
            path.symlink_to(rng.choice(targets))
        elif choice == "fifo":
            os.mkfifo(path)
        elif choice == "file":
            path.write_text("user's own")
        else:
            path.mkdir()
            (path / "inside").write_text("user's own")
    files = {"x86_64/hello": (b"\x7fELF", 0o755), "x86_64/hello.json": (b"{}", 0o644), "SHA256SUMS": (b"s", 0o644)}
    if rng.random() < 0.5:
        files["x86_64/sub/deep"] = (b"deep", 0o644)
    try:
        Dist(dist).install(files)
    except UsageError as exc:
        assert "\n" not in str(exc)
    try:
        Dist(dist).clean()
    except UsageError as exc:
        assert "\n" not in str(exc)
    assert world.changed() == {}
    assert staged_left(dist) == [] or not dist.exists()


# ------------------------------------------------------------------ the cache


@pytest.fixture
def cache_env(monkeypatch):
    def use(path: Path) -> None:
        monkeypatch.setenv("MUSLTOOL_CACHE", str(path))

    yield use
    for held in list(cache_mod._held):
        cache_mod.release(Path(held))


@pytest.mark.parametrize("held", [["src"], ["src", "downloads"], ["notes.txt"]])
def test_a_cache_folder_holding_user_files_is_refused_not_claimed(world, cache_env, held):
    folder = world.mine / "users-folder"
    for name in held:
        (folder / name).mkdir(parents=True)
        (folder / name / "keep").write_text("the user's")
    before = snapshot(folder)
    cache_env(folder)
    with pytest.raises(UsageError, match="holds files musltool did not make") as error:
        cache_mod.cache_dir()
    one_line_usage_error(error)
    assert snapshot(folder) == before and world.changed() == {}


def test_an_empty_existing_cache_folder_is_used_but_its_folder_never_removed(world, cache_env):
    folder = world.mine / "empty-cache"
    folder.mkdir()
    cache_env(folder)
    cache_mod.cache_dir()
    (folder / "downloads").mkdir()
    (folder / "downloads" / "x.tar").write_bytes(b"x")
    (folder / "later.txt").write_text("the user's, put here afterwards")
    removed, _ = cache_mod.clean_cache(folder.resolve())
    assert folder.is_dir() and (folder / "later.txt").is_file() and not (folder / "downloads").exists()
    assert str(folder.resolve() / "downloads") in removed


def test_a_cache_musltool_made_goes_whole(world, cache_env):
    folder = world.mine / "new-cache"
    cache_env(folder)
    cache_mod.cache_dir()
    (folder / "work").mkdir()
    cache_mod.clean_cache(folder.resolve())
    assert not folder.exists()


def test_a_cache_in_use_by_another_run_is_not_removed(world, cache_env):
    folder = world.mine / "busy-cache"
    cache_env(folder)
    cache_mod.cache_dir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from musltool.cache import cache_dir; cache_dir(); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "MUSLTOOL_CACHE": str(folder)},
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UsageError, match="in use by another musltool run") as error:
            cache_mod.clean_cache(folder.resolve())
        one_line_usage_error(error)
        assert folder.is_dir()
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("path", ["with space", "tab\there", "new\nline"])
def test_a_cache_path_with_a_space_is_refused_before_work(world, cache_env, path):
    cache_env(world.mine / path)
    with pytest.raises(UsageError) as error:
        cache_mod.cache_dir()
    one_line_usage_error(error)
    assert not (world.mine / path).exists()


def test_a_symlink_part_of_the_cache_is_kept(world, cache_env):
    folder = world.mine / "cache"
    cache_env(folder)
    cache_mod.cache_dir()
    (folder / "src").symlink_to(world.home)
    _, kept = cache_mod.clean_cache(folder.resolve())
    assert any("symlink" in k for k in kept) and (folder / "src").is_symlink()
    assert world.changed() == {}


# ------------------------------------------------------------------ time stamps, processes


@pytest.mark.parametrize(("value", "ok"), [("0", True), (str(EPOCH_MAX), True), (str(EPOCH_MAX + 1), False),
                                           (str(10**20), False), ("-1", False), ("1e9", False), (" 7 ", True)])  # fmt: skip
def test_source_date_epoch_fits_every_format(monkeypatch, value, ok):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    if ok:
        assert 0 <= source_date_epoch() <= EPOCH_MAX
    else:
        with pytest.raises(UsageError) as error:
            source_date_epoch()
        one_line_usage_error(error)


def test_output_past_the_limit_stops_the_command_and_says_so():
    done = call([sys.executable, "-c", "import sys\nwhile True: sys.stdout.write('x' * 65536)"], limit=1 << 20)
    assert done.cut and len(done.stdout) == 1 << 20 and done.returncode != 0
    assert OUTPUT_LIMIT == 64 << 20


def test_a_command_is_not_held_up_by_what_it_left_holding_its_output(tmp_path):
    pid_file = tmp_path / "daemon.pid"
    started = time.monotonic()
    try:
        done = call(["sh", "-c", f"(setsid sh -c 'echo $$ > {pid_file}; exec sleep 60' &); echo started"])
        assert done.stdout == b"started\n" and done.returncode == 0
        assert time.monotonic() - started < 15
    finally:
        with contextlib.suppress(OSError, ValueError):
            daemon = int(pid_file.read_text())
            os.kill(daemon, signal.SIGKILL)
            for _ in range(100):  # gone once its parent (init) reaped it, or a zombie
                state = Path(f"/proc/{daemon}/stat").read_text().rsplit(")", 1)[1].split()[0]
                if state in "ZX":
                    break
                time.sleep(0.05)


def test_stdin_is_passed_as_bytes_and_as_a_descriptor(tmp_path):
    raw = bytes(range(256)) * 10
    assert call(["cat"], input=raw).stdout == raw
    source = tmp_path / "in"
    source.write_bytes(raw)
    with source.open("rb") as handle:
        assert call(["cat"], stdin=handle.fileno()).stdout == raw


def test_temporary_folders_carry_their_owner_and_only_dead_owners_are_leftovers(tmp_path):
    mine = Path(tempfile.mkdtemp(prefix=temp_prefix("case"), dir=tmp_path))
    dead = tmp_path / "musltool-case-0000deadbeef.1.1-abcd"
    dead.mkdir()
    foreign = tmp_path / "musltool-notes"
    foreign.mkdir()
    assert orphaned_temp_folders(tmp_path) == [dead]
    assert mine.is_dir() and foreign.is_dir()


def test_an_interrupted_command_that_is_let_finish_gets_the_end_of_its_input(tmp_path):
    """A command let finish on Ctrl-C (docker load) is told its input has ended, so it ends
    by itself at once instead of waiting for the rest until it is killed (that kept an
    interrupted docker build waiting a minute)."""
    started, ended = tmp_path / "started", tmp_path / "ended"
    reader = [sys.executable, "-c", f"import sys, time; open({str(started)!r}, 'w'); time.sleep(0.5); "
              f"sys.stdin.buffer.read(); open({str(ended)!r}, 'w').write('end of input')"]  # fmt: skip

    def interrupt_once_started() -> None:  # on a busy machine the reader may take a while to start
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    # Ctrl-C's own handler: a test worker, or a job started in the background, ignores SIGINT.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupt = threading.Thread(target=interrupt_once_started)
    interrupt.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            call(reader, input=b"x" * (64 << 20), finish_on_interrupt=True)
    finally:
        interrupt.join()
        signal.signal(signal.SIGINT, previous)
    # not killed after waiting: it read to the end of what it was given and exited
    assert ended.read_text() == "end of input"
