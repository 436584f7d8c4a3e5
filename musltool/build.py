"""The build pipeline: compile with a toolchain, check the ELF, verify under qemu, install."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from musltool import __version__, settings
from musltool.container import Tree
from musltool.elf import Check, require_static_binary
from musltool.errors import UsageError, VerificationError
from musltool.fetch import default_options
from musltool.isa import Isa
from musltool.recipes import Recipe
from musltool.runners import Session, check_runner_name, get_runner
from musltool.toolchain import get_toolchain
from musltool.toolchain.base import BASE_CFLAGS, BASE_LDFLAGS, Toolchain
from musltool.util import atomic_write_bytes, atomic_write_text, log, run, sha256_file
from musltool.verify import TestResult, run_smoke_tests


@dataclass(frozen=True)
class BuildOptions:
    toolchain: str = "zig"
    runner: str = "auto"
    dist: Path = Path("dist")
    force: bool = False
    mirrors: tuple[str, ...] = ()  # from invoke's config; MUSLTOOL_MIRRORS adds more
    # BusyBox only: a base config (defconfig | minimal | path), applets, a fragment, a version.
    config: str | None = None
    applets: tuple[str, ...] = ()
    fragment: Path | None = None
    version: str | None = None


@dataclass
class Built:
    """What a builder made: the binary, files installed beside it, and how it was made."""

    binary: Path
    extras: dict[str, Path] = field(default_factory=dict)
    flags: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class BuildResult:
    isa: Isa
    binary: Path
    report: dict[str, Any]
    up_to_date: bool
    # Wall seconds per phase (compile, verify); kept out of the report so it stays reproducible.
    timings: dict[str, float] = field(default_factory=dict)


class Builder(ABC):
    """Turns one recipe into a static binary for one ISA and knows how to verify it."""

    def __init__(self, recipe: Recipe, isa: Isa, toolchain: Toolchain, options: BuildOptions):
        self.recipe = recipe
        self.isa = isa
        self.toolchain = toolchain
        self.options = options

    def inputs(self) -> dict[str, Any]:
        """Everything besides recipe and toolchain that changes the output."""
        return {}

    @abstractmethod
    def compile(self, workdir: Path) -> Built: ...

    def session_files(self, built: Built) -> Tree:
        """What the emulated program sees: by default the binary alone."""
        tree = Tree()
        tree.add_file(self.recipe.binary, built.binary.read_bytes(), 0o755)
        return tree

    def verify(self, session: Session, built: Built) -> list[TestResult]:
        return run_smoke_tests(session, self.recipe.binary, self.recipe.smoke)

    def strip(self, binary: Path) -> None:
        run([self.toolchain.tool("strip"), binary], what=f"strip {binary.name}")


def prefix_map_flags(*folders: Path) -> list[str]:
    """Flags that keep build folders out of the binary (reproducible from any checkout)."""
    return [f"-ffile-prefix-map={folder}=." for folder in sorted(set(folders))]


class CBuilder(Builder):
    """C sources compiled and linked in one compiler call."""

    def compile(self, workdir: Path) -> Built:
        output = workdir / self.recipe.binary
        flags = [BASE_CFLAGS, *self.recipe.cflags]
        folders = [src.parent for src in self.recipe.sources]
        cmd = [
            self.toolchain.tool("gcc"),
            *flags,
            *prefix_map_flags(workdir, *folders),
            BASE_LDFLAGS,
            "-o",
            output,
            *self.recipe.sources,
        ]
        run(cmd, cwd=workdir, env=self.toolchain.env(), what=f"compiling {self.recipe.name}")
        self.strip(output)
        return Built(output, flags={"CFLAGS": flags, "LDFLAGS": [BASE_LDFLAGS]})


class CommandBuilder(Builder):
    """The recipe's own build command (make, cmake, configure ...) with the toolchain env."""

    def compile(self, workdir: Path) -> Built:
        assert self.recipe.folder is not None and self.recipe.command and self.recipe.output
        source = workdir / "src"
        shutil.copytree(self.recipe.folder, source)
        env = self.toolchain.env()
        env["CFLAGS"] = " ".join([env["CFLAGS"], *prefix_map_flags(source)])
        run(
            ["sh", "-c", self.recipe.command],
            cwd=source,
            env=env,
            what=f"{self.recipe.name} build command",
            log_file=workdir / "build.log",
        )
        output = source / self.recipe.output
        if not output.is_file():
            raise UsageError(f"{self.recipe.name}: build command made no {self.recipe.output}")
        self.strip(output)
        return Built(
            output,
            flags={
                "command": self.recipe.command,
                "CFLAGS": env["CFLAGS"],
                "LDFLAGS": env["LDFLAGS"],
            },
        )


def builder_class(recipe: Recipe) -> type[Builder]:
    if recipe.kind == "busybox":
        from musltool.busybox import BusyboxBuilder

        return BusyboxBuilder
    return {"c": CBuilder, "command": CommandBuilder}[recipe.kind]


