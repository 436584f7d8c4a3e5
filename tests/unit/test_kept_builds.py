"""The shared builds kept between test runs (tests/integration/kept_builds.py): the key moves with
every file and the host, and the clean-up removes only unused folders the module made."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration import kept_builds
from tests.integration.kept_builds import (
    IN_USE,
    MARKER,
    emulators,
    environment,
    kept_builds_folder,
    remove_unused_keys,
    run_key,
    source_key,
)
from tests.sentinel import World, snapshot

OLD, NEW = "a" * 64, "b" * 64


def checkout(root: Path) -> list[str]:
    (root / "musltool").mkdir(parents=True)
    (root / "musltool" / "verify.py").write_text("def verify(): 1\n")
    (root / "README.md").write_text("musltool\n")
    return ["README.md", "musltool/verify.py"]


def test_the_key_moves_with_any_file_content_list_and_host(tmp_path):
    files = checkout(tmp_path)
    key = source_key(tmp_path, files, "qemu-user-static 1:7.2")
    assert key == source_key(tmp_path, files, "qemu-user-static 1:7.2")
    assert key != source_key(tmp_path, files, "qemu-user-static 1:7.2+dfsg-7")
    (tmp_path / "recipe.toml").write_text("")
    assert key != source_key(tmp_path, [*files, "recipe.toml"], "qemu-user-static 1:7.2")
    (tmp_path / "musltool" / "verify.py").write_text("def verify(): 2\n")  # the same length
    assert key != source_key(tmp_path, files, "qemu-user-static 1:7.2")
    (tmp_path / "musltool" / "verify.py").unlink()
    assert key != source_key(tmp_path, files, "qemu-user-static 1:7.2")


def kept_folder(root: Path, key: str, marked: bool = True) -> Path:
    folder = root / key
    (folder / "busybox-auto-zig-default" / "x86_64").mkdir(parents=True)
    (folder / "busybox-auto-zig-default" / "x86_64" / "busybox").write_bytes(b"\x7fELF")
    if marked:
        (folder / MARKER).touch()
    return folder


def test_clean_up_removes_only_unused_marked_key_folders(tmp_path):
    world = World.make(tmp_path / "world")
    root = world.mine
    unused = kept_folder(root, OLD)
    in_use = kept_folder(root, "c" * 64)
    unmarked = kept_folder(root, "d" * 64, marked=False)
    not_a_key = kept_folder(root, "thesis")
    linked = root / ("e" * 64)
    (world.siblings / "thesis" / MARKER).touch()
    linked.symlink_to(world.siblings / "thesis")
    world.before = snapshot(world.root, (root,))
    # another run's worker holds its folder in use (flock: separate open files conflict)
    holder = os.open(in_use / IN_USE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_SH)
    kept = {p: snapshot(p) for p in (in_use, unmarked, not_a_key)}
    try:
        assert remove_unused_keys(root, keep=NEW) == [unused]
    finally:
        os.close(holder)
    assert not unused.exists()
    assert {p: snapshot(p) for p in (in_use, unmarked, not_a_key)} == kept
    assert linked.is_symlink() and world.changed() == {}
    assert remove_unused_keys(root, keep="c" * 64) == []  # its own key is kept, used or not


def test_a_run_holds_its_folder_in_use_until_it_ends(tmp_path):
    root = tmp_path / "kept"
    script = (
        "import sys, time; from pathlib import Path\n"
        "from tests.integration.kept_builds import kept_builds_folder\n"
        f"kept_builds_folder(Path({str(root)!r}), {NEW!r}); print('held', flush=True); time.sleep(60)\n"
    )
    root_of_repo = Path(__file__).resolve().parents[2]
    other = subprocess.Popen([sys.executable, "-c", script], cwd=root_of_repo, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline() == "held\n"
        assert (root / NEW / MARKER).is_file()
        assert kept_builds_folder(root, OLD) == root / OLD  # a run of another key leaves it
        assert (root / NEW).is_dir()
    finally:
        other.kill()
        other.wait()
    # that run ended and this process holds OLD: the next run of a third key removes NEW only
    assert remove_unused_keys(root, keep="f" * 64) == [root / NEW]
    assert (root / OLD / MARKER).is_file()


def test_a_symlink_in_place_of_the_key_folder_is_refused(tmp_path):
    world = World.make(tmp_path / "world")
    world.mine.mkdir(parents=True, exist_ok=True)
    (world.mine / NEW).symlink_to(world.etc)
    with pytest.raises(RuntimeError, match="not a folder of kept test builds"):
        kept_builds_folder(world.mine, NEW)
    assert world.changed() == {}


def test_a_folder_named_by_the_key_it_did_not_make_is_refused_untouched(tmp_path):
    theirs = kept_folder(tmp_path, NEW, marked=False)
    before = snapshot(theirs)
    with pytest.raises(RuntimeError, match="not a folder of kept test builds"):
        kept_builds_folder(tmp_path, NEW)
    assert snapshot(theirs) == before


def test_a_removal_cut_short_is_finished_and_odd_lock_files_keep_a_folder(tmp_path):
    cut_short = kept_folder(tmp_path, OLD).rename(tmp_path / f"{OLD}.removing")
    never_taken = kept_folder(tmp_path, "c" * 64)  # marked, no in-use.lock: no run took it
    linked_lock = kept_folder(tmp_path, "d" * 64)
    (linked_lock / IN_USE).symlink_to(tmp_path / "elsewhere.lock")
    linked_marker = kept_folder(tmp_path, "e" * 64, marked=False)
    (tmp_path / "marker-elsewhere").touch()
    (linked_marker / MARKER).symlink_to(tmp_path / "marker-elsewhere")
    assert remove_unused_keys(tmp_path, keep=NEW) == [never_taken]
    assert not cut_short.exists() and not never_taken.exists()
    assert linked_lock.is_dir() and linked_marker.is_dir() and (tmp_path / "marker-elsewhere").is_file()
    assert not (tmp_path / "elsewhere.lock").exists()


def test_every_part_of_the_host_moves_the_key(tmp_path, monkeypatch):
    files = checkout(tmp_path)
    monkeypatch.setattr(kept_builds, "checkout_files", lambda root: files)
    parts = {"host_packages": "qemu-user-static 1:7.2", "python_packages": "ziglang 0.17.1", "kernel": "6.1.0",
             "emulators": "interpreter /usr/bin/qemu-aarch64-static", "environment": "PATH=/usr/bin",
             "musltool_cache": "/root/.cache/musltool 12 34"}  # fmt: skip
    for name, value in parts.items():
        monkeypatch.setattr(kept_builds, name, lambda value=value: value)
    key = run_key(tmp_path)
    assert key is not None
    for name, value in parts.items():
        monkeypatch.setattr(kept_builds, name, lambda value=value: value + " changed")
        assert run_key(tmp_path) != key, name
        monkeypatch.setattr(kept_builds, name, lambda value=value: value)
    assert run_key(tmp_path) == key
    monkeypatch.setattr(kept_builds, "host_packages", lambda: None)
    assert run_key(tmp_path) is None  # not a Debian host: nothing is kept


def test_the_emulators_part_holds_each_entry_and_its_interpreter(tmp_path):
    binfmt = tmp_path / "binfmt_misc"
    binfmt.mkdir()
    interpreter = tmp_path / "qemu-aarch64-static"
    interpreter.write_bytes(b"qemu 7.2")
    (binfmt / "status").write_text("enabled\n")
    (binfmt / "qemu-aarch64").write_text(f"enabled\ninterpreter {interpreter}\nflags: POF\n")
    first = emulators(binfmt)
    assert "flags: POF" in first
    interpreter.write_bytes(b"qemu 8.0")
    assert emulators(binfmt) != first
    interpreter.write_bytes(b"qemu 7.2")
    (binfmt / "qemu-aarch64").write_text(f"enabled\ninterpreter {interpreter}\nflags: PO\n")
    assert emulators(binfmt) != first


def test_the_environment_part_leaves_out_only_one_runs_variables(monkeypatch):
    monkeypatch.setenv("MUSLTOOL_TEST_TIMES", "/tmp/run-1.jsonl")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    monkeypatch.setenv("CPPFLAGS", "-DNDEBUG")
    first = environment()
    monkeypatch.setenv("MUSLTOOL_TEST_TIMES", "/tmp/run-2.jsonl")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    assert environment() == first
    monkeypatch.setenv("CPPFLAGS", "-DDEBUG")
    assert environment() != first
    monkeypatch.setenv("MUSLTOOL_CACHE", "/elsewhere")
    assert "MUSLTOOL_CACHE=/elsewhere" in environment()


def test_the_cache_part_makes_no_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSLTOOL_CACHE", str(tmp_path / "cache"))
    assert kept_builds.musltool_cache() == f"{tmp_path / 'cache'} no marker"
    assert not (tmp_path / "cache").exists()
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / ".musltool-cache").write_text("{}")
    first = kept_builds.musltool_cache()
    (tmp_path / "cache" / ".musltool-cache").unlink()  # emptied, and made again
    (tmp_path / "cache" / "new").write_text("")
    (tmp_path / "cache" / ".musltool-cache").write_text("{}")
    assert kept_builds.musltool_cache() != first
