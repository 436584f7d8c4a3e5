"""BusyBox for real: fetched through the mirror, configured by its Kconfig, verified under qemu."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from musltool.build import BuildOptions, build
from musltool.errors import DownloadError, UsageError, VerificationError
from musltool.isa import ISAS, get_isa
from musltool.recipes import load_recipe

ISA_NAMES = [isa.name for isa in ISAS]


def verified_busybox(dist: Path, isa_name: str) -> dict:
    report = json.loads((dist / isa_name / "busybox.json").read_text())
    assert report["verification"]["passed"], report["verification"]["table"]
    return report


def statuses(report: dict) -> dict[str, str]:
    return {r["name"]: r["status"] for r in report["verification"]["results"]}


@pytest.mark.parametrize("config", ["minimal", "defconfig"])
@pytest.mark.parametrize("isa_name", ISA_NAMES)
def test_config_builds_and_every_applet_is_proven(
    tmp_path, with_mirror, busybox_minimal_dist, isa_name, config
):
    if config == "minimal":
        dist = busybox_minimal_dist  # built once for the session, shared with release tests
    else:
        dist = tmp_path
        build(load_recipe("busybox"), get_isa(isa_name), BuildOptions(config=config, dist=dist))
    report = verified_busybox(dist, isa_name)
    applets = report["details"]["applets"]
    results = statuses(report)
    assert results["busybox --list"] == "passed"
    for applet in applets:
        assert results[f"applet {applet}"] in ("passed", "not-testable"), applet
    suite = [name for name in results if name.startswith("suite: ")]
    assert len(suite) >= (40 if config == "minimal" else 100)
    not_testable = [r for r in report["verification"]["results"] if r["status"] == "not-testable"]
    assert all(r["detail"] for r in not_testable)
    config_text = (dist / isa_name / "busybox.config").read_text()
    assert "CONFIG_STATIC=y" in config_text
    assert "# CONFIG_TC is not set" in config_text
    assert report["details"]["config_sha256"] == hashlib.sha256(config_text.encode()).hexdigest()
    if config == "minimal":
        assert 40 <= len(applets) <= 80
    else:
        assert len(applets) > 300


def test_applets_give_exactly_that_set(tmp_path, with_mirror):
    options = BuildOptions(applets=("sh", "ls", "awk"), dist=tmp_path)
    build(load_recipe("busybox"), get_isa("riscv64"), options)
    report = verified_busybox(tmp_path, "riscv64")
    applets = set(report["details"]["applets"])
    added = set(report["details"]["added_by_kconfig"])
    assert {"sh", "ls", "awk"} <= applets
    assert applets == {"sh", "ls", "awk"} | added
    assert added <= {"ash", "busybox"}  # sh is ash; nothing else may creep in
    results = statuses(report)
    assert results["busybox --list"] == "passed"
    # allnoconfig leaves ash without its echo builtin: applets are then run on their own.
    assert results["functional suite"] == "not-testable"
    assert all(results[f"applet {a}"] == "passed" for a in applets)


def test_unknown_applet_names_the_closest(with_mirror, tmp_path):
    with pytest.raises(UsageError) as err:
        build(
            load_recipe("busybox"),
            get_isa("aarch64"),
            BuildOptions(applets=("sh", "lss"), dist=tmp_path),
        )
    assert "unknown applet 'lss'" in str(err.value)
    assert "ls" in str(err.value)


def test_bad_config_path(with_mirror, tmp_path):
    with pytest.raises(UsageError, match="neither a file nor one of: defconfig, minimal"):
        build(
            load_recipe("busybox"),
            get_isa("aarch64"),
            BuildOptions(config=str(tmp_path / "missing.config"), dist=tmp_path),
        )


def test_source_hash_mismatch_fails_and_leaves_the_cache_clean(
    tmp_path, fresh_cache, monkeypatch, mirror_url
):
    tampered = tmp_path / "mirror"
    tampered.mkdir()
    original = Path(mirror_url.removeprefix("file://")) / "busybox-1.37.0.tar.bz2"
    data = bytearray(original.read_bytes())
    data[1000] ^= 0xFF
    (tampered / original.name).write_bytes(bytes(data))
    monkeypatch.setenv("MUSLTOOL_MIRRORS", tampered.as_uri())
    monkeypatch.setenv("MUSLTOOL_OFFLINE", "0")
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        build(
            load_recipe("busybox"),
            get_isa("x86_64"),
            BuildOptions(config="minimal", dist=tmp_path / "d"),
        )
    downloads = fresh_cache / "downloads"
    assert not [p for p in downloads.iterdir() if not p.name.endswith(".lock")]
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").rglob("busybox*"))


def test_older_version_builds_too(tmp_path, with_mirror):
    # awk and less of 1.35.0 segfault under qemu when clang (zig) builds them: see README.
    applets = ("sh", "ls", "cat", "sed", "grep", "tar", "gzip", "echo", "sort")
    build(
        load_recipe("busybox"),
        get_isa("aarch64"),
        BuildOptions(applets=applets, version="1.35.0", dist=tmp_path),
    )
    report = verified_busybox(tmp_path, "aarch64")
    assert report["details"]["busybox_version"] == "1.35.0"
    results = statuses(report)
    assert all(results[f"applet {a}"] in ("passed", "not-testable") for a in applets)
    assert all(
        results[f"applet {a}"] == "passed" for a in ("sh", "ls", "cat", "sed", "grep", "sort")
    )


def test_verification_catches_a_miscompiled_applet(tmp_path, with_mirror):
    """1.35.0's awk, built by zig, crashes under qemu: the build must fail, not ship."""
    with pytest.raises(VerificationError) as err:
        build(
            load_recipe("busybox"),
            get_isa("aarch64"),
            BuildOptions(applets=("sh", "echo", "awk"), version="1.35.0", dist=tmp_path),
        )
    table = Path(str(err.value).rsplit("(table: ", 1)[1].rstrip(")")).read_text()
    assert re.search(r"applet awk +failed", table)
    assert "Segmentation fault" in table
    assert not (tmp_path / "aarch64" / "busybox").exists()


def test_fragment_is_merged_over_the_base(tmp_path, with_mirror):
    fragment = tmp_path / "extra.config"
    fragment.write_text("CONFIG_ECHO=y\n# CONFIG_FEATURE_FANCY_ECHO is not set\n")
    options = BuildOptions(applets=("true",), fragment=fragment, dist=tmp_path / "d")
    build(load_recipe("busybox"), get_isa("x86_64"), options)
    report = verified_busybox(tmp_path / "d", "x86_64")
    assert {"true", "echo"} <= set(report["details"]["applets"])
    assert statuses(report)["suite: echo: prints arguments"] == "passed"
    assert (
        "# CONFIG_FEATURE_FANCY_ECHO is not set"
        in (tmp_path / "d" / "x86_64" / "busybox.config").read_text()
    )


def test_ctrl_c_leaves_nothing_half_written(tmp_path, with_mirror):
    """SIGINT to the whole process group, as a terminal's Ctrl-C does, in the middle of make."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    dist = tmp_path / "dist"
    proc = subprocess.Popen(
        [sys.executable, "-m", "invoke", "-r", str(root), "build", "--recipe", "busybox",
         "--arch", "riscv64", "--dist", str(dist), "--force"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    time.sleep(8)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "musltool: interrupted" in stderr and "Traceback" not in stderr
    assert not dist.exists() or not any(p.is_file() for p in dist.rglob("*"))
    work = Path(os.environ["MUSLTOOL_CACHE"]) / "work"
    assert not [p for p in work.iterdir() if p.name.startswith("busybox-riscv64")]
