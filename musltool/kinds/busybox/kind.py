"""Kind `busybox`: sources through the download layer, applets chosen through BusyBox's own
Kconfig, fixups as recipe data, an out-of-tree build per version, ISA and toolchain that make
reuses, and verification by the functional suite run by the built shell."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from tqdm import tqdm

from musltool import settings
from musltool.cache import cache_dir
from musltool.errors import BuildError, UsageError
from musltool.fetch import FetchOptions, Source
from musltool.files import sha256_file
from musltool.filetree import Tree, read_folder
from musltool.isa import Isa, runs_natively
from musltool.kconfig import KconfigTree, not_held, parse_config, read_config_file, set_symbols
from musltool.kinds.base import Builder, Built, SuiteRun
from musltool.kinds.busybox.applets import (
    AppletMap,
    applet_map,
    enabled_applets,
    install_paths,
    symbols_for_applets,
)
from musltool.kinds.busybox.config import (
    FIXUP,
    PRESET,
    BusyboxOptions,
    applicable_fixups,
    base_config,
)
from musltool.kinds.busybox.rootfs import rootfs_tree
from musltool.kinds.busybox.suite import (
    applet_results,
    applets_headline,
    list_result,
    run_one_by_one,
)
from musltool.kinds.busybox.upstream import SOURCE as UPSTREAM
from musltool.kinds.busybox.upstream import (
    all_numbers,
    all_text,
    byte_order_tables,
    expected_failures,
    files_in,
    run_testsuite,
    text_tables,
    upstream_results,
)
from musltool.process import last_meaningful_line, stream_lines
from musltool.recipes import Recipe
from musltool.report import BuildReport, Evidence, Status, TestResult
from musltool.runners import Session
from musltool.schema import Key
from musltool.sources import PATCH, Patch, missing_patch_files, patches_for, prepared_source
from musltool.suites import STANDINS, SUITE_END, SuiteOutcome, SuiteTest, parse_suite

SUITE_FILE = "suite.sh"
SUITE_DATA = "suite-data"  # small archives the suite unpacks
BOOT_SUITE_FILE = "boot-suite.sh"  # kernel-level checks on a booted system
BOOT_SUITE_END = "BOOT-SUITE-END"
FIRMWARE_FILES = "firmware"  # the booted system's /etc: inittab, rcS, a console login
PRIVATE_FILES = {"etc/shadow": 0o600}
# Folders the suite may write to where the session is isolated: users, logs, spools.
PRIVATE_FOLDERS = ("/etc", "/var", "/run")
SUITE_TIMEOUT = 900

def source_tree(recipe: Recipe, version: str, source: Source, fetch_options: FetchOptions) -> Path:
    """The extracted, hash-checked BusyBox source for a version, with the recipe's patches."""
    assert recipe.folder is not None
    patches = patches_for(recipe.data, recipe.folder, version)
    return prepared_source("busybox", version, source, patches, fetch_options)


def list_applets(recipe: Recipe, version: str | None, fetch_options: FetchOptions) -> list[str]:
    chosen, source = recipe.version_source(version)
    assert source is not None
    return sorted(applet_map(source_tree(recipe, chosen, source, fetch_options)))


