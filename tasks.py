"""musltool's Invoke tasks (`invoke --list`); they live in the package as musltool.tasks, which
the `musltool` command runs too."""

from pathlib import Path

from invoke.program import Program

from musltool.cli import exit_on_broken_invoke_config, one_line_parse_errors

exit_on_broken_invoke_config([Path(__file__).resolve().parent])
one_line_parse_errors(Program)  # `invoke` is Invoke's own program: its parse errors too

from musltool.tasks import ns  # noqa: E402  (after the config check: Invoke reads it next)

__all__ = ["ns"]
