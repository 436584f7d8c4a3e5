"""Errors that end a musltool command with one line and a distinct exit code."""


class MusltoolError(Exception):
    """Base class: its message is shown to the user as one line, without a traceback."""

    exit_code = 1


class UsageError(MusltoolError):
    """Bad input: an unknown ISA, recipe, applet, a missing file."""

    exit_code = 2


class MissingToolError(MusltoolError):
    """A required host part (docker daemon, qemu-user-static, binfmt) is not there."""

    exit_code = 3


class DownloadError(MusltoolError):
    """No mirror gave a file with the pinned hash."""

    exit_code = 4


class BuildError(MusltoolError):
    """The compiler or the recipe's build command failed."""

    exit_code = 5


class CheckError(MusltoolError):
    """The binary is not what was asked for: dynamic, wrong ISA, wrong float ABI..."""

    exit_code = 6


class VerificationError(MusltoolError):
    """The binary ran, but crashed or printed the wrong thing under emulation."""

    exit_code = 7
