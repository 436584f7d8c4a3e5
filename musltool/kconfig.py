"""Kconfig projects (a recipe kind's today; the kernel, toybox or U-Boot tomorrow), the way
Buildroot's pkg-kconfig handles them: a base config from a make target or a file, fragments
merged over it, symbols forced by fixups, then `make oldconfig` resolving dependencies with
every new question answered by its default, out of tree (O=...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from musltool.errors import BuildError, UsageError
from musltool.files import atomic_write_text
from musltool.process import call, last_meaningful_line, run

CONFIG_LINE = re.compile(r"^(?:CONFIG_(\w+)=(.*)|# CONFIG_(\w+) is not set)$")
COMMENT_OR_BLANK = re.compile(r"^(#.*)?$")


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


def config_problem(text: str) -> str | None:
    """The first line that is no .config line (CONFIG_X=..., '# CONFIG_X is not set', a comment
    or blank), as 'line N: ...', or None."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not (CONFIG_LINE.match(stripped) or COMMENT_OR_BLANK.match(stripped)):
            return f"line {number} is not a Kconfig line: {stripped[:60]!r}"
    return None


def read_config_file(path: Path, what: str) -> str:
    """A user's .config or fragment, checked line by line before any work."""
    try:
        text = path.read_text()
    except FileNotFoundError as exc:
        raise UsageError(f"{what} {path}: not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{what} {path}: cannot read: {exc}") from exc
    problem = config_problem(text)
    if problem:
        raise UsageError(f"{what} {path}: {problem}")
    return text


def set_symbols(text: str, values: Mapping[str, str]) -> str:
    """`text` with each symbol's line replaced (or appended): value 'n' writes 'is not set'."""
    kept = [
        line
        for line in text.splitlines()
        if not ((m := CONFIG_LINE.match(line.strip())) and (m.group(1) or m.group(3)) in values)
    ]
    for symbol, value in values.items():
        kept.append(f"# CONFIG_{symbol} is not set" if value == "n" else f"CONFIG_{symbol}={value}")
    return "\n".join(kept) + "\n"


def not_held(config: Mapping[str, str], values: Mapping[str, str]) -> list[str]:
    """Symbols that `oldconfig` set otherwise than asked (a symbol Kconfig does not know is
    left out: a fixup for a symbol that a version lacks holds trivially)."""
    return [s for s, v in values.items() if s in config and config[s] != v]


@dataclass(frozen=True)
class KconfigTree:
    """A Kconfig source tree configured out of tree: `make(targets)` is the make command."""

    make: Callable[..., list[str]]
    out: Path
    env: Mapping[str, str]

    @property
    def config_path(self) -> Path:
        return self.out / ".config"

    def from_target(self, target: str) -> str:
        """The .config a make target (defconfig, allnoconfig ...) writes."""
        run(self.make(target), env=self.env, what=f"make {target}")
        return self.config_path.read_text()

    def resolve(self, text: str) -> str:
        """Write `text` as .config and let `make oldconfig` resolve it, every new question
        answered with its default; the final .config."""
        atomic_write_text(self.config_path, text)
        answered = call(self.make("oldconfig"), input=b"\n" * 5000, env=self.env, merge_stderr=True)
        if answered.returncode != 0:
            reason = last_meaningful_line(answered.stdout.decode(errors="replace"))
            raise BuildError(f"make oldconfig failed: {reason}")
        return self.config_path.read_text()
