"""`release` and `verify-release` (musltool/release.py) over output folders holding builds
written here: the verifier refuses a statement that says FAILED, one of another ISA, one whose
subject is another file, and a manifest naming an ISA with no statement, even when every
signature and checksum is right."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from musltool.attest import SigningKey, envelope
from musltool.catalog import load_recipe
from musltool.errors import VerificationError
from musltool.files import sha256_bytes
from musltool.isa import get_isa
from musltool.package import package
from musltool.release import gather, verify_release
from tests.unit.test_package import install_build

KEY = SigningKey(ed25519.Ed25519PrivateKey.generate())
PUBLIC = KEY.private.public_key()


@pytest.fixture
def release(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    for isa in ("x86_64", "s390x"):
        install_build(tmp_path / "dist", isa)
    package(load_recipe("hello"), [get_isa("x86_64"), get_isa("s390x")], tmp_path / "dist")
    names = gather([tmp_path / "dist"], tmp_path / "out", KEY)
    assert names == ["hello-2.12.1-linux-amd64-musl.tar.gz", "hello-2.12.1-linux-s390x-musl.tar.gz"]
    return tmp_path / "out"


def resign(folder, name: str, change) -> None:
    """Rewrite a statement (changed by `change`), signed again with the right key, and relist it."""
    path = folder / name
    statement = json.loads(base64.b64decode(json.loads(path.read_text())["payload"]))
    change(statement)
    path.write_text(json.dumps(envelope(statement, KEY)))
    sums = folder / "SHA256SUMS"
    lines = [line if not line.endswith(f"  {name}") else f"{sha256_bytes(path.read_bytes())}  {name}"
             for line in sums.read_text().splitlines()]  # fmt: skip
    sums.write_text("\n".join(lines) + "\n")


def test_a_whole_release_verifies(release):
    assert len(verify_release(release, PUBLIC)) == 2


@pytest.mark.parametrize("change, why", [
    (lambda s: s["predicate"].update(result="FAILED"), "was not tested and passed on s390x"),
    (lambda s: s["predicate"]["configuration"][0]["annotations"].update(isa="x86_64"), "was not tested and passed on s390x"),
    (lambda s: s["subject"][0]["digest"].update(sha256="0" * 64), "its subject is not"),
    (lambda s: s.update(predicateType="https://slsa.dev/provenance/v1"), "is not https://in-toto.io/attestation/test-result/v0.1"),
])  # fmt: skip
def test_a_well_signed_statement_that_does_not_prove_the_isa_fails(release, change, why):
    resign(release, "hello-2.12.1-linux-s390x-musl.test-result.dsse.json", change)
    with pytest.raises(VerificationError, match=why):
        verify_release(release, PUBLIC)


def test_a_manifest_claiming_an_isa_without_its_statements_fails(release):
    manifest = json.loads((release / "hello.manifest.json").read_text())
    del manifest["isas"]["s390x"]["test-result"]
    (release / "hello.manifest.json").write_text(json.dumps(manifest))
    resign_sums = (release / "SHA256SUMS").read_text().splitlines()
    (release / "SHA256SUMS").write_text("\n".join(
        line if not line.endswith("  hello.manifest.json")
        else f"{sha256_bytes((release / 'hello.manifest.json').read_bytes())}  hello.manifest.json"
        for line in resign_sums) + "\n")  # fmt: skip
    with pytest.raises(VerificationError, match=r"hello s390x: not in SHA256SUMS or not named: \(none named\)"):
        verify_release(release, PUBLIC)


def test_a_sha256_file_that_disagrees_fails(release):
    (release / "hello-2.12.1-linux-amd64-musl.tar.gz.sha256").write_text("0" * 64 + "  x\n")
    with pytest.raises(VerificationError, match=r"amd64-musl\.tar\.gz\.sha256: not the sha256"):
        verify_release(release, PUBLIC)
