"""The build pipeline: compile with a toolchain, check the ELF, verify under qemu, install."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

from musltool import __version__, settings
from musltool.cache import cache_dir
from musltool.catalog import load_recipe
from musltool.dependencies import (
    assemble_sysroot,
    dependency_order,
    keep_library,
    library_files,
    sysroot_key,
)
from musltool.dist import Dist
from musltool.elf import require_static_binary
from musltool.errors import VerificationError
from musltool.extract import is_complete
from musltool.files import atomic_write_text, sha256_file
from musltool.isa import Isa
from musltool.kinds import builder_class
from musltool.kinds.base import Builder, BuildOptions, Built
from musltool.process import log
from musltool.recipes import Recipe
from musltool.report import BuildReport, Check, ReportError, Verification
from musltool.runners import check_runner_name, get_runner
from musltool.toolchain import get_toolchain
from musltool.toolchain.base import Toolchain


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
        "dependencies": [fingerprint(dependency) for dependency in builder.dependencies],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def dependency_record(builder: Builder) -> dict[str, str]:
    """A library in a dependent's report and manifest: name, version, where its source came
    from and that source's sha256 (the recipe folder's hash when it has no upstream source)."""
    version, source = builder.recipe.version_source(builder.options.version)
    if source is not None:
        return {"name": builder.recipe.name, "version": version, "source": source.url, "sha256": source.sha256}
    return {"name": builder.recipe.name, "version": version, "source": "recipe folder",
            "sha256": builder.recipe.fingerprint()}  # fmt: skip


def work_dir(builder: Builder) -> Path:
    """The build's stable work folder: cache/work/<recipe>-<isa>-<hash of its work key>."""
    key = json.dumps(builder.work_key(), sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / "work" / f"{builder.recipe.name}-{builder.isa.name}-{digest}"


def previous_report(dist: Dist, isa: Isa, binary: str) -> BuildReport | None:
    """The report of the build in dist/, if any; a malformed one counts as none."""
    try:
        return dist.report(isa.name, binary)
    except ReportError as exc:
        log(f"{exc}: rebuilding")
        return None


def is_current(report: BuildReport | None, fp: str, dist: Dist) -> bool:
    """The build in dist/ is verified, made from these inputs, and its binary is untouched."""
    return report is not None and report.fingerprint == fp and report.is_verified() and dist.matches(report)


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
        details={**built.details, **({"extra_evidence": extra} if (extra := builder.extra_evidence()) else {})},
        companions=tuple(sorted(built.companions)),
        programs={name: sha256_file(path) for name, path in sorted(built.programs.items())},
        dependencies=tuple(dependency_record(d) for d in builder.dependencies),
    )


def install(dist: Dist, built: Built, report: BuildReport) -> Path:
    """The binary, its programs and companions, its verification table and its report, in
    one transaction of the output folder (the report last)."""
    folder = report.isa
    files: dict[str, tuple[bytes, int]] = {f"{folder}/{report.binary}": (built.binary.read_bytes(), 0o755)}
    for name, path in built.programs.items():
        files[f"{folder}/{name}"] = (path.read_bytes(), 0o755)
    for name, path in built.companions.items():
        files[f"{folder}/{name}"] = (path.read_bytes(), 0o644)
    files[f"{folder}/{report.binary}.verify.txt"] = (report.verification.table(report.isa).encode(), 0o644)
    files[f"{folder}/{report.binary}.json"] = (report.to_json().encode(), 0o644)
    dist.install(files, what=str(dist.path(folder)))
    return dist.path(f"{folder}/{report.binary}")


def _verification_failure(report: BuildReport) -> VerificationError:
    """The error, with the full table kept in the cache's logs for the user to read."""
    table = cache_dir() / "logs" / f"{report.recipe}-{report.isa}.verify.txt"
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
    cache_dir()  # MUSLTOOL_CACHE and SOURCE_DATE_EPOCH are checked before any work
    settings.source_date_epoch()
    kind = builder_class(recipe)
    kind.check_options(recipe, options.kind_options)
    toolchain = get_toolchain(options.toolchain, isa, options.fetch)
    builder = kind(recipe, isa, toolchain, options)
    library_options = dataclasses.replace(options, force=False, version=None, kind_options={})
    builder.dependencies = [
        prepare(library, isa, library_options) for library in dependency_order(recipe, load_recipe)
    ]
    return builder