class BusyboxBuilder(Builder):
    kind = "busybox"
    recipe_keys: ClassVar[dict[str, Key]] = {
        "configs": Key(dict, values=PRESET),
        "fixups": Key(list, items=FIXUP),
        "patches": Key(list, items=PATCH),
        # applet = "why no test here can exercise it": the reviewed bound on not-testable
        "not_testable": Key(dict, check=all_text),
        # version -> {test name = "its cause"}: failures of the upstream testsuite understood
        "upstream_expected_failures": Key(dict, check=text_tables),
        "upstream_expected_failures_by_byte_order": Key(dict, check=byte_order_tables),
        # test file = "why": upstream test files run only where the ISA runs natively
        "upstream_native_only": Key(dict, check=all_text),
        "upstream_test_seconds": Key(dict, check=all_numbers),  # applet = its tests' seconds (shards)
    }
    Options = BusyboxOptions
    actions: ClassVar[dict[str, tuple[str, Callable[..., list[str]]]]] = {
        "list_applets": ("BusyBox: list the applets the source offers and exit", lambda *a: list_applets(*a)),
    }
    verified_by_recipe_runs = False
    # What the firmware's inittab and rcS run to reach a login prompt, and what powers it off.
    boot_needs = ("init", "sh", "mount", "mkdir", "mdev", "hostname", "ifconfig", "echo", "getty", "login",
                  "poweroff")  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen, source = self.recipe.version_source(self.options.version)
        if source is None:
            raise UsageError(f"{self.recipe.name} {chosen}: no [versions] entry with its source")
        self.source = source
        self.base = base_config(self.recipe, self.kind_options)
        fragment = self.kind_options.fragment
        self.fragment = read_config_file(Path(fragment), "--fragment") if fragment else ""
        self.fixups = applicable_fixups(
            self.recipe.data, self.version, self.isa.name, self.toolchain.compiler_family
        )

    @classmethod
    def check_recipe(cls, recipe: Recipe, source: str) -> None:
        super().check_recipe(recipe, source)
        if recipe.version not in recipe.versions:
            raise UsageError(f"{source}: versions: no entry for the default version {recipe.version!r}")
        if recipe.folder is None or not (recipe.folder / SUITE_FILE).is_file():
            raise UsageError(f"{source}: the recipe folder has no {SUITE_FILE}")
        missing = missing_patch_files(recipe.data, recipe.folder)
        if missing:
            raise UsageError(f"{source}: patches: file not found: {', '.join(missing)}")

    def patches(self) -> list[Patch]:
        assert self.recipe.folder is not None
        return patches_for(self.recipe.data, self.recipe.folder, self.version)

    def inputs(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "source_sha256": self.source.sha256,
            "patches": [p.digest() for p in self.patches()],
            "base": self.base.as_input(),
            "fragment": self.fragment,
            "knock_out": self.kind_options.knock_out,
        }

    def work_key(self) -> dict[str, Any]:
        """One configured out-of-tree folder per version, ISA and toolchain: a new config or
        applet set reuses it, and make rebuilds only what the change touches."""
        return {
            "version": self.version,
            "source_sha256": self.source.sha256,
            "patches": [p.digest() for p in self.patches()],
            "isa": self.isa.name,
            "toolchain": self.toolchain.identity(),
        }

    # -- building

    def make_command(self, src: Path, out: Path, *targets: str, jobs: int = 1) -> list[str]:
        extra = " ".join(f for fix in self.fixups for f in fix.extra_cflags)
        prefix_maps = f"-ffile-prefix-map={src}=busybox-{self.version} -ffile-prefix-map={out}=."
        return [
            "make", "-C", str(src), f"O={out}", f"-j{jobs}",
            f"ARCH={self.isa.kbuild_arch}",
            f"CROSS_COMPILE={self.toolchain.bin_dir()}/{self.toolchain.triple}-",
            f"EXTRA_CFLAGS={extra} {prefix_maps}".strip(),
            "HOSTCC=gcc",
            *targets,
        ]  # fmt: skip

    def build_env(self) -> dict[str, str]:
        env = self.toolchain.env()
        for key in ("CFLAGS", "CXXFLAGS", "LDFLAGS"):  # Kbuild sets its own
            env.pop(key, None)
        epoch = str(settings.source_date_epoch())
        env.update(
            KCONFIG_NOTIMESTAMP="1",
            SOURCE_DATE_EPOCH=epoch,
            KBUILD_BUILD_TIMESTAMP="@" + epoch,
            KBUILD_BUILD_USER="musltool",
            KBUILD_BUILD_HOST="musltool",
            LC_ALL="C",
            TZ="UTC",
        )
        return env

    def configure(self, tree: KconfigTree, applets: AppletMap) -> str:
        """The final .config: base, fragments and fixups, resolved by oldconfig, checked."""
        if self.base.target:
            text = tree.from_target(self.base.target)
        elif self.base.text is not None:
            text = self.base.text
        else:
            text = tree.from_target("allnoconfig")
            wanted = symbols_for_applets(list(self.base.applets), applets)
            values = {s: "y" for s in wanted} | parse_config("\n".join(self.base.fragment))
            text = set_symbols(text, values)
        if self.fragment:
            text = set_symbols(text, parse_config(self.fragment))
        for fixup in self.fixups:
            text = set_symbols(text, fixup.values())
        final = tree.resolve(text)
        self._check_config(parse_config(final), applets)
        return final

    def _check_config(self, config: dict[str, str], applets: AppletMap) -> None:
        for fixup in self.fixups:
            lost = not_held(config, fixup.values())
            if lost:
                raise BuildError(f"fixup did not hold: CONFIG_{lost[0]} ({fixup.reason})")
        enabled = set(enabled_applets(config, applets))
        lost = [a for a in self.base.applets if a not in enabled]
        if lost:
            raise UsageError(
                f"BusyBox's Kconfig could not enable: {', '.join(lost)} "
                "(their dependencies are not met in this config)"
            )

    def compile(self, workdir: Path) -> Built:
        src = source_tree(self.recipe, self.version, self.source, self.options.fetch)
        applets = applet_map(src)
        out = workdir / "out"
        out.mkdir(exist_ok=True)
        tree = KconfigTree(
            lambda *targets: self.make_command(src, out, *targets), out, self.build_env()
        )
        config = self.configure(tree, applets)
        self._make(src, out)
        built_applets = enabled_applets(parse_config(config), applets)
        config_path = out / ".config"
        return Built(
            out / "busybox",
            self.version,
            companions={"busybox.config": config_path},
            flags={
                "EXTRA_CFLAGS": [f for fix in self.fixups for f in fix.extra_cflags],
                "ARCH": self.isa.kbuild_arch,
            },
            details={
                "source_sha256": self.source.sha256,
                "config_sha256": sha256_file(config_path),
                "applets": built_applets,
                "applet_count": len(built_applets),
                "install_paths": install_paths(src, built_applets),
                "added_by_kconfig": sorted(set(built_applets) - set(self.base.applets))
                if self.base.applets
                else [],
                "fixups": [f.reason for f in self.fixups],
                "patches": [{"file": p.path.name, "sha256": p.digest(), "reason": p.reason} for p in self.patches()],
            },
        )

    def _make(self, src: Path, out: Path) -> None:
        """make busybox with a progress bar counting compiled files; its log is kept."""
        cmd = self.make_command(src, out, "busybox", jobs=os.cpu_count() or 1)
        log_path = cache_dir() / "logs" / f"busybox-{self.version}-{self.isa.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        expected = sum(1 for _ in src.rglob("*.c"))
        tail: list[str] = []
        lines = stream_lines(cmd, env=self.build_env())
        with (
            log_path.open("w") as log_file,
            tqdm(
                total=expected,
                desc=f"busybox {self.isa.name}",
                unit="file",
                disable=not sys.stderr.isatty(),
                leave=False,
            ) as bar,
        ):
            while True:
                try:
                    line = next(lines)
                except StopIteration as end:
                    code = end.value
                    break
                log_file.write(line)
                tail = [*tail[-40:], line]
                if line.lstrip().startswith("CC "):
                    bar.update(1)
        if code != 0 or not (out / "busybox").is_file():
            reason = last_meaningful_line("".join(tail))
            raise BuildError(f"BusyBox build for {self.isa.name} failed: {reason} (log: {log_path})")

    # -- verification

    def session_files(self, built: Built) -> Tree:
        tree = Tree()
        tree.add_dir("bin")
        tree.add_file("bin/busybox", built.binary.read_bytes(), 0o755)
        for applet in built.details["applets"]:
            if applet != "busybox" and "/" not in applet:
                tree.add_symlink(f"bin/{applet}", "busybox")
        assert self.recipe.folder is not None
        tree.add_file(SUITE_FILE, (self.recipe.folder / SUITE_FILE).read_bytes(), 0o644)
        tree.add_dir(SUITE_DATA)
        for entry in read_folder(self.recipe.folder / SUITE_DATA, SUITE_DATA, keep_modes=False).entries:
            tree.add(replace(entry, mode=0o644) if entry.kind == "file" else entry)
        return tree

    def session_private(self) -> tuple[str, ...]:
        return PRIVATE_FOLDERS

    def verify(self, session: Session, built: Built) -> list[TestResult]:
        """`--list` against the .config, the suite in the built sh, then each applet the suite
        could not reach run on its own, so that every applet is invoked at least once."""
        expected: list[str] = built.details["applets"]
        listed = session.run("bin/busybox", ["--list"])
        listing = list_result(sorted(listed.stdout.split()), expected, listed.describe())
        results = [listing]
        outcome = SuiteOutcome()
        # `busybox --list` is the busybox applet doing its job.
        outcome.tests.append(SuiteTest("busybox", "--list", listing.status is Status.PASSED, source="list"))
        if self._shell_can_run_suite(session, expected):
            env = {"MUSLTOOL_SUITE_DATA": session.path(SUITE_DATA), "MUSLTOOL_MACHINE": self.isa.uname_machine,
                   "MUSLTOOL_ENDIAN": self.isa.byte_order}  # fmt: skip
            if session.isolated:
                env["MUSLTOOL_ISOLATED"] = "1"
            if not runs_natively(self.isa):
                env["MUSLTOOL_EMULATED"] = "1"
                if self.isa.little_endian != (sys.byteorder == "little"):
                    env["MUSLTOOL_BYTE_SWAPPED"] = "1"
            if self.kind_options.knock_out:
                env["MUSLTOOL_KNOCKOUT"] = "1"
            timeout = SUITE_TIMEOUT * (len(STANDINS) + 1 if self.kind_options.knock_out else 1)
            suite = session.run("bin/busybox", ["sh", session.path(SUITE_FILE)], timeout=timeout, env=env)
            outcome = outcome.merge(parse_suite(suite.stdout))
            if suite.timed_out or suite.signal or not outcome.ended:
                detail = f"{suite.describe()}: {suite.stderr[-300:]}"
                results.append(TestResult("functional suite", Status.FAILED, detail, Evidence.NONE))
        else:
            reason = "this build has no shell with echo to run it: applets were run on their own"
            results.append(TestResult("functional suite", Status.NOT_TESTABLE, reason, Evidence.NONE))
        if self.kind_options.upstream_tests:
            results += self._upstream_tests(built, expected, outcome)
        reached = outcome.reached()
        unreached = [a for a in expected if a not in reached]
        outcome = outcome.merge(run_one_by_one(session, unreached, self.isa, self.kind_options.knock_out))
        return results + applet_results(outcome, expected, self.recipe.data.get("not_testable", {}))

    def _upstream_tests(self, built: Built, applets: list[str], outcome: SuiteOutcome) -> list[TestResult]:
        """BusyBox's own testsuite against this build; what it says of an applet joins its evidence."""
        src = source_tree(self.recipe, self.version, self.source, self.options.fetch)
        left_out = files_in(src, self.recipe.data.get("upstream_native_only", {})) if not runs_natively(self.isa) else {}
        config, slow = built.companions["busybox.config"].read_text(), self.recipe.data.get("upstream_test_seconds")
        tests, tail = run_testsuite(src, built.binary, config, {}, tuple(left_out), applets, slow)
        expected = expected_failures(self.recipe.data, self.version, self.isa.byte_order)
        results, evidence = upstream_results(tests, expected, applets, tail, left_out)
        for applet, name, passed in evidence:
            outcome.tests.append(SuiteTest(applet, name, passed, source=UPSTREAM))
        return results

    def headline(self, results: list[TestResult], built: Built) -> str:
        return applets_headline(results, built.details["applets"], self.kind_options.knock_out)

    # -- the system BusyBox makes

    @classmethod
    def root_tree(cls, report: BuildReport, binary: bytes) -> Tree:
        return rootfs_tree(binary, report.details["install_paths"])[0]

    @classmethod
    def system_files(cls, recipe: Recipe, share: str) -> Tree:
        assert recipe.folder is not None
        tree = read_folder(recipe.folder / FIRMWARE_FILES, keep_modes=False)
        for path, mode in PRIVATE_FILES.items():
            entry = tree.get(path)
            if entry is not None:
                tree.entries[tree.entries.index(entry)] = replace(entry, mode=mode)
        for name in (BOOT_SUITE_FILE, SUITE_FILE):
            tree.add_file(f"{share}/{name}", (recipe.folder / name).read_bytes())
        tree.add_dir(f"{share}/{SUITE_DATA}")
        tree.entries += read_folder(recipe.folder / SUITE_DATA, f"{share}/{SUITE_DATA}", keep_modes=False).entries
        return tree

    @classmethod
    def boot_suites(cls, share: str, isa: Isa) -> list[SuiteRun]:
        applet_suite = (f"mkdir -p /tmp/suite && MUSLTOOL_ISOLATED=1 MUSLTOOL_SUITE_DATA=/{share}/{SUITE_DATA} "
                        f"MUSLTOOL_MACHINE={isa.uname_machine} MUSLTOOL_ENDIAN={isa.byte_order} TMPDIR=/tmp/suite "
                        f"{'linux32 ' if isa.linux32 else ''}sh /{share}/{SUITE_FILE} 2>/dev/null")  # fmt: skip
        return [SuiteRun("boot suite", "boot", f"MUSLTOOL_DISK=/dev/vda MUSLTOOL_CONSOLE=/dev/{isa.console} MUSLTOOL_LACKS='{' '.join(isa.boot_lacks)}' sh /{share}/{BOOT_SUITE_FILE}", BOOT_SUITE_END),
                SuiteRun("applet suite", "boot (applet suite)", applet_suite, SUITE_END)]  # fmt: skip

    @classmethod
    def proven_parts(cls, report: BuildReport) -> set[str]:
        """Applets with functional evidence in the build's own (user-mode) verification."""
        return {r.name.removeprefix("applet ") for r in report.verification.results
                if r.name.startswith("applet ") and r.evidence is Evidence.FUNCTIONAL}  # fmt: skip

    @staticmethod
    def _shell_can_run_suite(session: Session, applets: list[str]) -> bool:
        """The suite needs sh with an echo (builtin or applet); small --applets sets may lack it."""
        if "sh" not in applets:
            return False
        probe = session.run("bin/busybox", ["sh", "-c", "echo ok"])
        return probe.stdout == "ok\n"
