"""Signed statements (musltool/attest.py): DSSE envelopes over in-toto Statements, with Ed25519
and ECDSA P-256 keys; a changed byte, another key or another payload type is refused; the
test-result predicate says FAILED for a failed verification and names what failed."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from musltool.attest import (
    PAYLOAD_TYPE,
    TEST_RESULT,
    SigningKey,
    envelope,
    load_public_key,
    open_envelope,
    pae,
    statement,
    verification_predicate,
)
from musltool.errors import UsageError
from musltool.report import BuildReport, Status, TestResult, Verification


def pem(private) -> bytes:
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.fixture(params=["ed25519", "p256"])
def key_pair(request, tmp_path):
    private = ed25519.Ed25519PrivateKey.generate() if request.param == "ed25519" else ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "key.pem").write_bytes(pem(private))
    (tmp_path / "key.pub").write_bytes(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))  # fmt: skip
    return SigningKey.load(tmp_path / "key.pem"), load_public_key(tmp_path / "key.pub")


def report(failed: bool = False) -> BuildReport:
    results = (TestResult("sh", Status.PASSED), TestResult("ls", Status.PRESENT, evidence="usage"),
               *((TestResult("awk", Status.FAILED, "exit 139"),) if failed else ()))  # fmt: skip
    return BuildReport(recipe="busybox", version="1.37.0", isa="armv6", triple="arm-linux-musleabihf",
                       binary="busybox", size=1, sha256="a" * 64, toolchain={"provider": "zig"}, checks=(),
                       verification=Verification("docker", results), fingerprint="f" * 64, flags={})  # fmt: skip


def test_the_pae_is_dsses():
    assert pae("t", b"ab") == b"DSSEv1 1 t 2 ab"


def test_an_envelope_opens_with_its_key_only_and_not_after_a_change(key_pair, tmp_path):
    key, public = key_pair
    signed = envelope(statement("x.tar.gz", "b" * 64, TEST_RESULT, {"result": "PASSED"}), key)
    opened = open_envelope(signed, public)
    assert opened["subject"] == [{"name": "x.tar.gz", "digest": {"sha256": "b" * 64}}]
    assert signed["signatures"][0]["keyid"] == key.keyid

    body = bytearray(base64.b64decode(signed["payload"]))
    body[body.index(b"PASSED")] = ord("F")
    with pytest.raises(ValueError, match="no signature"):
        open_envelope({**signed, "payload": base64.b64encode(bytes(body)).decode()}, public)
    other = SigningKey(ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(ValueError, match="no signature"):
        open_envelope(envelope(json.loads(base64.b64decode(signed["payload"])), other), public)
    with pytest.raises(ValueError, match="payload type"):
        open_envelope({**signed, "payloadType": "text/plain"}, public)
    with pytest.raises(ValueError, match="not a DSSE envelope"):
        open_envelope({"payload": "!!"}, public)
    assert signed["payloadType"] == PAYLOAD_TYPE


def test_keys_that_are_not_ed25519_or_p256_are_refused(tmp_path):
    (tmp_path / "rsa.pem").write_bytes(pem(rsa.generate_private_key(65537, 2048)))
    with pytest.raises(UsageError, match="Ed25519 or ECDSA P-256"):
        SigningKey.load(tmp_path / "rsa.pem")
    (tmp_path / "p384.pem").write_bytes(pem(ec.generate_private_key(ec.SECP384R1())))
    with pytest.raises(UsageError, match="Ed25519 or ECDSA P-256"):
        SigningKey.load(tmp_path / "p384.pem")
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(UsageError, match="not an unencrypted PEM private key"):
        SigningKey.load(tmp_path / "junk.pem")


def test_the_test_result_says_where_it_ran_and_what_failed():
    passed = verification_predicate(report())
    assert passed["result"] == "PASSED" and passed["passedTests"] == ["sh"] and passed["failedTests"] == []
    assert passed["warnedTests"] == ["ls (present)"]
    config = passed["configuration"][0]["annotations"]
    assert config["isa"] == "armv6" and config["qemu_cpu"] == "arm1176" and config["runner"] == "docker"
    failed = verification_predicate(report(failed=True))
    assert failed["result"] == "FAILED" and failed["failedTests"] == ["awk"]


def test_a_boot_of_firmware_holding_this_very_binary_goes_into_the_test_result():
    booted = {"system_sha256": "a" * 64, "machine": "virt", "cpu": "cortex-a15", "kernel": {"sha256": "k" * 64},
              "verification": {"results": [{"name": "login", "status": "passed"}, {"name": "rtc", "status": "failed"}]}}  # fmt: skip
    annotations = verification_predicate(report(), booted)["configuration"][0]["annotations"]
    assert annotations["boot"]["cpu"] == "cortex-a15" and annotations["boot"]["checks"]["failed"] == 1
    other = verification_predicate(report(), {**booted, "system_sha256": "b" * 64})
    assert "boot" not in other["configuration"][0]["annotations"]  # a boot of another binary proves nothing here
