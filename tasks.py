"""musltool's Invoke tasks (`invoke --list`); they live in the package as musltool.tasks, which
the `musltool` command runs too."""

from pathlib import Path

from musltool.cli import exit_on_broken_invoke_config

exit_on_broken_invoke_config([Path(__file__).resolve().parent])

from musltool.tasks import ns  # noqa: E402  (after the config check: Invoke reads it next)

__all__ = ["ns"]
