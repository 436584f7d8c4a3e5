"""BusyBox: sources, applet selection through its own Kconfig, fixups, build, verification."""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from musltool import settings
from musltool.build import Builder, Built
from musltool.container import Tree
from musltool.errors import BuildError, UsageError
from musltool.extract import extract
from musltool.fetch import Source, default_options, fetch
from musltool.recipes import Recipe
from musltool.runners import Session
from musltool.util import last_meaningful_line, run, sha256_file
from musltool.verify import TestResult

SUITE = settings.RECIPES_DIR / "busybox" / "suite.sh"
APPLET_LINE = re.compile(r"^//applet:(.*)$", re.M)
APPLET_DECL = re.compile(r"APPLET\w*\(\s*([^,\s)]+)")
CONDITION = re.compile(r"IF_(NOT_)?(\w+)\(")
INSTALL_DIR = re.compile(r"BB_DIR_(\w+)")
# Where BusyBox's installer puts an applet's link, by its declaration's BB_DIR_*.
INSTALL_DIRS = {
    "ROOT": "",
    "BIN": "bin/",
    "SBIN": "sbin/",
    "USR_BIN": "usr/bin/",
    "USR_SBIN": "usr/sbin/",
}
CONFIG_LINE = re.compile(r"^(?:CONFIG_(\w+)=(.*)|# CONFIG_(\w+) is not set)$")
BUILTIN_CONFIGS = ("defconfig",)


# ---------------------------------------------------------------- source and applet map


def version_entry(recipe: Recipe, version: str | None) -> tuple[str, Source]:
    chosen = version or recipe.version
    versions: dict[str, Any] = recipe.data.get("versions", {})
    if chosen not in versions:
        raise UsageError(f"unknown BusyBox version {chosen!r}; known: {', '.join(versions)}")
    entry = versions[chosen]
    return chosen, Source(entry["url"], entry["sha256"])


def source_tree(
    recipe: Recipe, version: str | None, mirrors: tuple[str, ...] = ()
) -> tuple[str, Path, Source]:
    """The extracted, hash-checked BusyBox source for a version."""
    chosen, source = version_entry(recipe, version)
    archive = fetch(source, default_options(list(mirrors)))
    dest = settings.cache_dir() / "src" / f"busybox-{chosen}-{source.sha256[:12]}"
    return chosen, extract(archive, dest, strip_top=f"busybox-{chosen}"), source


# An applet's declarations: each a tuple of conditions, "SYMBOL" (must be y) or "!SYMBOL".
AppletMap = dict[str, list[tuple[str, ...]]]


def applet_map(src: Path) -> AppletMap:
    """Applet name -> its `//applet:` declarations' conditions (IF_X, IF_NOT_X)."""
    applets: AppletMap = {}
    for path in sorted(src.rglob("*.[ch]")):
        text = path.read_text(errors="replace")
        if "//applet:" not in text:
            continue
        for line in APPLET_LINE.findall(text):
            declared = APPLET_DECL.search(line)
            if not declared:
                continue
            conditions = tuple(
                ("!" if negated else "") + symbol
                for negated, symbol in CONDITION.findall(line[: declared.start()])
            )
            if conditions:
                applets.setdefault(declared.group(1), []).append(conditions)
    return applets


def install_paths(src: Path, names: list[str]) -> list[str]:
    """Each applet's link path in a root filesystem (bin/ls, usr/bin/awk ...), from the
    BB_DIR_* of its `//applet:` declaration."""
    dirs: dict[str, str] = {}
    for path in sorted(src.rglob("*.[ch]")):
        text = path.read_text(errors="replace")
        for line in APPLET_LINE.findall(text):
            declared, where = APPLET_DECL.search(line), INSTALL_DIR.search(line)
            if declared and where:
                dirs.setdefault(declared.group(1), INSTALL_DIRS.get(where.group(1), "bin/"))
    return sorted(dirs.get(name, "bin/") + name for name in names)


def _holds(condition: str, config: dict[str, str]) -> bool:
    if condition.startswith("!"):
        return config.get(condition[1:]) != "y"
    return config.get(condition) == "y"


def list_applets_for(
    recipe: Recipe, version: str | None, mirrors: tuple[str, ...] = ()
) -> list[str]:
    if recipe.kind != "busybox":
        raise UsageError(f"--list-applets is for BusyBox, not {recipe.name}")
    _, src, _ = source_tree(recipe, version, mirrors)
    return sorted(applet_map(src))


