"""BusyBox's applets as its sources declare them (`//applet:` lines): which Kconfig symbols
enable each one, and where its link goes in a root filesystem."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path

from musltool.errors import UsageError

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

# An applet's declarations: each a tuple of conditions, "SYMBOL" (must be y) or "!SYMBOL".
AppletMap = dict[str, list[tuple[str, ...]]]


def _declaration_lines(src: Path) -> list[str]:
    lines = []
    for path in sorted(src.rglob("*.[ch]")):
        text = path.read_text(errors="replace")
        if "//applet:" in text:
            lines += APPLET_LINE.findall(text)
    return lines


def applet_map(src: Path) -> AppletMap:
    """Applet name -> its `//applet:` declarations' conditions (IF_X, IF_NOT_X)."""
    return applet_map_from_lines(_declaration_lines(src))


def applet_map_from_lines(lines: list[str]) -> AppletMap:
    applets: AppletMap = {}
    for line in lines:
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
    for line in _declaration_lines(src):
        declared, where = APPLET_DECL.search(line), INSTALL_DIR.search(line)
        if declared and where:
            dirs.setdefault(declared.group(1), INSTALL_DIRS.get(where.group(1), "bin/"))
    return sorted(dirs.get(name, "bin/") + name for name in names)


def _holds(condition: str, config: Mapping[str, str]) -> bool:
    if condition.startswith("!"):
        return config.get(condition[1:]) != "y"
    return config.get(condition) == "y"


def enabled_applets(config: Mapping[str, str], applets: AppletMap) -> list[str]:
    """Applets some declaration of which has all its conditions met by `config`."""
    return sorted(
        name
        for name, declarations in applets.items()
        if any(all(_holds(c, config) for c in conds) for conds in declarations)
    )


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
