"""The programs behind the zig provider's `<triple>-gcc`, `-ar`, `-strip` ... wrappers.

Called as `python -m musltool.toolchain.zigtool TOOL ZIG_TARGET ZIG_CPU ARGS...`.
`zig cc` rejects some GNU linker and driver flags that real build systems pass; they are
dropped here, and every link is made static.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Driver flags zig cc rejects or that would ask for a dynamic libgcc.
DROPPED_FLAGS = frozenset({"-static-libgcc", "-lgcc_s", "-lgcc", "-lgcc_eh", "-rdynamic"})
# Linker options zig's linker (lld) rejects; each name with how many values follow it.
DROPPED_LINKER_OPTIONS = {
    "--warn-common": 0,
    "--verbose": 0,
    "--sort-common": 0,
    "-Map": 1,
    "--sort-section": 1,
}
# Options that stop before linking: no -static is added then.
NON_LINKING = frozenset({"-c", "-S", "-E", "-M", "-MM"})


def _linker_option_name(option: str) -> str:
    return option.split("=", 1)[0]


def filter_linker_options(options: list[str]) -> list[str]:
    """Drop what lld rejects from one -Wl, group's options, with the values they take."""
    kept: list[str] = []
    skip = 0
    for option in options:
        if skip:
            skip -= 1
            continue
        name = _linker_option_name(option)
        if name in DROPPED_LINKER_OPTIONS:
            skip = DROPPED_LINKER_OPTIONS[name] if "=" not in option else 0
            continue
        kept.append(option)
    return kept


def filter_cc_args(args: list[str]) -> list[str]:
    """The arguments to pass to `zig cc`: dropped flags removed, -Wl groups filtered."""
    out: list[str] = []
    pending_xlinker: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in DROPPED_FLAGS:
            continue
        if arg.startswith("-Wl,"):
            kept = filter_linker_options(arg[4:].split(","))
            if kept:
                out.append("-Wl," + ",".join(kept))
            continue
        if arg == "-Xlinker" and i < len(args):
            pending_xlinker.append(args[i])
            i += 1
            continue
        out.append(arg)
    out.extend(f"-Wl,{opt}" for opt in filter_linker_options(pending_xlinker))
    return out


def is_link(args: list[str]) -> bool:
    return not any(arg in NON_LINKING for arg in args) and "--version" not in args


def cc_command(zig: str, driver: str, target: str, cpu: str, args: list[str]) -> list[str]:
    filtered = filter_cc_args(args)
    cmd = [zig, driver, "-target", target, f"-mcpu={cpu}"]
    if is_link(args):
        cmd.append("-static")
    return cmd + filtered


def zig_executable() -> str:
    import ziglang

    return str(Path(ziglang.__file__).parent / "zig")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    tool, target, cpu, args = argv[0], argv[1], argv[2], argv[3:]
    zig = zig_executable()
    if tool in ("cc", "c++"):
        cmd = cc_command(zig, tool, target, cpu, args)
    elif tool in ("ar", "ranlib", "objcopy"):
        cmd = [zig, tool, *args]
    elif tool == "strip":
        from musltool.toolchain.binutils import strip_main

        return strip_main(args)
    elif tool == "nm":
        from musltool.toolchain.binutils import nm_main

        return nm_main(args)
    else:
        print(f"zigtool: unknown tool {tool}", file=sys.stderr)
        return 2
    os.execv(cmd[0], cmd)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main())
