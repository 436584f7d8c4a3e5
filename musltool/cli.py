"""The command line's shared plumbing, for every task module: musltool errors, Ctrl-C and
Invoke's own parse and config errors become one line and the documented exit code; option
values (comma lists, the config's mirrors, the words after --) and the help they share."""

from __future__ import annotations

import errno
import functools
import shlex
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from invoke.exceptions import Exit

from musltool.errors import MusltoolError, UsageError
from musltool.fetch import FetchOptions, fetch_options
from musltool.isa import ISA_NAMES, SPECIAL_SPECS

F = TypeVar("F", bound=Callable[..., Any])
# A folder or file that cannot be written, or a full disk: bad input (exit 2), as README says.
UNWRITABLE = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT})


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that every cleanup on the way out runs."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def one_line_errors(func: F) -> F:
    """Errors become `musltool: error: ...` and the error's exit code, never a traceback.

    Ctrl-C (exit 130) and SIGTERM (exit 143) unwind the task like an error: temporary
    containers, images and folders are removed on the way out.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            return func(*args, **kwargs)
        except MusltoolError as exc:
            raise Exit(f"musltool: error: {exc}", code=exc.exit_code) from None
        except Terminated:
            raise Exit("musltool: terminated", code=143) from None
        except KeyboardInterrupt:
            raise Exit("musltool: interrupted", code=130) from None
        except OSError as exc:  # a disk or permission problem no check foresaw
            where = f"{exc.filename}: " if exc.filename else ""
            code = 2 if exc.errno in UNWRITABLE else 1
            raise Exit(f"musltool: error: {where}{exc.strerror or exc}", code=code) from None
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper  # type: ignore[return-value]


INVOKE_CONFIG_NAMES = ("invoke.yaml", "invoke.yml", "invoke.json")


def invoke_config_problem(folders: list[Path]) -> str | None:
    """The first Invoke config file (system, user, project) that does not parse, is not a file,
    or gives musltool's settings the wrong type, in one line: Invoke would otherwise stop with
    a traceback."""
    import json

    from invoke.util import yaml

    candidates = [Path("/etc") / name for name in INVOKE_CONFIG_NAMES]
    candidates += [Path.home() / f".{name}" for name in INVOKE_CONFIG_NAMES]
    candidates += [folder / name for folder in folders for name in INVOKE_CONFIG_NAMES]
    for path in candidates:
        if not path.exists():
            continue
        if not path.is_file():
            return f"{path}: is not a file"
        try:
            text = path.read_text()
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            reason = " ".join(str(exc).split())
            return f"{path}: {reason}"
        if data is not None and not isinstance(data, dict):
            return f"{path}: must hold a mapping of settings, not {type(data).__name__}"
        problem = musltool_settings_problem((data or {}).get("musltool"))
        if problem:
            return f"{path}: {problem}"
    return None


def musltool_settings_problem(settings: object) -> str | None:
    """Why the `musltool:` settings have the wrong shape, or None."""
    if settings is None:
        return None
    if not isinstance(settings, dict):
        return f"musltool: must be a mapping of settings, not {type(settings).__name__}"
    mirrors = settings.get("mirrors")
    if mirrors is not None and not isinstance(mirrors, str) and not (
        isinstance(mirrors, list) and all(isinstance(m, str) for m in mirrors)
    ):
        return f"musltool.mirrors: must be a list of URLs or one string of them, not {mirrors!r}"
    return None


def exit_on_broken_invoke_config(folders: list[Path]) -> None:
    problem = invoke_config_problem(folders)
    if problem:
        sys.stderr.write(f"musltool: error: invalid Invoke config {problem}\n")
        sys.exit(2)


def one_line_parse_errors(program_class: type) -> None:
    """A task option Invoke cannot parse (unknown, or missing its value) becomes one
    `musltool: error:` line and exit 2, as every other bad input is."""
    from invoke.exceptions import ParseError

    parse_tasks = program_class.parse_tasks
    if getattr(parse_tasks, "musltool", False):
        return

    def parse_tasks_in_one_line(self) -> None:
        try:
            parse_tasks(self)
        except ParseError as exc:
            raise Exit(f"musltool: error: {exc}", code=2) from None

    parse_tasks_in_one_line.musltool = True  # type: ignore[attr-defined]
    program_class.parse_tasks = parse_tasks_in_one_line


ARCH_HELP = f"ISA: {', '.join(ISA_NAMES)} (or amd64, arm64, armhf ...), a comma list, or {', '.join(SPECIAL_SPECS)}"
TOOLCHAIN_HELP = "toolchain provider: zig (default), a GCC archive (bootlin, muslcc) or debian-gcc (invoke toolchain.list)"


def config_mirrors(c) -> object:
    """`musltool.mirrors` from Invoke's config, checked."""
    settings = c.config.get("musltool", {})
    problem = musltool_settings_problem(settings)
    if problem:
        raise UsageError(f"invalid Invoke config: {problem}")
    return settings.get("mirrors")


def download_options(c, quiet: bool = False) -> FetchOptions:
    return fetch_options(config_mirrors(c), quiet=quiet)


SIGN_KEY_HELP = ("a PEM private key (Ed25519 or ECDSA P-256): each artifact also gets its test result and "
                 "provenance as signed in-toto statements")


def split_list(values: list[str] | str | None) -> list[str]:
    """Values given as repeated options and/or comma-separated lists."""
    if not values:
        return []
    items = [values] if isinstance(values, str) else values
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def remainder(c) -> list[str]:
    """The words after `--`, as typed (Invoke's remainder is one joined string)."""
    if "--" in sys.argv:
        return sys.argv[sys.argv.index("--") + 1 :]
    return shlex.split(c.remainder)
