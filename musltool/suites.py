"""Suites as records: what a shell-script suite prints (one record a line), read back as tests.

  HELP|part|ok|none      the part's --help printed its usage text (or did not)
  PASS|parts|test        FAIL|parts|test|what it printed   (the first part is the one tested)
  KO|parts|test|stand-in|killed   the test run again with its first part replaced by a
                         stand-in (exit0, exit1, echo): killed (it failed, as it must) or survived
  SUITE-END              the suite ran to its end

A test that survives a stand-in proves nothing about its part (a shell builtin ran instead,
or the check does not look at the part's work), unless the stand-in is what the part does
(`true` exits 0 and prints nothing: the exit0 stand-in is `true`). ALIKE lists those.

A part is what a suite proves (an applet of a multi-call binary, say). The same records come from a suite run
under qemu-user and from one run on a booted system's console.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

SUITE_END = "SUITE-END"
STANDINS = ("exit0", "exit1", "echo")
ALIKE = {"true": {"exit0"}, "false": {"exit1"}, "echo": {"echo"}}  # a part a stand-in behaves as


@dataclass(frozen=True)
class SuiteTest:
    applet: str
    name: str
    passed: bool
    detail: str = ""
    source: str = "suite"
    # stand-in -> whether the test failed with its part knocked out (empty: not knocked out)
    knockouts: tuple[tuple[str, bool], ...] = ()

    @property
    def survived(self) -> list[str]:
        """The stand-ins this test passed with (those alike its part aside)."""
        alike = ALIKE.get(self.applet, set())
        return [standin for standin, killed in self.knockouts if not killed and standin not in alike]

    @property
    def proves(self) -> bool:
        """A passed test with a known answer that no stand-in passes too."""
        return self.passed and not self.survived


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
    knockouts: dict[tuple[str, str], list[tuple[str, bool]]] = {}
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
        elif kind == "KO" and len(fields) >= 4 and fields[0].split():
            knockouts.setdefault((fields[0].split()[0], fields[1]), []).append((fields[2], fields[3] == "killed"))
    if knockouts:
        outcome.tests = [replace(t, knockouts=tuple(knockouts.get((t.applet, t.name), ()))) for t in outcome.tests]
    return outcome


