"""The build pipeline: compile with a toolchain, check the ELF, verify under qemu, install."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

from musltool import __version__, settings
from musltool.builder import Builder, BuildOptions, Built
from musltool.catalog import builder_class
from musltool.elf import require_static_binary
from musltool.errors import UsageError, VerificationError
from musltool.isa import Isa
from musltool.recipes import Recipe
from musltool.report import BuildReport, Check, ReportError, Verification, load_report, report_path
from musltool.runners import check_runner_name, get_runner
from musltool.toolchain import get_toolchain
from musltool.util import atomic_write_text, log, sha256_file


@dataclass
class BuildResult:
    isa: Isa
    binary: Path
    report: BuildReport
    up_to_date: bool
    # Wall seconds per phase (compile, verify); kept out of the report so it stays reproducible.
    timings: dict[str, float] = field(default_factory=dict)


def fingerprint(builder: Builder) -> str:
    parts = {
        "musltool": __version__,
        "recipe": builder.recipe.fingerprint(),
        "isa": builder.isa.name,
        "toolchain": builder.toolchain.identity(),
        "inputs": builder.inputs(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def work_dir(builder: Builder) -> Path:
    """The build's stable work folder: cache/work/<recipe>-<isa>-<hash of its work key>."""
    key = json.dumps(builder.work_key(), sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return settings.cache_dir() / "work" / f"{builder.recipe.name}-{builder.isa.name}-{digest}"


def previous_report(dist: Path, isa: Isa, binary: str) -> BuildReport | None:
    """The report of the build in dist/, if any; a malformed one counts as none."""
    try:
        return load_report(report_path(dist, isa.name, binary))
    except ReportError as exc:
        log(f"{exc}: rebuilding")
        return None


def is_current(report: BuildReport | None, fp: str, binary: Path) -> bool:
    """The build in dist/ is verified, made from these inputs, and its binary is untouched."""
    return (
        report is not None
        and report.fingerprint == fp
        and report.is_verified()
        and report.matches(binary)
    )


DIST_MARKER = ".musltool-dist"  # says a folder is musltool output: `clean` may remove it


def is_dist(folder: Path) -> bool:
    return (folder / DIST_MARKER).is_file()


def require_writable(dist: Path, isa: Isa) -> Path:
    """dist/<isa> exists and takes files, checked before any build work."""
    folder = dist / isa.name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".musltool-probe-"):
            pass
        if not is_dist(dist):
            (dist / DIST_MARKER).write_text("musltool output folder\n")
    except OSError as exc:
        raise UsageError(f"output folder {folder} is not writable: {exc.strerror}") from exc
    return folder


def make_report(
    builder: Builder,
    built: Built,
    checks: list[Check],
    verification: Verification,
    fp: str,
) -> BuildReport:
    """The build's report: no timestamps, so the same build gives the same report."""
    recipe, isa = builder.recipe, builder.isa
    return BuildReport(
        recipe=recipe.name,
        version=built.version,
        isa=isa.name,
        triple=isa.musl_triple,
        binary=recipe.binary,
        size=built.binary.stat().st_size,
        sha256=sha256_file(built.binary),
        toolchain=builder.toolchain.identity(),
        checks=tuple(checks),
        verification=verification,
        fingerprint=fp,
        flags=built.flags,
        details=built.details,
        companions=tuple(sorted(built.companions)),
    )


def install(dist_isa: Path, built: Built, report: BuildReport) -> Path:
    """Every file is written beside its target first (a full or read-only disk fails here,
    leaving the previous build whole); then they are renamed in, the report last."""
    files: dict[str, tuple[bytes, int]] = {report.binary: (built.binary.read_bytes(), 0o755)}
    for name, path in built.companions.items():
        files[name] = (path.read_bytes(), 0o644)
    files[f"{report.binary}.verify.txt"] = (report.verification.table(report.isa).encode(), 0o644)
    files[f"{report.binary}.json"] = (report.to_json().encode(), 0o644)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, (data, mode) in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=dist_isa)
            staged.append((Path(tmp), dist_isa / name))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, mode)
        for tmp, target in staged:  # the report is the last one
            os.replace(tmp, target)
    except OSError as exc:
        raise UsageError(f"cannot install into {dist_isa}: {exc.strerror}; the previous build is unchanged") from exc
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    return dist_isa / report.binary


