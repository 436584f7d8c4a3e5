"""Build reports: what a build made, how it was checked and verified, as one typed record.

A report is written beside the binary as `<binary>.json` (sorted keys, no timestamps: the
same build gives the same bytes) and read back (through musltool.dist, which owns the output
folder) by the up-to-date check, packaging and the root filesystem. Reading validates its shape: a report of the wrong shape is an error, never
an AttributeError later.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from musltool import __version__
from musltool.errors import UsageError


class Status(StrEnum):
    PASSED = "passed"  # a known answer came out: proven
    # In the binary and printed its usage text, no test here proves it: present, not passed
    # (a multi-call binary may print --help before the applet's own code runs).
    PRESENT = "present"
    FAILED = "failed"
    NOT_TESTABLE = "not-testable"
    EXPECTED_FAILURE = "expected-failure"  # on a reviewed list, with its cause


class Evidence(StrEnum):
    """What a passed result rests on."""

    FUNCTIONAL = "functional"  # ran and gave a known answer
    USAGE = "usage"  # only printed its usage text (status present)
    NONE = "none"  # failed or not testable


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class

    name: str
    status: Status
    detail: str = ""
    evidence: Evidence = Evidence.FUNCTIONAL
    source: str = ""  # which suite or check gave this result

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED

    def as_dict(self) -> dict[str, str]:
        return {key: str(value) for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestResult:
        return cls(
            name=_text(data, "name"),
            status=_enum(Status, data, "status"),
            detail=str(data.get("detail", "")),
            evidence=_enum(Evidence, data, "evidence", Evidence.FUNCTIONAL),
            source=str(data.get("source", "")),
        )


@dataclass(frozen=True)
class Check:
    """One ELF check of the binary (machine, static, float ABI ...)."""

    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        return cls(_text(data, "name"), bool(data.get("ok")), str(data.get("detail", "")))


def counts(results: tuple[TestResult, ...] | list[TestResult]) -> dict[str, int]:
    """Results per status, every status listed."""
    return {status.value: sum(r.status is status for r in results) for status in Status}


def evidence_counts(results: tuple[TestResult, ...] | list[TestResult]) -> dict[str, int]:
    """Passed results per kind of evidence."""
    passed = [r for r in results if r.status is Status.PASSED]
    return {kind.value: sum(r.evidence is kind for r in passed) for kind in Evidence if kind is not Evidence.NONE}


# What the table's evidence column says for a status.
EVIDENCE_WORDS = {Status.PASSED: lambda e: e.value, Status.PRESENT: lambda e: "usage only"}


@dataclass(frozen=True)
class Verification:
    runner: str
    results: tuple[TestResult, ...]
    headline: str = ""  # the kind's summary of what was proven, of what (applets, say)

    @property
    def passed(self) -> bool:
        """Verified: at least one result, and none failed. An empty list proves nothing."""
        return bool(self.results) and not any(r.failed for r in self.results)

    def counts(self) -> dict[str, int]:
        return counts(self.results)

    def table(self, isa: str) -> str:
        """A plain-text table: the headline (what was proven, of what), one row per result."""
        width = max([len(r.name) for r in self.results] + [4])
        rows = [
            f"{r.name:<{width}}  {r.status.value:<12}  {EVIDENCE_WORDS.get(r.status, lambda e: '')(r.evidence):<12}  {r.detail}".rstrip()
            for r in self.results
        ]
        summary = ", ".join(f"{n} {s}" for s, n in self.counts().items())
        header = f"verification on {isa} with {self.runner}: {summary}"
        title = f"{'test':<{width}}  {'status':<12}  {'evidence':<12}  detail"
        return "\n".join([*([self.headline] if self.headline else []), header, "", title, *rows]) + "\n"

    def as_dict(self) -> dict[str, Any]:
        return {
            "runner": self.runner,
            "passed": self.passed,
            "counts": self.counts(),
            "evidence": evidence_counts(self.results),
            "headline": self.headline,
            "results": [r.as_dict() for r in self.results],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verification:
        results = data.get("results")
        if not isinstance(results, list):
            raise ReportError("verification.results is not a list")
        return cls(_text(data, "runner"), tuple(TestResult.from_dict(_mapping(r)) for r in results),
                   str(data.get("headline", "")))  # fmt: skip


@dataclass(frozen=True)
class BuildReport:
    recipe: str
    version: str  # the version built (--version 1.35.0 says 1.35.0)
    isa: str
    triple: str
    binary: str
    size: int
    sha256: str
    toolchain: dict[str, str]
    checks: tuple[Check, ...]
    verification: Verification
    fingerprint: str
    flags: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    companions: tuple[str, ...] = ()  # files installed beside the binary that belong to it
    programs: dict[str, str] = field(default_factory=dict)  # more executables: name -> sha256
    # Libraries it was built against: name, version, source (URL) and sha256 (of the source
    # tarball, or of the recipe folder for a recipe with no upstream source).
    dependencies: tuple[dict[str, str], ...] = ()
    musltool: str = __version__

    def is_verified(self) -> bool:
        return self.verification.passed and all(c.ok for c in self.checks)

    def to_json(self) -> str:
        data = {
            "recipe": self.recipe,
            "version": self.version,
            "isa": self.isa,
            "triple": self.triple,
            "binary": self.binary,
            "size": self.size,
            "sha256": self.sha256,
            "toolchain": self.toolchain,
            "flags": self.flags,
            "details": self.details,
            "companions": list(self.companions),
            "programs": self.programs,
            "dependencies": list(self.dependencies),
            "checks": [c.as_dict() for c in self.checks],
            "verification": self.verification.as_dict(),
            "fingerprint": self.fingerprint,
            "musltool": self.musltool,
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> BuildReport:
        try:
            data = _mapping(json.loads(text))
        except ValueError as exc:
            raise ReportError(f"not JSON: {exc}") from exc
        recipe = _text(data, "recipe")
        checks = data.get("checks")
        if not isinstance(checks, list):
            raise ReportError("checks is not a list")
        size = data.get("size")
        if not isinstance(size, int):
            raise ReportError("size is not a number")
        return cls(
            recipe=recipe,
            version=_text(data, "version"),
            isa=_text(data, "isa"),
            triple=_text(data, "triple"),
            binary=_text(data, "binary"),
            size=size,
            sha256=_text(data, "sha256"),
            toolchain={str(k): str(v) for k, v in _mapping(data.get("toolchain")).items()},
            checks=tuple(Check.from_dict(_mapping(c)) for c in checks),
            verification=Verification.from_dict(_mapping(data.get("verification"))),
            fingerprint=_text(data, "fingerprint"),
            flags=_mapping(data.get("flags", {})),
            details=_mapping(data.get("details", {})),
            companions=tuple(str(c) for c in data.get("companions", [])),
            programs={str(k): str(v) for k, v in _mapping(data.get("programs", {})).items()},
            dependencies=tuple(
                {str(k): str(v) for k, v in _mapping(d).items()} for d in data.get("dependencies", [])
            ),
            musltool=str(data.get("musltool", "")),
        )


class ReportError(UsageError):
    """A report file that is not a musltool build report."""


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ReportError(f"expected an object, found {type(value).__name__}")
    return value


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ReportError(f"{key} is missing or not text")
    return value


def _enum(kind: type[StrEnum], data: dict[str, Any], key: str, default: StrEnum | None = None):
    value = data.get(key)
    if value is None and default is not None:
        return default
    try:
        return kind(value)
    except ValueError as exc:
        raise ReportError(f"{key} {value!r} is not one of {', '.join(k.value for k in kind)}") from exc
