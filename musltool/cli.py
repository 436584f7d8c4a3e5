"""What tasks.py shares: turning musltool errors and Ctrl-C into one line and an exit code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from invoke.exceptions import Exit

from musltool.errors import MusltoolError

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(func: F) -> F:
    """Errors become `musltool: error: ...` and the error's exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MusltoolError as exc:
            raise Exit(f"musltool: error: {exc}", code=exc.exit_code) from None
        except KeyboardInterrupt:
            raise Exit("musltool: interrupted", code=130) from None

    return wrapper  # type: ignore[return-value]


def split_list(values: list[str] | str | None) -> list[str]:
    """Values given as repeated options and/or comma-separated lists."""
    if not values:
        return []
    items = [values] if isinstance(values, str) else values
    return [part.strip() for item in items for part in item.split(",") if part.strip()]