def build_dependencies(libraries: list[Builder], isa: Isa, toolchain: Toolchain) -> Path:
    """Each library built (or found current) in order, then the sysroot holding them all."""
    kept: list[Path] = []
    identities: list[tuple[str, str, str]] = []
    for library in libraries:
        fp = fingerprint(library)
        files = library_files(library.recipe.name, isa.name, fp)
        if not is_complete(files):  # built and verified before, but its files are not in this cache
            library.options = dataclasses.replace(library.options, force=True)
        run_build(library)
        kept.append(files)
        identities.append((library.recipe.name, library.version, fp))
    return assemble_sysroot(isa.name, sysroot_key(isa.name, toolchain.identity(), identities), kept)


def library_sysroot(names: list[str], isa: Isa, options: BuildOptions) -> Path:
    """A sysroot holding the named library recipes (and what they depend on), built first:
    for `toolchain.env --libs`."""
    wanted = Recipe(name="toolchain.env --libs", version="", description="", kind="command", binary="",
                    folder=None, depends=tuple(names))  # fmt: skip
    libraries = [prepare(library, isa, options) for library in dependency_order(wanted, load_recipe)]
    return build_dependencies(libraries, isa, get_toolchain(options.toolchain, isa, options.fetch))


def build(recipe: Recipe, isa: Isa, options: BuildOptions) -> BuildResult:
    """Build, check, verify and install one recipe for one ISA (or say it is up to date)."""
    return run_build(prepare(recipe, isa, options))


def run_build(builder: Builder) -> BuildResult:
    """The prepared build: up to date, or compiled, checked, verified and installed."""
    recipe, isa, options = builder.recipe, builder.isa, builder.options
    fp = fingerprint(builder)
    dist = Dist(options.dist)
    target = dist.path(f"{isa.name}/{recipe.binary}")
    previous = previous_report(dist, isa, recipe.binary)
    current = not options.force and is_current(previous, fp, dist)
    if current and not builder.serves(previous):
        log(f"{recipe.name} for {isa.name} in {target} lacks evidence asked for now: verifying again")
    elif current:
        log(f"{recipe.name} for {isa.name} is up to date ({target}); nothing rebuilt")
        assert previous is not None
        return BuildResult(isa, target, previous, up_to_date=True)
    dist.prepare(isa.name)
    runner = get_runner(options.runner, isa)  # a missing docker or qemu is found before compiling
    if builder.dependencies and builder.sysroot is None:
        builder.sysroot = build_dependencies(builder.dependencies, isa, builder.toolchain)

    workdir = work_dir(builder)
    workdir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(workdir) + ".lock"):
        log(f"building {recipe.name} {builder.version} for {isa.name} with {builder.toolchain.describe()}")
        started = time.monotonic()
        built = builder.compile(workdir)
        compiled = time.monotonic()
        checks = require_static_binary(built.binary, isa)
        for name, program in sorted(built.programs.items()):
            checks += [dataclasses.replace(c, name=f"{name}: {c.name}") for c in require_static_binary(program, isa)]
        files, dns, private = builder.session_files(built), builder.session_dns(), builder.session_private()
        with runner.session(isa, files, dns, private) as session:
            results = builder.verify(session, built)
        verification = Verification(runner.name, tuple(results), builder.headline(results, built))
        timings = {"compile": compiled - started, "verify": time.monotonic() - compiled}
        report = make_report(builder, built, checks, verification, fp)
        if not report.is_verified():  # the previous good build, if any, stays as it was
            raise _verification_failure(report)
        if built.installed is not None:
            keep_library(recipe.name, isa.name, fp, built.installed)
        installed = install(dist, built, report)
    log(f"{recipe.name} for {isa.name}: {report.size} bytes, verified with {runner.name} -> {installed}")
    return BuildResult(isa, installed, report, up_to_date=False, timings=timings)
