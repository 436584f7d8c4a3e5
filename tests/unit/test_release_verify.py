"""`release` and `verify-release` (musltool/release.py) over output folders holding builds
written here: the verifier refuses a statement that says FAILED, one of another ISA, one whose
subject is another file, and a manifest naming an ISA with no statement, even when every
signature and checksum is right."""

from __future__ import annotations

import base64
import io
import json
import tarfile

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from musltool.attest import SigningKey, envelope
from musltool.catalog import load_recipe
from musltool.errors import UsageError, VerificationError
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


def test_a_sums_line_or_a_manifest_naming_a_file_outside_the_folder_is_refused(release):
    sums = release / "SHA256SUMS"
    sums.write_text(sums.read_text() + "0" * 64 + "  ../../etc/passwd\n")
    with pytest.raises(VerificationError, match="no file of this folder"):
        verify_release(release, PUBLIC)


def test_a_manifest_that_is_not_json_or_names_another_folder_is_one_usage_error(release, tmp_path):
    manifest = release / "hello.manifest.json"
    data = json.loads(manifest.read_text())
    data["isas"]["s390x"]["vex"] = "../outside.json"
    manifest.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="not a file of this folder"):
        verify_release(release, PUBLIC)
    manifest.write_text("{not json")
    with pytest.raises(UsageError, match="is not a manifest musltool wrote"):
        gather([release], tmp_path / "again", KEY)


def relist(folder) -> None:
    """SHA256SUMS made again over the folder as it is now (what a forger would do)."""
    names = sorted(p.name for p in folder.iterdir() if p.name != "SHA256SUMS" and not p.name.endswith(".sha256")
                   and not p.name.startswith("."))  # fmt: skip
    (folder / "SHA256SUMS").write_text("".join(f"{sha256_bytes((folder / n).read_bytes())}  {n}\n" for n in names))


def test_a_tarball_under_another_isas_asset_name_fails(release):
    manifest = json.loads((release / "hello.manifest.json").read_text())
    manifest["isas"]["s390x"] |= {k: manifest["isas"]["x86_64"][k] for k in ("package", "package_sha256")}
    (release / "hello.manifest.json").write_text(json.dumps(manifest))
    relist(release)
    with pytest.raises(VerificationError, match="named as the asset of s390x"):
        verify_release(release, PUBLIC)


def test_a_file_outside_the_sums_or_a_tarball_no_manifest_claims_fails(release):
    (release / "extra.tar.gz").write_bytes(b"smuggled")
    with pytest.raises(VerificationError, match=r"extra\.tar\.gz: in the folder, not in SHA256SUMS"):
        verify_release(release, PUBLIC)
    relist(release)
    with pytest.raises(VerificationError, match=r"extra\.tar\.gz: a tarball no manifest claims"):
        verify_release(release, PUBLIC)


def test_gather_trusts_the_tarball_not_its_manifest(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dist = tmp_path / "dist"
    install_build(dist, "x86_64")
    package(load_recipe("hello"), [get_isa("x86_64")], dist)
    other = tmp_path / "fake.tar.gz"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("hello-2.12.1-x86_64/hello")
        info.size = len(b"\x7fELF another program")
        tar.addfile(info, io.BytesIO(b"\x7fELF another program"))
    other.write_bytes(buffer.getvalue())
    manifest = json.loads((dist / "hello.manifest.json").read_text())
    (dist / "hello-2.12.1-x86_64.tar.gz").write_bytes(other.read_bytes())
    manifest["isas"]["x86_64"]["package_sha256"] = sha256_bytes(other.read_bytes())  # the manifest edited to match
    (dist / "hello.manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UsageError, match="is not the tarball its manifest and verified build describe"):
        gather([dist], tmp_path / "out", KEY)


def test_a_release_never_goes_into_a_folder_holding_builds(release, tmp_path):
    with pytest.raises(UsageError, match="a folder of its own"):
        gather([tmp_path / "dist"], tmp_path / "dist", KEY)
    assert (tmp_path / "dist" / "x86_64" / "hello").is_file()


def test_a_changed_vex_or_sbom_fails_even_with_sums_made_again(release):
    vex = release / "hello-2.12.1-linux-s390x-musl.vex.json"
    document = json.loads(vex.read_text())
    document["statements"][0]["status"] = "not_affected"
    vex.write_text(json.dumps(document))
    relist(release)
    with pytest.raises(VerificationError, match=r"does not sign hello-2\.12\.1-linux-s390x-musl\.vex\.json"):
        verify_release(release, PUBLIC)
