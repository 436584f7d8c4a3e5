"""Mutation score of the unit tests over the modules that decide a verdict.

Each mutant is one small change to one module (a comparison flipped, `and` for `or`, a `not`
dropped, True for False, a constant off by one, a `return` of None), written into a copy of
the package; the unit test files that import that module then run against it. A mutant the
tests fail on (pytest's exit 1, or 2 when the module no longer imports, or a hang) is killed;
one they pass is a survivor: a change to a verdict no unit test notices. The tests first run
once on the module as it is and must pass (else a broken run, such as a missing host part,
would count as kills). Prints the score per module and overall, and every survivor.

Usage: python benchmarks/mutation.py [--module musltool/kconfig.py ...] [--jobs 2]
           [--timeout 120] [--list] [--number N ...]
Numbers, not assertions: this is a benchmark, not a test.

Why a driver of its own rather than mutmut: mutmut 3 rewrites every function of the package
into trampolines in a `mutants/` copy and runs the suite it finds; here each module is
guarded by a few unit test files (the integration tests need zig, qemu and docker, and take
45 minutes), so the driver maps a module to the unit tests that import it, runs only those,
and keeps its operators to the ones that change a decision (no string mutations).
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = (
    "musltool/elf.py", "musltool/verify.py", "musltool/report.py", "musltool/suites.py",
    "musltool/kinds/busybox/suite.py", "musltool/kinds/busybox/upstream.py", "musltool/fetch.py",
    "musltool/recipes.py", "musltool/schema.py", "musltool/dependencies.py",
    "musltool/package.py", "musltool/kconfig.py",
)  # fmt: skip
# Integration tests quick enough to run per mutant, for parts no unit test can reach (the
# testsuite's bwrap sandbox needs bwrap; unit tests need nothing but Python).
ALSO_GUARDED_BY = {
    "musltool/kinds/busybox/upstream.py": ("tests/integration/test_upstream_sandbox.py",),
}
COPIED = ("musltool", "tests", "recipes", "toolchains", "pyproject.toml", "tasks.py")
SWAPPED_COMPARISONS = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE,
    ast.LtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    module: str
    number: int
    line: int
    change: str


class Mutator(ast.NodeTransformer):
    """Counts the places it can change; with `target`, changes only that one."""

    def __init__(self, target: int | None = None) -> None:
        self.target = target
        self.count = 0
        self.done: tuple[int, str] | None = None

    def _here(self, node: ast.AST, change: str) -> bool:
        hit = self.count == self.target
        if hit:
            self.done = (getattr(node, "lineno", 0), change)
        self.count += 1
        return hit

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return node  # a docstring
        return self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for i, op in enumerate(node.ops):
            swapped = SWAPPED_COMPARISONS.get(type(op))
            if swapped and self._here(node, f"{type(op).__name__} -> {swapped.__name__}"):
                node.ops[i] = swapped()
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        if self._here(node, f"{type(node.op).__name__} -> {other.__name__}"):
            node.op = other()
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and self._here(node, "not removed"):
            return node.operand
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if isinstance(value, bool):
            if self._here(node, f"{value} -> {not value}"):
                return ast.copy_location(ast.Constant(not value), node)
        elif isinstance(value, int) and self._here(node, f"{value} -> {value + 1}"):
            return ast.copy_location(ast.Constant(value + 1), node)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        flips = {ast.Add: ast.Sub, ast.Sub: ast.Add}
        other = flips.get(type(node.op))
        if other and self._here(node, f"{type(node.op).__name__} -> {other.__name__}"):
            node.op = other()
        return node

    def visit_Return(self, node: ast.Return) -> ast.AST:
        self.generic_visit(node)
        returns_none = node.value is None or (isinstance(node.value, ast.Constant) and node.value.value is None)
        if not returns_none and self._here(node, "return None"):
            return ast.copy_location(ast.Return(ast.Constant(None)), node)
        return node


def mutants(module: str) -> list[Mutant]:
    source = (ROOT / module).read_text()
    counter = Mutator()
    counter.visit(ast.parse(source))
    found = []
    for number in range(counter.count):
        mutator = Mutator(number)
        mutator.visit(ast.parse(source))
        assert mutator.done is not None
        found.append(Mutant(module, number, *mutator.done))
    return found


def mutated_source(mutant: Mutant) -> str:
    tree = Mutator(mutant.number).visit(ast.parse((ROOT / mutant.module).read_text()))
    return ast.unparse(ast.fix_missing_locations(tree))


def imported(path: Path) -> set[str]:
    """The musltool modules a file imports (dotted names)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("musltool"):
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("musltool"))
    return names