def symbols_for_applets(names: list[str], applets: AppletMap) -> list[str]:
    """The symbols to enable: each applet's plainest declaration's positive conditions."""
    unknown = [n for n in names if n not in applets]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(applets), n=3)
            hints.append(f"{name!r}" + (f" (closest: {', '.join(close)})" if close else ""))
        raise UsageError(f"unknown applet {', '.join(hints)}; see --list-applets")
    plainest = {n: min(applets[n], key=len) for n in names}
    return sorted({c for conds in plainest.values() for c in conds if not c.startswith("!")})


# ---------------------------------------------------------------- .config handling


def parse_config(text: str) -> dict[str, str]:
    """Symbol -> value ('n' for `# CONFIG_X is not set`)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        match = CONFIG_LINE.match(line.strip())
        if match:
            if match.group(1):
                values[match.group(1)] = match.group(2)
            else:
                values[match.group(3)] = "n"
    return values


def set_symbols(text: str, values: dict[str, str]) -> str:
    """`text` with each symbol's line replaced (or appended): value 'n' writes 'is not set'."""
    kept = [
        line
        for line in text.splitlines()
        if not ((m := CONFIG_LINE.match(line.strip())) and (m.group(1) or m.group(3)) in values)
    ]
    for symbol, value in values.items():
        kept.append(f"# CONFIG_{symbol} is not set" if value == "n" else f"CONFIG_{symbol}={value}")
    return "\n".join(kept) + "\n"


def fragment_values(lines: list[str]) -> dict[str, str]:
    return parse_config("\n".join(lines))


def enabled_applets(config: dict[str, str], applets: AppletMap) -> list[str]:
    """Applets some declaration of which has all its conditions met by `config`."""
    return sorted(
        name
        for name, declarations in applets.items()
        if any(all(_holds(c, config) for c in conds) for conds in declarations)
    )


@dataclass(frozen=True)
class Fixup:
    reason: str
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    extra_cflags: tuple[str, ...] = ()

    def values(self) -> dict[str, str]:
        return {**{s: "y" for s in self.enable}, **{s: "n" for s in self.disable}}


def applicable_fixups(data: dict[str, Any], version: str, isa: str, compiler: str) -> list[Fixup]:
    """The recipe's fixups whose version / ISA / compiler-family (gcc, clang) limits match."""
    chosen = []
    for entry in data.get("fixups", []):
        limits = (("versions", version), ("isas", isa), ("compilers", compiler))
        if all(value in entry.get(key, [value]) for key, value in limits):
            chosen.append(
                Fixup(
                    entry["reason"],
                    tuple(entry.get("enable", [])),
                    tuple(entry.get("disable", [])),
                    tuple(entry.get("extra_cflags", [])),
                )
            )
    return chosen


# ---------------------------------------------------------------- the builder


