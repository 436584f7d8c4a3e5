"""The key of the shared builds kept between runs (kept_builds.py), as git and dpkg tell it."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.integration.conftest import ROOT, SharedBuilds
from tests.integration.kept_builds import checkout_files, host_packages, run_key
from tests.sentinel import snapshot


def git(root, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_the_key_follows_tracked_and_untracked_files_not_ignored_ones(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("build/\n")
    (tmp_path / "verify.py").write_text("checks = 1\n")
    git(tmp_path, "add", ".")
    key = run_key(tmp_path)
    assert key is not None and key == run_key(tmp_path)
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "out.o").write_bytes(b"object")
    assert run_key(tmp_path) == key
    (tmp_path / "new_recipe.toml").write_text("")  # not added yet: still part of the source
    assert checkout_files(tmp_path) == [".gitignore", "new_recipe.toml", "verify.py"]
    assert run_key(tmp_path) != key
    (tmp_path / "new_recipe.toml").unlink()
    assert run_key(tmp_path) == key
    (tmp_path / "verify.py").write_text("checks = 2\n")  # an edit not committed counts
    assert run_key(tmp_path) != key


def test_the_host_packages_include_the_emulators_and_the_checkout_is_listed():
    packages = host_packages()
    assert packages is not None and "\nqemu-user-static " in f"\n{packages}"
    assert "musltool/verify.py" in (checkout_files(ROOT) or [])


def test_the_key_follows_what_the_environment_changes_in_a_build(tmp_path, monkeypatch):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    git(checkout, "init", "-q")
    (checkout / "verify.py").write_text("checks = 1\n")
    for name in ("SOURCE_DATE_EPOCH", "MUSLTOOL_TOOLCHAINS_DIR", "CFLAGS"):
        monkeypatch.delenv(name, raising=False)
    key = run_key(checkout)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dated = run_key(checkout)
    assert dated != key
    toolchains = tmp_path / "toolchains"
    toolchains.mkdir()
    (toolchains / "zig.toml").write_text('version = "0.17.1"\n')
    monkeypatch.setenv("MUSLTOOL_TOOLCHAINS_DIR", str(toolchains))
    with_toolchains = run_key(checkout)
    assert with_toolchains != dated
    (toolchains / "zig.toml").write_text('version = "0.17.2"\n')
    assert run_key(checkout) != with_toolchains
    now = run_key(checkout)
    monkeypatch.setenv("MUSLTOOL_TEST_TIMES", str(tmp_path / "times.jsonl"))  # each run's own file
    assert run_key(checkout) == now


def test_a_test_writing_into_a_shared_build_is_caught_at_the_next_use(tmp_path):
    shared = SharedBuilds(tmp_path / "kept", ())
    dist = tmp_path / "kept" / "busybox-auto-zig-default-config-minimal"
    (dist / "aarch64").mkdir(parents=True)
    (dist / "aarch64" / "busybox").write_bytes(b"\x7fELF verified")
    shared.files_record(dist, "aarch64").write_text(json.dumps(snapshot(dist / "aarch64")))
    shared.require_untouched(dist, "aarch64")
    (dist / "aarch64" / "busybox-rootfs-1.37.0-aarch64.tar").write_bytes(b"a test's own output")
    with pytest.raises(pytest.fail.Exception, match=r"changed the shared build .*: busybox-rootfs-1\.37\.0"):
        shared.require_untouched(dist, "aarch64")
    (dist / "aarch64" / "busybox-rootfs-1.37.0-aarch64.tar").unlink()
    (dist / "aarch64" / "busybox").write_bytes(b"\x7fELF patched")
    with pytest.raises(pytest.fail.Exception, match=r": busybox$"):
        shared.require_untouched(dist, "aarch64")
