"""`package` (musltool/package.py) over a dist/ holding verified builds written here: the
tarball's members and modes, the manifest's fields, SHA256SUMS, and the refusals."""

from __future__ import annotations

import dataclasses
import json
import tarfile

import pytest

from musltool.catalog import load_recipe
from musltool.dist import Dist
from musltool.errors import UsageError
from musltool.files import sha256_bytes
from musltool.isa import get_isa
from musltool.package import package
from musltool.report import BuildReport, Check, Status, TestResult, Verification

BINARY = b"\x7fELF static hello"
HELPER = b"\x7fELF helper program"
CONFIG = b"CONFIG_X=y\n"


def install_build(
    root, isa: str, version: str = "2.12.1", companions=("hello.config",), ok: bool = True
):
    report = BuildReport(
        recipe="hello",
        version=version,
        isa=isa,
        triple=f"{isa}-linux-musl",
        binary="hello",
        size=len(BINARY),
        sha256=sha256_bytes(BINARY),
        toolchain={"provider": "zig", "version": "0.17.1"},
        checks=(Check("machine", True, isa), Check("no-interpreter", ok, "static")),
        verification=Verification("qemu", (TestResult("greets", Status.PASSED, "exit 0"),)),
        fingerprint="f" * 64,
        flags={"opt": "-Os"},
        details={"source_sha256": "5" * 64, "config_sha256": "c" * 64},
        companions=companions,
        programs={"helper": sha256_bytes(HELPER)},
        dependencies=({"name": "zlib", "version": "1.3.1"},),
    )
    files = {
        f"{isa}/hello": (BINARY, 0o755),
        f"{isa}/helper": (HELPER, 0o755),
        f"{isa}/hello.config": (CONFIG, 0o644),
        f"{isa}/hello.json": (report.to_json().encode(), 0o644),
    }
    Dist(root).install(files)
    return report


def members(path) -> dict[str, tuple[int, bytes | None]]:
    with tarfile.open(path) as tar:
        return {
            m.name: (m.mode, tar.extractfile(m).read() if m.isfile() else None)
            for m in tar.getmembers()
        }


def test_a_tarball_holds_the_binary_its_programs_and_companions_with_their_modes(tmp_path):
    install_build(tmp_path, "riscv64")
    (built,) = package(load_recipe("hello"), [get_isa("riscv64")], tmp_path)
    assert built.path == tmp_path / "hello-2.12.1-riscv64.tar.gz"
    assert built.sha256 == sha256_bytes(built.path.read_bytes())
    assert built.isa.name == "riscv64" and built.report.version == "2.12.1"
    assert members(built.path) == {
        "hello-2.12.1-riscv64": (0o755, None),
        "hello-2.12.1-riscv64/hello": (0o755, BINARY),
        "hello-2.12.1-riscv64/helper": (0o755, HELPER),
        "hello-2.12.1-riscv64/hello.config": (0o644, CONFIG),
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.sha256 = "0"  # type: ignore[misc]


def test_the_manifest_and_sums_describe_every_isa(tmp_path):
    for isa in ("x86_64", "aarch64"):
        install_build(tmp_path, isa)
    built = package(load_recipe("hello"), [get_isa("x86_64"), get_isa("aarch64")], tmp_path)
    text = (tmp_path / "hello.manifest.json").read_text()
    manifest = json.loads(text)
    assert text == json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    assert manifest["recipe"] == "hello" and manifest["version"] == "2.12.1"
    assert sorted(manifest["isas"]) == ["aarch64", "x86_64"]
    entry = manifest["isas"]["x86_64"]
    assert entry == {
        "package": "hello-2.12.1-x86_64.tar.gz",
        "package_sha256": sha256_bytes((tmp_path / "hello-2.12.1-x86_64.tar.gz").read_bytes()),
        "binary": "hello",
        "size": len(BINARY),
        "sha256": sha256_bytes(BINARY),
        "programs": {"helper": sha256_bytes(HELPER)},
        "dependencies": [{"name": "zlib", "version": "1.3.1"}],
        "toolchain": {"provider": "zig", "version": "0.17.1"},
        "flags": {"opt": "-Os"},
        "source_sha256": "5" * 64,
        "config_sha256": "c" * 64,
        "checks": {"machine": True, "no-interpreter": True},
        "verification": {
            "runner": "qemu",
            "passed": True,
            "counts": {
                "passed": 1,
                "present": 0,
                "failed": 0,
                "not-testable": 0,
                "expected-failure": 0,
            },
        },
        "sbom": "hello-2.12.1-x86_64.spdx.json",
        "vex": "hello-2.12.1-x86_64.vex.json",
        "cves": {"CVE-2025-26519": "fixed"},  # zig's bundled musl carries the iconv fix
    }
    sums = (tmp_path / "SHA256SUMS").read_text()
    tarballs = sorted(tmp_path.glob("*.tar.gz"))
    assert [t.name for t in tarballs] == [
        "hello-2.12.1-aarch64.tar.gz",
        "hello-2.12.1-x86_64.tar.gz",
    ]
    released = sorted(p for p in tmp_path.iterdir() if p.is_file() and p.name != "SHA256SUMS" and not p.name.startswith("."))
    assert [p.name for p in released] == [
        "hello-2.12.1-aarch64.spdx.json", "hello-2.12.1-aarch64.tar.gz", "hello-2.12.1-aarch64.vex.json",
        "hello-2.12.1-x86_64.spdx.json", "hello-2.12.1-x86_64.tar.gz", "hello-2.12.1-x86_64.vex.json",
        "hello.manifest.json",
    ]  # fmt: skip
    assert sums == "".join(f"{sha256_bytes(p.read_bytes())}  {p.name}\n" for p in released)
    assert {b.path.name: b.sha256 for b in built} == {
        t.name: sha256_bytes(t.read_bytes()) for t in tarballs
    }
    for name in ("hello-2.12.1-x86_64.tar.gz", "hello.manifest.json", "SHA256SUMS"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name


def test_the_manifest_version_is_the_builds_not_the_recipes(tmp_path):
    install_build(tmp_path, "armv7", version="2.10")
    package(load_recipe("hello"), [get_isa("armv7")], tmp_path)
    assert json.loads((tmp_path / "hello.manifest.json").read_text())["version"] == "2.10"


def test_a_missing_companion_is_named_and_nothing_is_written(tmp_path):
    install_build(tmp_path, "x86_64", companions=("hello.config", "hello.license"))
    with pytest.raises(
        UsageError, match=r"x86_64/hello.license is missing: the build that made hello installed it"
    ):
        package(load_recipe("hello"), [get_isa("x86_64")], tmp_path)
    assert not (tmp_path / "SHA256SUMS").exists()
    assert not list(tmp_path.glob("*.tar.gz"))


def test_an_unverified_build_is_refused(tmp_path):
    install_build(tmp_path, "x86_64", ok=False)
    with pytest.raises(UsageError, match="failed verification"):
        package(load_recipe("hello"), [get_isa("x86_64")], tmp_path)