class BusyboxBuilder(Builder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version, self.source = version_entry(self.recipe, self.options.version)
        self.fixups = applicable_fixups(
            self.recipe.data, self.version, self.isa.name, self.toolchain.compiler_family
        )
        self.expected_applets: list[str] = []

    # -- inputs and config

    def _base_spec(self) -> dict[str, Any]:
        """What the base config is, as data: the fingerprint and the config step share it."""
        options = self.options
        if options.applets:
            return {"applets": sorted(options.applets)}
        name = options.config or "defconfig"
        if name in BUILTIN_CONFIGS:
            return {"make": name}
        preset = self.recipe.data.get("configs", {}).get(name)
        if preset is not None:
            return {"applets": preset["applets"], "fragment": preset.get("fragment", [])}
        path = Path(name)
        if not path.is_file():
            known = ", ".join([*BUILTIN_CONFIGS, *self.recipe.data.get("configs", {})])
            raise UsageError(f"BusyBox config {name!r} is neither a file nor one of: {known}")
        return {"file": path.read_text()}

    def inputs(self) -> dict[str, Any]:
        fragment = self.options.fragment
        if fragment is not None and not fragment.is_file():
            raise UsageError(f"config fragment not found: {fragment}")
        return {
            "version": self.version,
            "source_sha256": self.source.sha256,
            "base": self._base_spec(),
            "fragment": fragment.read_text() if fragment else "",
        }

    def make_command(self, src: Path, out: Path, *targets: str, jobs: int = 1) -> list[str]:
        extra = " ".join(f for fix in self.fixups for f in fix.extra_cflags)
        prefix_maps = f"-ffile-prefix-map={src}=busybox-{self.version} -ffile-prefix-map={out}=."
        return [
            "make", "-C", str(src), f"O={out}", f"-j{jobs}",
            f"ARCH={self.isa.busybox_arch}",
            f"CROSS_COMPILE={self.toolchain.bin_dir()}/{self.toolchain.triple}-",
            f"EXTRA_CFLAGS={extra} {prefix_maps}".strip(),
            "HOSTCC=gcc",
            *targets,
        ]  # fmt: skip

    def build_env(self) -> dict[str, str]:
        env = self.toolchain.env()
        for key in ("CFLAGS", "CXXFLAGS", "LDFLAGS"):  # Kbuild sets its own
            env.pop(key, None)
        env.update(
            KCONFIG_NOTIMESTAMP="1",
            SOURCE_DATE_EPOCH=str(settings.source_date_epoch()),
            KBUILD_BUILD_TIMESTAMP="@" + str(settings.source_date_epoch()),
            KBUILD_BUILD_USER="musltool",
            KBUILD_BUILD_HOST="musltool",
            LC_ALL="C",
            TZ="UTC",
        )
        return env

    def configure(self, src: Path, out: Path, applets: AppletMap) -> str:
        env = self.build_env()
        spec = self._base_spec()
        if "make" in spec:
            run(self.make_command(src, out, spec["make"]), env=env, what=f"make {spec['make']}")
            text = (out / ".config").read_text()
        elif "file" in spec:
            text = spec["file"]
        else:
            run(self.make_command(src, out, "allnoconfig"), env=env, what="make allnoconfig")
            wanted = symbols_for_applets(list(spec["applets"]), applets)
            values = {s: "y" for s in wanted} | fragment_values(spec.get("fragment", []))
            text = set_symbols((out / ".config").read_text(), values)
        if self.options.fragment:
            text = set_symbols(text, parse_config(self.options.fragment.read_text()))
        for fixup in self.fixups:
            text = set_symbols(text, fixup.values())
        (out / ".config").write_text(text)
        answered = subprocess.run(  # answer every new question with its default
            self.make_command(src, out, "oldconfig"),
            input="\n" * 5000,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if answered.returncode != 0:
            raise BuildError(
                f"make oldconfig failed: {last_meaningful_line(answered.stdout + answered.stderr)}"
            )
        final = (out / ".config").read_text()
        self._check_config(parse_config(final), spec, applets)
        return final

    def _check_config(
        self, config: dict[str, str], spec: dict[str, Any], applets: AppletMap
    ) -> None:
        for fixup in self.fixups:
            for symbol, value in fixup.values().items():
                if config.get(symbol, "n") != value and symbol in config:
                    raise BuildError(f"fixup did not hold: CONFIG_{symbol} ({fixup.reason})")
        requested = list(spec.get("applets", []))
        enabled = set(enabled_applets(config, applets))
        lost = [a for a in requested if a not in enabled]
        if lost:
            raise UsageError(
                f"BusyBox's Kconfig could not enable: {', '.join(lost)} "
                "(their dependencies are not met in this config)"
            )

    # -- build

    def compile(self, workdir: Path) -> Built:
        self.version, src, _ = source_tree(self.recipe, self.options.version, self.options.mirrors)
        applets = applet_map(src)
        out = workdir / "out"
        out.mkdir()
        config = self.configure(src, out, applets)
        self._build(src, out)
        self.expected_applets = enabled_applets(parse_config(config), applets)
        requested = set(self._base_spec().get("applets", []))
        config_path = out / ".config"
        return Built(
            out / "busybox",
            extras={"busybox.config": config_path},
            flags={
                "EXTRA_CFLAGS": [f for fix in self.fixups for f in fix.extra_cflags],
                "ARCH": self.isa.busybox_arch,
            },
            details={
                "busybox_version": self.version,
                "source_sha256": self.source.sha256,
                "config_sha256": sha256_file(config_path),
                "applets": self.expected_applets,
                "applet_count": len(self.expected_applets),
                "install_paths": install_paths(src, self.expected_applets),
                "added_by_kconfig": sorted(set(self.expected_applets) - requested)
                if requested
                else [],
                "fixups": [f.reason for f in self.fixups],
            },
        )

    def _build(self, src: Path, out: Path) -> None:
        """make busybox with a progress bar counting compiled files; log kept on failure."""
        cmd = self.make_command(src, out, "busybox", jobs=os.cpu_count() or 1)
        log_path = settings.cache_dir() / "logs" / f"busybox-{self.version}-{self.isa.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        expected = sum(1 for _ in src.rglob("*.c"))
        with (
            log_path.open("w") as log_file,
            subprocess.Popen(
                cmd,
                env=self.build_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ) as proc,
            tqdm(
                total=expected,
                desc=f"busybox {self.isa.name}",
                unit="file",
                disable=not sys.stderr.isatty(),
                leave=False,
            ) as bar,
        ):
            assert proc.stdout is not None
            tail: list[str] = []
            for line in proc.stdout:
                log_file.write(line)
                tail = [*tail[-40:], line]
                if line.lstrip().startswith("CC "):
                    bar.update(1)
            code = proc.wait()
        if code != 0 or not (out / "busybox").is_file():
            reason = last_meaningful_line("".join(tail))
            raise BuildError(
                f"BusyBox build for {self.isa.name} failed: {reason} (log: {log_path})"
            )

    # -- verification

    def session_files(self, built: Built) -> Tree:
        tree = Tree()
        tree.add_dir("bin")
        tree.add_file("bin/busybox", built.binary.read_bytes(), 0o755)
        for applet in self.expected_applets:
            if applet != "busybox" and "/" not in applet:
                tree.add_symlink(f"bin/{applet}", "busybox")
        tree.add_file("suite.sh", SUITE.read_bytes(), 0o644)
        return tree

    def verify(self, session: Session, built: Built) -> list[TestResult]:
        """`--list` against the .config, the suite in the built sh, then each applet the suite
        could not reach run on its own, so that every applet is invoked at least once."""
        listed = session.run("bin/busybox", ["--list"])
        got = sorted(listed.stdout.split())
        results = [_list_result(got, self.expected_applets, listed.describe())]
        suite_output = ""
        if self._shell_can_run_suite(session):
            suite = session.run("bin/busybox", ["sh", session.path("suite.sh")], timeout=900)
            suite_output = suite.stdout
            if suite.timed_out or suite.signal or "SUITE-END" not in suite.stdout:
                detail = f"{suite.describe()}: {suite.stderr[-300:]}"
                results.append(TestResult("functional suite", "failed", detail))
        else:
            reason = "this build has no shell with echo to run it: applets were run on their own"
            results.append(TestResult("functional suite", "not-testable", reason))
        reached = _applets_with_evidence(suite_output)
        unreached = [a for a in self.expected_applets if a not in reached]
        one_by_one = self._run_one_by_one(session, unreached)
        return results + applet_results(suite_output + "\n" + one_by_one, self.expected_applets)

    def _shell_can_run_suite(self, session: Session) -> bool:
        """The suite needs sh with an echo (builtin or applet); small --applets sets may lack it."""
        if "sh" not in self.expected_applets:
            return False
        probe = session.run("bin/busybox", ["sh", "-c", "echo ok"])
        return probe.stdout == "ok\n"

    def _run_one_by_one(self, session: Session, applets: list[str]) -> str:
        """Suite-format lines for applets run on their own: a known answer (ONE_BY_ONE_RUNS),
        else their usage text, else a note that nothing here can exercise them."""
        lines = []
        for applet in applets:
            known = ONE_BY_ONE_RUNS.get(applet)
            if known is None:
                result = session.run(f"bin/{applet}", ["--help"])
                ok = "Usage: " in result.stdout + result.stderr
                lines.append(f"HELP|{applet}|{'ok' if ok else 'none'}")
                if not ok:
                    lines.append(f"NOTEST|{applet}|{NO_SUITE_NO_USAGE}")
                continue
            args, stdin, expected = known
            result = session.run(f"bin/{applet}", args, stdin=stdin)
            ok = result.exit_code == 0 and result.stdout == expected.format(**vars(self.isa))
            kind = "PASS" if ok else "FAIL"
            lines.append(
                f"{kind}|{applet}|known answer|{result.describe()}, printed {result.stdout!r}"
            )
        return "\n".join(lines)


def _applets_with_evidence(output: str) -> set[str]:
    """Applets the suite showed usage text for or ran a test of."""
    reached = set()
    for line in output.splitlines():
        kind, _, rest = line.partition("|")
        fields = rest.split("|")
        if (kind == "HELP" and fields[1:2] == ["ok"]) or kind in ("PASS", "FAIL"):
            reached.add(fields[0].split()[0] if fields[0] else "")
    return reached


NO_SUITE_NO_USAGE = "built without usage text, and no test here can run it on its own"

# Known answers for applets run on their own: (args, stdin, exact stdout; ISA fields filled in).
ONE_BY_ONE_RUNS: dict[str, tuple[list[str], str | None, str]] = {
    "true": ([], None, ""),
    "test": (["1", "-eq", "1"], None, ""),
    "[": (["1", "-eq", "1", "]"], None, ""),
    "[[": (["1", "-eq", "1", "]]"], None, ""),
    "echo": (["hi"], None, "hi\n"),
    "sh": (["-c", "read x; exit 0"], "x\n", ""),
    "ash": (["-c", "read x; exit 0"], "x\n", ""),
    "ls": (["-d", "/"], None, "/\n"),
    "awk": (["BEGIN { print 1 + 2 }"], None, "3\n"),
    "cat": ([], "x\n", "x\n"),
    "sed": (["s/a/b/"], "a\n", "b\n"),
    "grep": (["b"], "a\nb\n", "b\n"),
    "sort": ([], "b\na\n", "a\nb\n"),
    "wc": (["-l"], "a\nb\n", "2\n"),
    "head": (["-n", "1"], "a\nb\n", "a\n"),
    "tail": (["-n", "1"], "a\nb\n", "b\n"),
    "uname": (["-m"], None, "{uname_machine}\n"),
    "basename": (["/a/b"], None, "b\n"),
    "dirname": (["/a/b"], None, "/a\n"),
}


def _list_result(got: list[str], expected: list[str], how: str) -> TestResult:
    if got == expected:
        return TestResult("busybox --list", "passed", f"{len(got)} applets, as configured")
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    return TestResult(
        "busybox --list", "failed", f"{how}; missing {missing[:10]}, unexpected {extra[:10]}"
    )


def applet_results(output: str, applets: list[str]) -> list[TestResult]:
    """Parse the suite's `HELP|`, `PASS|`, `FAIL|`, `NOTEST|` lines into per-test and per-applet results."""
    helped: dict[str, bool] = {}
    functional: dict[str, list[bool]] = {}
    untestable: dict[str, str] = {}
    results: list[TestResult] = []
    for line in output.splitlines():
        kind, _, rest = line.partition("|")
        fields = rest.split("|")
        if kind == "HELP" and len(fields) >= 2:
            helped[fields[0]] = fields[1] == "ok"
        elif kind in ("PASS", "FAIL") and len(fields) >= 2:
            applet, name = fields[0].split()[0], fields[1]
            functional.setdefault(applet, []).append(kind == "PASS")
            detail = fields[2] if len(fields) > 2 else ""
            status = "passed" if kind == "PASS" else "failed"
            results.append(TestResult(f"suite: {applet}: {name}", status, detail))
        elif kind == "NOTEST" and len(fields) >= 2:
            untestable[fields[0]] = fields[1]
    for applet in applets:
        results.append(_applet_status(applet, helped, functional, untestable))
    return results


def _applet_status(
    applet: str,
    helped: dict[str, bool],
    functional: dict[str, list[bool]],
    untestable: dict[str, str],
) -> TestResult:
    """Failed if a functional test failed; passed on usage text or a passing test.

    Some applets are built without usage text (egrep, ascii ...): that alone is no failure,
    but such an applet then needs a functional test or a recorded reason it has none.
    """
    runs = functional.get(applet, [])
    help_ok = helped.get(applet, False)
    parts = (["usage text"] if help_ok else []) + (
        [f"{sum(runs)}/{len(runs)} functional tests"] if runs else []
    )
    name = f"applet {applet}"
    if runs and not all(runs):
        return TestResult(name, "failed", ", ".join(parts))
    if help_ok or runs:
        return TestResult(name, "passed", ", ".join(parts))
    if applet in untestable:
        return TestResult(name, "not-testable", untestable[applet])
    return TestResult(name, "failed", "no usage text and no functional test ran")