def guarding_tests(module: str) -> list[Path]:
    """The unit test files that import the module, or import a module that imports it (and
    the integration tests named in ALSO_GUARDED_BY)."""
    dotted = module.removesuffix(".py").replace("/", ".")
    users = {dotted} | {
        str(path.relative_to(ROOT).with_suffix("")).replace("/", ".")
        for path in (ROOT / "musltool").rglob("*.py")
        if dotted in imported(path)
    }
    unit = [test for test in sorted((ROOT / "tests" / "unit").glob("test_*.py")) if imported(test) & users]
    # those importing the module itself first: most mutants die there, and pytest -x stops
    unit.sort(key=lambda test: dotted not in imported(test))
    return unit + [ROOT / extra for extra in ALSO_GUARDED_BY.get(module, ())]


def killed(mutant: Mutant | None, tests: list[Path], timeout: float) -> bool:
    """Whether the tests fail with the mutant in place (None: no mutant). A run that cannot
    test at all (pytest's usage error, no tests, an internal error) raises: not a kill."""
    # a build a test started may still be writing its cache there as pytest ends: not an error
    with tempfile.TemporaryDirectory(prefix="mutant-", ignore_cleanup_errors=True) as tmp:
        # the checkout's parts, so that the copy's package is the one imported (the checkout's
        # own would be: pytest puts the root of the tests' package first on sys.path)
        for part in COPIED:
            source = ROOT / part
            if source.is_dir():
                shutil.copytree(source, Path(tmp) / part, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.is_file():
                shutil.copy2(source, Path(tmp) / part)
        if mutant is not None:
            (Path(tmp) / mutant.module).write_text(mutated_source(mutant))
        env = {**os.environ, "PYTHONPATH": tmp, "PYTHONDONTWRITEBYTECODE": "1"}
        relative = [str(t.relative_to(ROOT)) for t in tests]
        try:
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *relative],
                cwd=tmp, env=env, capture_output=True, timeout=timeout,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return True  # a mutant that makes the tests hang is caught
        # 1: a test failed; 2: collection stopped (the mutant broke the module's import)
        if result.returncode not in (0, 1, 2):
            raise RuntimeError(f"pytest exit {result.returncode} for {mutant}: {result.stdout.decode()[-2000:]}")
        return result.returncode in (1, 2)


def run_all(found: list[Mutant], tests: list[Path], jobs: int, timeout: float) -> list[bool]:
    if not tests:
        return [False] * len(found)
    if killed(None, tests, timeout):  # the tests must pass on the module as it is
        raise RuntimeError(f"the tests fail without a mutant: {', '.join(t.name for t in tests)}")
    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(lambda m: killed(m, tests, timeout), found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", help="a module path (default: the verdict modules)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--number", type=int, action="append", help="only these mutants (numbers from --list)")
    args = parser.parse_args()
    total_killed = total = 0
    for module in args.module or MODULES:
        found = mutants(module)
        tests = guarding_tests(module)
        if args.list:
            for m in found:
                print(f"{module}:{m.line}: {m.change} (mutant {m.number})")
            continue
        if args.number is not None:
            found = [m for m in found if m.number in args.number]
        verdicts = run_all(found, tests, args.jobs, args.timeout)
        dead = sum(verdicts)
        total_killed += dead
        total += len(found)
        score = f"{100 * dead / len(found):.1f} %" if found else "-"
        names = ", ".join(t.name for t in tests) or "no unit test imports it"
        print(f"{module}: {dead} of {len(found)} mutants killed ({score}) by {names}", flush=True)
        for m in (m for m, k in zip(found, verdicts, strict=True) if not k):
            print(f"survived: {m.module}:{m.line}: {m.change} (mutant {m.number})", flush=True)
    if total:
        print(f"overall: {total_killed} of {total} killed, mutation score {100 * total_killed / total:.1f} %")


if __name__ == "__main__":
    main()
