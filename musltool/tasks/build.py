"""Tasks that build, run and package: `build`, `run`, `package`.

`build` takes the options of every recipe kind (read from the kinds' registry, with each
kind's own help), so no kind is named here; the chosen recipe's kind refuses the ones it does
not take.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from invoke import task

from musltool import build as build_mod
from musltool import settings
from musltool.catalog import load_recipe, recipe_names
from musltool.cli import (
    ARCH_HELP,
    SIGN_KEY_HELP,
    TOOLCHAIN_HELP,
    download_options,
    one_line_errors,
    remainder,
)
from musltool.errors import UsageError
from musltool.isa import resolve_isas
from musltool.kinds import kind_actions, kind_options
from musltool.kinds.base import BuildOptions
from musltool.recipes import recipe_for_sources
from musltool.toolchain import DEFAULT_TOOLCHAIN

BUILD_HELP = {
    "arch": ARCH_HELP,
    "recipe": f"a recipe by name ({', '.join(recipe_names())}; then ./recipes/<name>) or a folder holding "
              "a recipe.toml; default hello",
    "src": "your own C source file instead of a recipe (repeat for more files)",
    "name": "binary name for --src builds (default: first source's stem); a plain file name",
    "toolchain": TOOLCHAIN_HELP,
    "runner": "how to verify: auto (docker if its daemon answers, else qemu), docker, qemu",
    "dist": "output folder (default dist)",
    "force": "rebuild even when inputs are unchanged",
    "version": "recipe version where a recipe offers several",
}


def _build(c, arch="aarch64", recipe="", src=None, name="", toolchain=DEFAULT_TOOLCHAIN, runner="auto",
           dist="dist", force=False, version="", **given):  # fmt: skip
    """Build a static musl binary, check its ELF, verify it under qemu, put it in dist/<isa>/."""
    if src and recipe:
        raise UsageError("give --recipe or --src, not both")
    if name and not src:
        raise UsageError("--name goes with --src (a recipe names its own binary)")
    chosen = recipe_for_sources(src, name or None) if src else load_recipe(recipe or "hello")
    download = download_options(c)
    actions = {option: action for option, action in kind_actions().items() if given.pop(option, False)}
    for option, (_, run, kind) in actions.items():
        if chosen.kind != kind:
            raise UsageError(f"--{option.replace('_', '-')} is for {kind} recipes, not {chosen.name}")
        print("\n".join(run(chosen, version or None, download)))
    if actions:
        return
    isas = resolve_isas(arch)
    options = BuildOptions(toolchain=toolchain, runner=runner, dist=Path(dist), force=force,
                           version=version or None, fetch=download, kind_options=given)  # fmt: skip
    builders = [build_mod.prepare(chosen, isa, options) for isa in isas]  # all checked first
    for builder in builders:
        result = build_mod.run_build(builder)
        state = "up to date" if result.up_to_date else "built and verified"
        print(f"{builder.isa.name}: {result.binary} ({result.report.size} bytes, {state})")


def _with_kind_options(function):
    """`function` with every kind option and action as a keyword parameter Invoke can parse."""
    signature = inspect.signature(function)
    fixed = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    extra = {name: default for name, (default, _) in kind_options().items()}
    extra |= {name: False for name in kind_actions()}
    fixed += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default) for name, default in extra.items()]
    function.__signature__ = signature.replace(parameters=fixed)
    return function


def _kind_help() -> dict[str, str]:
    return {**{name: text for name, (_, text) in kind_options().items()},
            **{name: text for name, (text, _, _) in kind_actions().items()}}  # fmt: skip


build_body = one_line_errors(_build)
build_body.__signature__ = _with_kind_options(_build).__signature__  # type: ignore[attr-defined]
build = task(name="build", help={**BUILD_HELP, **_kind_help()}, iterable=["src"])(build_body)


@task(
    name="run",
    iterable=["file"],
    help={
        "arch": "ISA of the program (default: read from the binary)",
        "runner": "auto (docker when it answers, else qemu), docker or qemu",
        "file": "LOCAL[:GUEST] a file put beside the program, read-only (repeatable)",
        "timeout": "whole seconds before the program is stopped (default 600)",
    },
)
@one_line_errors
def run_program(c, arch="", runner="auto", file=None, timeout="600"):
    """Run a static binary under qemu on its ISA's oldest CPU: invoke run --arch riscv64 -- PROG ARGS.

    The program and the --file files go into a fresh scratch container (or a temporary folder
    with --runner qemu). Our stdin is its stdin; its stdout and stderr are passed through as
    they come (a run printing more than 64 MiB is stopped there) and its exit code is ours.
    """
    from musltool.isa import get_isa
    from musltool.runbinary import parse_file, parse_timeout, run_binary

    seconds = parse_timeout(timeout)
    files = [parse_file(spec) for spec in file or []]
    isa = get_isa(arch) if arch else None
    result = run_binary(remainder(c), isa, runner, files, seconds)
    sys.stdout.write(result.stdout)
    sys.stdout.flush()
    sys.stderr.write(result.stderr)
    if result.timed_out or result.signal or result.cut:
        print(f"musltool: {Path(remainder(c)[0]).name} {result.describe()}", file=sys.stderr)
    sys.exit(result.exit_code if result.exit_code >= 0 else 255)


@task(
    help={
        "arch": ARCH_HELP,
        "recipe": "what to package (default hello)",
        "dist": "folder holding the builds; tarballs, SHA256SUMS and the manifest go here",
        "build": "build (and verify) what is missing or stale first; --no-build packages only what is there",
        "toolchain": TOOLCHAIN_HELP + " (with --build)",
        "sign_key": SIGN_KEY_HELP,
    }
)
@one_line_errors
def package(c, arch="all", recipe="hello", dist="dist", build=True, toolchain=DEFAULT_TOOLCHAIN, sign_key=""):
    """Reproducible <name>-<version>-<isa>.tar.gz per ISA, SHA256SUMS and a manifest.

    Only verified builds are packaged: a build that failed verification, or a binary that
    changed since, is refused.
    """
    from musltool.attest import SigningKey
    from musltool.package import package as make_packages
    from musltool.vex import cve_table

    settings.source_date_epoch()  # checked before any work
    key = SigningKey.load(Path(sign_key)) if sign_key else None
    chosen_recipe = load_recipe(recipe)
    isas = resolve_isas(arch)
    if build:
        options = BuildOptions(toolchain=toolchain, dist=Path(dist), fetch=download_options(c))
        for isa in isas:
            build_mod.build(chosen_recipe, isa, options)
    packages = make_packages(chosen_recipe, isas, Path(dist), key)
    for pkg in packages:
        print(f"{pkg.isa.name}: {pkg.path} sha256 {pkg.sha256} (+ .spdx.json, .vex.json)")
    print(f"{Path(dist) / 'SHA256SUMS'}, {Path(dist) / (chosen_recipe.name + '.manifest.json')}")
    for line in cve_table([(pkg.isa.name, pkg.report) for pkg in packages], chosen_recipe):
        print(line)