def _verification_failure(report: BuildReport) -> VerificationError:
    """The error, with the full table kept in the cache's logs for the user to read."""
    table = settings.cache_dir() / "logs" / f"{report.recipe}-{report.isa}.verify.txt"
    atomic_write_text(table, report.verification.table(report.isa))
    results = report.verification.results
    failed = [r for r in results if r.failed]
    first = f"first: {failed[0].name}: {failed[0].detail}" if failed else "nothing was verified"
    return VerificationError(
        f"{report.recipe} for {report.isa} failed verification under {report.verification.runner}: "
        f"{len(failed)} of {len(results)} failed, {first} (table: {table})"
    )


def prepare(recipe: Recipe, isa: Isa, options: BuildOptions) -> Builder:
    """The builder, with every option and input checked: nothing is built yet."""
    check_runner_name(options.runner)
    settings.cache_dir()  # MUSLTOOL_CACHE and SOURCE_DATE_EPOCH are checked before any work
    settings.source_date_epoch()
    kind = builder_class(recipe)
    kind.check_options(recipe, options.kind_options)
    toolchain = get_toolchain(options.toolchain, isa, options.fetch)
    return kind(recipe, isa, toolchain, options)


def build(recipe: Recipe, isa: Isa, options: BuildOptions) -> BuildResult:
    """Build, check, verify and install one recipe for one ISA (or say it is up to date)."""
    return run_build(prepare(recipe, isa, options))


def run_build(builder: Builder) -> BuildResult:
    """The prepared build: up to date, or compiled, checked, verified and installed."""
    recipe, isa, options = builder.recipe, builder.isa, builder.options
    fp = fingerprint(builder)
    dist_isa = options.dist / isa.name
    target = dist_isa / recipe.binary
    previous = previous_report(options.dist, isa, recipe.binary)
    if not options.force and is_current(previous, fp, target):
        log(f"{recipe.name} for {isa.name} is up to date ({target}); nothing rebuilt")
        assert previous is not None
        return BuildResult(isa, target, previous, up_to_date=True)
    require_writable(options.dist, isa)
    runner = get_runner(options.runner, isa)  # a missing docker or qemu is found before compiling

    workdir = work_dir(builder)
    workdir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(workdir) + ".lock"):
        log(f"building {recipe.name} {builder.version} for {isa.name} with {builder.toolchain.describe()}")
        started = time.monotonic()
        built = builder.compile(workdir)
        compiled = time.monotonic()
        checks = require_static_binary(built.binary, isa)
        files, dns, private = builder.session_files(built), builder.session_dns(), builder.session_private()
        with runner.session(isa, files, dns, private) as session:
            results = builder.verify(session, built)
        verification = Verification(runner.name, tuple(results))
        timings = {"compile": compiled - started, "verify": time.monotonic() - compiled}
        report = make_report(builder, built, checks, verification, fp)
        if not report.is_verified():
            _remove_stale(dist_isa, recipe.binary)
            raise _verification_failure(report)
        installed = install(dist_isa, built, report)
    log(f"{recipe.name} for {isa.name}: {report.size} bytes, verified with {runner.name} -> {installed}")
    return BuildResult(isa, installed, report, up_to_date=False, timings=timings)


def _remove_stale(dist_isa: Path, binary: str) -> None:
    """A failed rebuild must not leave an older binary looking current."""
    for path in [dist_isa / binary, *dist_isa.glob(f"{binary}.*")]:
        if path.is_file() and not path.is_symlink():
            path.unlink()