def fingerprint(builder: Builder) -> str:
    parts = {
        "musltool": __version__,
        "recipe": builder.recipe.fingerprint(),
        "isa": builder.isa.name,
        "toolchain": builder.toolchain.identity(),
        "inputs": builder.inputs(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def report_path(dist: Path, isa: Isa, binary: str) -> Path:
    return dist / isa.name / f"{binary}.json"


def read_report(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _up_to_date(report: dict[str, Any] | None, fp: str, binary: Path) -> bool:
    return (
        report is not None
        and report.get("fingerprint") == fp
        and report.get("verification", {}).get("passed") is True
        and binary.is_file()
        and sha256_file(binary) == report.get("sha256")
    )


def _verify(builder: Builder, built: Built) -> tuple[str, list[TestResult]]:
    runner = get_runner(builder.options.runner, builder.isa)
    with runner.session(builder.isa, builder.session_files(built)) as session:
        return runner.name, builder.verify(session, built)


def verification_table(isa: Isa, runner: str, results: list[TestResult]) -> str:
    """A plain-text table: one row per test, then passed / failed / not-testable counts."""
    width = max([len(r.name) for r in results] + [4])
    rows = [f"{r.name:<{width}}  {r.status:<12}  {r.detail}".rstrip() for r in results]
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "not-testable")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    header = f"verification on {isa.name} with {runner}: {summary}"
    return "\n".join([header, "", f"{'test':<{width}}  {'status':<12}  detail", *rows]) + "\n"


def _install(dist_isa: Path, built: Built, binary_name: str, report: dict[str, Any]) -> Path:
    """Binary and extras first, the report last: a report means a complete, verified build."""
    target = dist_isa / binary_name
    atomic_write_bytes(target, built.binary.read_bytes(), mode=0o755)
    for name, path in built.extras.items():
        atomic_write_bytes(dist_isa / name, path.read_bytes())
    atomic_write_text(dist_isa / f"{binary_name}.verify.txt", report["verification"]["table"])
    atomic_write_text(
        dist_isa / f"{binary_name}.json", json.dumps(report, indent=2, sort_keys=True) + "\n"
    )
    return target


def make_report(
    builder: Builder,
    built: Built,
    checks: list[Check],
    runner_name: str,
    results: list[TestResult],
    fp: str,
) -> dict[str, Any]:
    """The build's JSON report: no timestamps, so the same build gives the same report."""
    recipe, isa = builder.recipe, builder.isa
    return {
        "recipe": recipe.name,
        "version": recipe.version,
        "isa": isa.name,
        "triple": isa.musl_triple,
        "binary": recipe.binary,
        "size": built.binary.stat().st_size,
        "sha256": sha256_file(built.binary),
        "toolchain": builder.toolchain.identity(),
        "flags": built.flags,
        "details": built.details,
        "checks": [c.as_dict() for c in checks],
        "verification": {
            "runner": runner_name,
            "passed": all(r.passed for r in results),
            "results": [r.as_dict() for r in results],
            "table": verification_table(isa, runner_name, results),
        },
        "fingerprint": fp,
        "musltool": __version__,
    }


def _verification_failure(
    recipe: Recipe, isa: Isa, runner: str, results: list[TestResult], report: dict[str, Any]
) -> VerificationError:
    """The error, with the full table kept in the cache's logs for the user to read."""
    table = settings.cache_dir() / "logs" / f"{recipe.name}-{isa.name}.verify.txt"
    atomic_write_text(table, report["verification"]["table"])
    failed = [r for r in results if not r.passed]
    first = failed[0]
    return VerificationError(
        f"{recipe.name} for {isa.name} failed verification under {runner}: "
        f"{len(failed)} of {len(results)} failed, first: {first.name}: {first.detail} "
        f"(table: {table})"
    )


def build(recipe: Recipe, isa: Isa, options: BuildOptions) -> BuildResult:
    """Build, check, verify and install one recipe for one ISA (or say it is up to date)."""
    check_runner_name(options.runner)  # before any work, not after a build
    busybox_only = options.config or options.applets or options.fragment or options.version
    if recipe.kind != "busybox" and busybox_only:
        raise UsageError(
            f"--config, --applets, --fragment and --version are for BusyBox, not {recipe.name}"
        )
    toolchain = get_toolchain(options.toolchain, isa, default_options(list(options.mirrors)))
    builder = builder_class(recipe)(recipe, isa, toolchain, options)
    fp = fingerprint(builder)
    dist_isa = options.dist / isa.name
    target = dist_isa / recipe.binary
    previous = read_report(report_path(options.dist, isa, recipe.binary))
    if not options.force and _up_to_date(previous, fp, target):
        log(f"{recipe.name} for {isa.name} is up to date ({target}); nothing rebuilt")
        assert previous is not None
        return BuildResult(isa, target, previous, up_to_date=True)

    work_root = settings.cache_dir() / "work"
    work_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{recipe.name}-{isa.name}-", dir=work_root) as tmp:
        log(f"building {recipe.name} {recipe.version} for {isa.name} with {toolchain.describe()}")
        started = time.monotonic()
        built = builder.compile(Path(tmp))
        compiled = time.monotonic()
        checks = require_static_binary(built.binary, isa)
        runner_name, results = _verify(builder, built)
        timings = {"compile": compiled - started, "verify": time.monotonic() - compiled}
        report = make_report(builder, built, checks, runner_name, results, fp)
        if not report["verification"]["passed"]:
            _remove_stale(dist_isa, recipe.binary)
            raise _verification_failure(recipe, isa, runner_name, results, report)
        installed = _install(dist_isa, built, recipe.binary, report)
    log(
        f"{recipe.name} for {isa.name}: {report['size']} bytes, verified with {runner_name} -> {installed}"
    )
    return BuildResult(isa, installed, report, up_to_date=False, timings=timings)


def _remove_stale(dist_isa: Path, binary: str) -> None:
    """A failed rebuild must not leave an older binary looking current."""
    for path in [dist_isa / binary, *dist_isa.glob(f"{binary}.*")]:
        if path.is_file():
            os.unlink(path)
