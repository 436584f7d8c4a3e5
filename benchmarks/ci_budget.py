"""The time budget .ci/run ends with: where CI's wall and CPU time went.

Reads the JSON lines the tests wrote (MUSLTOOL_TEST_TIMES, tests/conftest.py) and prints the
phases of .ci/run (given as NAME=SECONDS), wall and CPU per test module and per shared build,
and the 25 slowest tests. Wall time of tests on two workers adds up to about twice the time
the run took; CPU leaves out what ran inside docker containers.

    python3 benchmarks/ci_budget.py TIMES.jsonl [apt=63 pip=20 tests=2400 ...]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

SLOWEST = 25


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def totals(rows: list[dict], key) -> list[tuple[str, float, float, int]]:
    """(name, wall, cpu, count) summed per key, slowest first."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for row in rows:
        entry = sums[key(row)]
        entry[0] += row["wall"]
        entry[1] += row["cpu"]
        entry[2] += 1
    return sorted(((name, w, c, int(n)) for name, (w, c, n) in sums.items()), key=lambda t: -t[1])


def table(title: str, rows: list[tuple[str, float, float, int]], limit: int | None = None) -> list[str]:
    lines = [f"== {title}", f"{'wall s':>8} {'cpu s':>8} {'n':>4}  name"]
    lines += [f"{wall:8.0f} {cpu:8.0f} {count:4d}  {name}" for name, wall, cpu, count in rows[:limit]]
    return lines


def report(rows: list[dict], phases: list[tuple[str, float]]) -> str:
    tests = [r for r in rows if r["kind"] == "test"]
    builds = [r for r in rows if r["kind"] == "shared build" and r["wall"] >= 1]
    lines = ["== CI phases (wall seconds)"] + [f"{seconds:8.0f}  {name}" for name, seconds in phases]
    if phases:
        lines.append(f"{sum(s for _, s in phases):8.0f}  total ({sum(s for _, s in phases) / 60:.1f} min)")
    lines += table("test modules (wall summed over workers, including the shared builds a test made)",
                   totals(tests, lambda r: module_of(r["name"])))  # fmt: skip
    lines += table("shared builds (made once, inside the test or warm-up that needed them first)",
                   totals(builds, lambda r: r["name"]))  # fmt: skip
    slowest = sorted(tests, key=lambda r: -r["wall"])[:SLOWEST]
    lines += table(f"the {SLOWEST} slowest tests", [(r["name"], r["wall"], r["cpu"], 1) for r in slowest])
    kept = [r for r in rows if r["kind"] == "kept build"]
    if kept:
        lines.append(f"shared builds kept from an earlier run of this checkout (tests/integration/kept_builds.py), "
                     f"not made again: {len({r['name'] for r in kept})}")  # fmt: skip
    lines.append(f"tests: {len(tests)}, wall summed {sum(r['wall'] for r in tests):.0f} s, "
                 f"CPU {sum(r['cpu'] for r in tests):.0f} s")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv or not Path(argv[0]).is_file():
        print("usage: ci_budget.py TIMES.jsonl [PHASE=SECONDS ...]", file=sys.stderr)
        return 2
    phases = [(name, float(seconds)) for name, _, seconds in (a.partition("=") for a in argv[1:])]
    print(report(load(Path(argv[0])), phases))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
