"""Signed proof: in-toto Statements in DSSE envelopes, signed offline with a local key.

Two statements per released tarball: the test-result predicate (what was verified: ISA, the
qemu CPU model it ran on, the runner, counts, the tests that passed and failed, a project's own
testsuite where it ran) and SLSA provenance v1 (musltool's version, the recipe, its sources,
the toolchain and options). Each is a DSSE envelope whose signature covers the
pre-authentication encoding (PAE) of its payload, so any DSSE verifier (or openssl over the
PAE) checks it. Keys: Ed25519 or ECDSA P-256, PEM, read with `cryptography`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from musltool import __version__
from musltool.errors import UsageError
from musltool.isa import get_isa
from musltool.report import BuildReport, Status, TestResult, counts

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
TEST_RESULT = "https://in-toto.io/attestation/test-result/v0.1"
PROVENANCE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://musltool.invalid/build/v1"
BUILDER_ID = f"https://musltool.invalid/musltool@{__version__}"
KINDS = {"test-result": TEST_RESULT, "provenance": PROVENANCE}


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what the signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


# ------------------------------------------------------------------ keys


@dataclass(frozen=True)
class SigningKey:
    private: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise UsageError(f"--sign-key {path}: not an unencrypted PEM private key ({exc})") from exc
        if isinstance(key, ed25519.Ed25519PrivateKey) or (
            isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
        ):
            return cls(key)
        raise UsageError(f"--sign-key {path}: an Ed25519 or ECDSA P-256 key is needed")

    @property
    def keyid(self) -> str:
        return key_id(self.private.public_key())

    def sign(self, message: bytes) -> bytes:
        if isinstance(self.private, ed25519.Ed25519PrivateKey):
            return self.private.sign(message)
        return self.private.sign(message, ec.ECDSA(hashes.SHA256()))  # DER, as openssl writes it


PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


def key_id(public: PublicKey) -> str:
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def load_public_key(path: Path) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise UsageError(f"--key {path}: not a PEM public key ({exc})") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise UsageError(f"--key {path}: an Ed25519 or ECDSA P-256 public key is needed")
    return key


def signature_ok(public: PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        if isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, message)
        else:
            public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


# ------------------------------------------------------------------ statements


def statement(subject: str, sha256: str, predicate_type: str, predicate: dict[str, Any],
              also: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """An in-toto Statement about `subject` (and the files in `also`: name -> sha256)."""
    subjects = [{"name": subject, "digest": {"sha256": sha256}}]
    subjects += [{"name": name, "digest": {"sha256": digest}} for name, digest in sorted((also or {}).items())]
    return {"_type": STATEMENT_TYPE, "subject": subjects, "predicateType": predicate_type, "predicate": predicate}


def verification_predicate(report: BuildReport, booted: dict[str, Any] | None = None,
                           checked: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """The verification table as the test-result predicate, with where it ran (and the boot of
    firmware holding this very binary, where one passed: `booted` is its boot report)."""
    results = report.verification.results
    sources = sorted({r.source or "musltool" for r in results})
    by_source = {source: counts([r for r in results if (r.source or "musltool") == source]) for source in sources}
    annotations = {"isa": report.isa, "qemu_cpu": get_isa(report.isa).qemu_cpu, "runner": report.verification.runner,
                   "elf_checks": {c.name: c.ok for c in report.checks}, "counts": report.verification.counts(),
                   "counts_by_suite": by_source, "extra_evidence": report.details.get("extra_evidence", {})}
    if isinstance(booted, dict) and booted.get("system_sha256") == report.sha256:
        results_of_boot = booted.get("verification", {}).get("results", [])
        annotations["boot"] = {"machine": booted.get("machine"), "cpu": booted.get("cpu"), "kernel": booted.get("kernel"),
                               "checks": counts([TestResult.from_dict(r) for r in results_of_boot])}  # fmt: skip
    if checked:  # a check of the artifact itself beside its build's verification (an image run)
        annotations["artifact_check"] = dict(checked)
    warned = (Status.PRESENT, Status.EXPECTED_FAILURE, Status.NOT_TESTABLE)
    return {
        "result": "PASSED" if report.is_verified() else "FAILED",
        "configuration": [{"name": f"{report.isa} on qemu-user", "annotations": annotations}],
        "passedTests": [r.name for r in results if r.status is Status.PASSED],
        "warnedTests": [f"{r.name} ({r.status.value})" for r in results if r.status in warned],
        "failedTests": [r.name for r in results if r.status is Status.FAILED],
    }


def provenance_predicate(report: BuildReport, sources: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {"recipe": report.recipe, "version": report.version, "isa": report.isa,
                                   "toolchain": report.toolchain, "flags": report.flags},
            "internalParameters": {"fingerprint": report.fingerprint, "triple": report.triple},
            "resolvedDependencies": sources,
        },
        "runDetails": {"builder": {"id": BUILDER_ID, "version": {"musltool": report.musltool or __version__}}},
    }


def envelope(payload: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    signature = key.sign(pae(PAYLOAD_TYPE, body))
    return {"payloadType": PAYLOAD_TYPE, "payload": base64.b64encode(body).decode(),
            "signatures": [{"keyid": key.keyid, "sig": base64.b64encode(signature).decode()}]}  # fmt: skip


def open_envelope(envelope_data: dict[str, Any], public: PublicKey) -> dict[str, Any]:
    """The statement inside, if a signature by `public` covers it; else ValueError saying why."""
    try:
        body = base64.b64decode(envelope_data["payload"], validate=True)
        signatures = [base64.b64decode(s["sig"], validate=True) for s in envelope_data["signatures"]]
        payload_type = envelope_data["payloadType"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a DSSE envelope ({exc})") from exc
    if payload_type != PAYLOAD_TYPE:
        raise ValueError(f"payload type {payload_type!r} is not an in-toto statement")
    if not any(signature_ok(public, sig, pae(payload_type, body)) for sig in signatures):
        raise ValueError("no signature by the given key covers it")
    return json.loads(body)
