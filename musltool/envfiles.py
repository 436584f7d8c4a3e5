"""A toolchain's environment in the forms other tools read: sh, fish, JSON."""

from __future__ import annotations

import json
import shlex

from musltool.toolchain.base import ENV_KEYS, Toolchain

FORMATS = ("sh", "fish", "json")


def fish_quote(value: str) -> str:
    """fish's single quotes: only backslash and the quote itself are escaped."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def render_environment(toolchain: Toolchain, form: str) -> str:
    environment = toolchain.env(base={})
    selected = {key: environment[key] for key in ENV_KEYS}
    if form == "json":
        return json.dumps(selected, indent=2, sort_keys=True) + "\n"
    if form == "fish":
        return "".join(f"set -gx {key} {fish_quote(value)}\n" for key, value in selected.items())
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in selected.items())
