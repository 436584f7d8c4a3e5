"""A release from real verified builds, as the release workflow makes one: two per-ISA output
folders packaged on their own (fan-out), gathered into one release folder with a signing key
(fan-in), checked by `invoke verify-release`, by openssl over each DSSE envelope's
pre-authentication encoding, by sha256sum, and by an independent SPDX validator; a changed byte
or a missing ISA fails the check."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from musltool.isa import TIERS
from tests.integration.conftest import invoke

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}
HALVES = (("x86_64", "aarch64"), ("armv7", "riscv64"))
ASSETS = {"x86_64": "amd64", "aarch64": "arm64", "armv7": "armv7", "riscv64": "riscv64"}  # as eget matches them


def openssl_key(folder: Path, algorithm: str) -> tuple[Path, Path]:
    private, public = folder / f"{algorithm}.pem", folder / f"{algorithm}.pub"
    if algorithm == "ed25519":
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", private], check=True)
    else:
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-out", private], check=True)  # fmt: skip
    subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out", public], check=True)
    return private, public


def openssl_verifies(envelope_path: Path, public: Path, algorithm: str, work: Path) -> bool:
    """openssl's own check of the DSSE signature over PAE(payloadType, payload)."""
    envelope = json.loads(envelope_path.read_text())
    body, kind = base64.b64decode(envelope["payload"]), envelope["payloadType"].encode()
    (work / "pae").write_bytes(b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body))
    (work / "sig").write_bytes(base64.b64decode(envelope["signatures"][0]["sig"]))
    if algorithm == "ed25519":
        argv = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", public, "-rawin", "-in", work / "pae", "-sigfile", work / "sig"]
    else:
        argv = ["openssl", "dgst", "-sha256", "-verify", public, "-signature", work / "sig", work / "pae"]
    return subprocess.run(argv, capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def fanned_out(hello_dist, tmp_path_factory) -> list[Path]:
    """Two output folders, each with its ISAs' verified hello packaged on its own."""
    folders = []
    for number, isas in enumerate(HALVES):
        folder = tmp_path_factory.mktemp(f"job{number}") / "dist"
        for isa in isas:
            shutil.copytree(hello_dist / isa, folder / isa)
        proc = invoke("package", "--arch", ",".join(isas), "--dist", str(folder), "--no-build", env=EPOCH)
        assert proc.returncode == 0, proc.stderr
        folders.append(folder)
    return folders


@pytest.mark.parametrize("algorithm", ["ed25519", "p256"])
def test_gathered_release_is_signed_named_for_installers_and_verifies(fanned_out, tmp_path, algorithm):
    private, public = openssl_key(tmp_path, algorithm)
    out = tmp_path / "release"
    proc = invoke("release", "--from", str(fanned_out[0]), "--from", str(fanned_out[1]), "--out", str(out),
                  "--sign-key", str(private), env=EPOCH)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assets = sorted(p.name for p in out.glob("*.tar.gz"))
    assert assets == sorted(f"hello-1.0.0-linux-{arch}-musl.tar.gz" for arch in ASSETS.values())
    assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True).returncode == 0
    for asset in assets:
        assert subprocess.run(["sha256sum", "-c", f"{asset}.sha256"], cwd=out, capture_output=True).returncode == 0
        stem = asset.removesuffix(".tar.gz")
        for kind in ("test-result", "provenance"):
            assert openssl_verifies(out / f"{stem}.{kind}.dsse.json", public, algorithm, tmp_path), f"{stem} {kind}"
        sbom = out / f"{stem}.spdx.json"
        assert [m.validation_message for m in validate_full_spdx_document(parse_file(str(sbom)))] == []
    manifest = json.loads((out / "hello.manifest.json").read_text())
    for isa, arch in ASSETS.items():
        tested = json.loads(base64.b64decode(json.loads(
            (out / manifest["isas"][isa]["test-result"]).read_text())["payload"]))  # fmt: skip
        config = tested["predicate"]["configuration"][0]["annotations"]
        assert tested["predicate"]["result"] == "PASSED" and config["isa"] == isa
        assert config["qemu_cpu"] == next(i for i in TIERS["tier1"] if i.name == isa).qemu_cpu
        assert tested["subject"][0]["name"] == f"hello-1.0.0-linux-{arch}-musl.tar.gz"

    checked = invoke("verify-release", "--folder", str(out), "--key", str(public))
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.count("signed test result on") == 4


def test_a_changed_byte_a_missing_isa_or_another_key_fails_the_check(fanned_out, tmp_path):
    private, public = openssl_key(tmp_path, "ed25519")
    (tmp_path / "other").mkdir()
    _, other_public = openssl_key(tmp_path / "other", "ed25519")
    out = tmp_path / "release"
    assert invoke("release", "--from", f"{fanned_out[0]},{fanned_out[1]}", "--out", str(out),
                  "--sign-key", str(private), env=EPOCH).returncode == 0  # fmt: skip

    def fails(folder: Path, key: Path = public) -> str:
        proc = invoke("verify-release", "--folder", str(folder), "--key", str(key))
        assert proc.returncode == 7, proc.stdout
        assert proc.stderr.count("\n") == 1
        return proc.stderr

    assert "no signature by the given key" in fails(out, other_public)

    changed = tmp_path / "changed"
    shutil.copytree(out, changed)
    asset = changed / "hello-1.0.0-linux-riscv64-musl.tar.gz"
    data = bytearray(asset.read_bytes())
    data[100] ^= 1
    asset.write_bytes(bytes(data))
    assert "hello-1.0.0-linux-riscv64-musl.tar.gz: its sha256 is not the one SHA256SUMS lists" in fails(changed)

    missing = tmp_path / "missing"
    shutil.copytree(out, missing)
    (missing / "hello-1.0.0-linux-armv7-musl.test-result.dsse.json").unlink()
    assert "hello-1.0.0-linux-armv7-musl.test-result.dsse.json: listed in SHA256SUMS, not in the folder" in fails(missing)

    unsigned = tmp_path / "unsigned"
    assert invoke("release", "--from", str(fanned_out[0]), "--out", str(unsigned), env=EPOCH).returncode == 0
    assert "not in SHA256SUMS or not named" in fails(unsigned)


def test_a_folder_whose_tarball_is_not_its_verified_build_is_refused(fanned_out, tmp_path):
    folder = tmp_path / "dist"
    shutil.copytree(fanned_out[0], folder)
    (folder / "hello-1.0.0-x86_64.tar.gz").write_bytes(b"not what was verified")
    proc = invoke("release", "--from", str(folder), "--out", str(tmp_path / "release"), env=EPOCH)
    assert proc.returncode == 2 and "is not the tarball its manifest and verified build describe" in proc.stderr
    assert not (tmp_path / "release").exists()
