"""Suites as records: what a shell-script suite prints (one record a line), read back as tests.

  HELP|part|ok|none      the part's --help printed its usage text (or did not)
  PASS|parts|test        FAIL|parts|test|what it printed   (the first part is the one tested)
  SUITE-END              the suite ran to its end

A part is what a suite proves (an applet of a multi-call binary, say). The same records come from a suite run
under qemu-user and from one run on a booted system's console.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SUITE_END = "SUITE-END"


@dataclass(frozen=True)
class SuiteTest:
    applet: str
    name: str
    passed: bool
    detail: str = ""
    source: str = "suite"


@dataclass
class SuiteOutcome:
    usage: dict[str, bool] = field(default_factory=dict)  # applet -> printed usage text
    tests: list[SuiteTest] = field(default_factory=list)
    ended: bool = False

    def reached(self) -> set[str]:
        """Applets with usage text shown or a test run."""
        return {a for a, ok in self.usage.items() if ok} | {t.applet for t in self.tests}

    def merge(self, other: SuiteOutcome) -> SuiteOutcome:
        return SuiteOutcome(
            {**self.usage, **other.usage}, [*self.tests, *other.tests], self.ended or other.ended
        )


def parse_suite(output: str) -> SuiteOutcome:
    """The suite's records; lines that are not records are ignored."""
    outcome = SuiteOutcome()
    for line in output.splitlines():
        kind, _, rest = line.partition("|")
        fields = rest.split("|")
        if line == SUITE_END:
            outcome.ended = True
        elif kind == "HELP" and len(fields) >= 2:
            outcome.usage[fields[0]] = fields[1] == "ok"
        elif kind in ("PASS", "FAIL") and len(fields) >= 2 and fields[0].split():
            detail = fields[2] if len(fields) > 2 else ""
            outcome.tests.append(SuiteTest(fields[0].split()[0], fields[1], kind == "PASS", detail))
    return outcome


