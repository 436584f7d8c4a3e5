"""A toolchain's environment in the forms other tools read: sh, fish, JSON, a CMake toolchain
file and a Meson cross file.

The CMake and Meson files name the ISA's qemu-user (on its oldest CPU) as the emulator, so a
project's own tests (`ctest`, `meson test`) run under emulation.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from musltool.emulators import qemu_user
from musltool.isa import Isa
from musltool.toolchain.base import ENV_KEYS, Toolchain, pkg_config_env, sysroot_env

FORMATS = ("sh", "fish", "json", "cmake", "meson")


def fish_quote(value: str) -> str:
    """fish's single quotes: only backslash and the quote itself are escaped."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def emulator(isa: Isa) -> list[str]:
    """qemu-user on the ISA's oldest CPU: what runs a test program of this ISA."""
    return [qemu_user(isa) if isa.qemu_user_suite else isa.qemu_binary, "-cpu", isa.qemu_cpu]


def cmake_quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def cmake_toolchain_file(toolchain: Toolchain, environment: dict[str, str], sysroot: Path | None) -> str:
    isa = toolchain.isa
    settings = {
        "CMAKE_SYSTEM_NAME": "Linux",
        "CMAKE_SYSTEM_PROCESSOR": isa.uname_machine,
        "CMAKE_C_COMPILER": environment["CC"],
        "CMAKE_CXX_COMPILER": environment["CXX"],
        "CMAKE_AR": environment["AR"],
        "CMAKE_RANLIB": environment["RANLIB"],
        "CMAKE_STRIP": environment["STRIP"],
        "CMAKE_NM": environment["NM"],
        "CMAKE_OBJCOPY": environment["OBJCOPY"],
        "CMAKE_C_FLAGS_INIT": environment["CFLAGS"],
        "CMAKE_CXX_FLAGS_INIT": environment["CXXFLAGS"],
        "CMAKE_EXE_LINKER_FLAGS_INIT": environment["LDFLAGS"],  # -static
        # only static libraries exist for the target; search nothing on the host for it
        "CMAKE_FIND_LIBRARY_SUFFIXES": ".a",
        "BUILD_SHARED_LIBS": "OFF",
        "CMAKE_FIND_ROOT_PATH_MODE_PROGRAM": "NEVER",
        "CMAKE_FIND_ROOT_PATH_MODE_LIBRARY": "ONLY",
        "CMAKE_FIND_ROOT_PATH_MODE_INCLUDE": "ONLY",
        "CMAKE_FIND_ROOT_PATH_MODE_PACKAGE": "ONLY",
    }
    lines = [f"# musltool: {toolchain.describe()} for {isa.name} (invoke toolchain.env --format cmake)"]
    lines += [f"set({key} {cmake_quote(value)})" for key, value in settings.items()]
    lines.append(f"set(CMAKE_CROSSCOMPILING_EMULATOR {cmake_quote(';'.join(emulator(isa)))})")
    if sysroot is not None:  # find_package, find_library and pkg_check_modules look there only
        lines.append(f"set(CMAKE_FIND_ROOT_PATH {cmake_quote(str(sysroot))})")
        lines += [f"set(ENV{{{key}}} {cmake_quote(value)})" for key, value in pkg_config_env(sysroot).items()]
    return "\n".join(lines) + "\n"


def meson_cross_file(toolchain: Toolchain, environment: dict[str, str], sysroot: Path | None) -> str:
    isa = toolchain.isa

    def array(values: list[str]) -> str:
        return "[" + ", ".join(meson_quote(v) for v in values) + "]"

    def words(value: str) -> list[str]:
        return shlex.split(value)

    binaries = {key: environment[var] for key, var in
                (("c", "CC"), ("cpp", "CXX"), ("ar", "AR"), ("ranlib", "RANLIB"), ("strip", "STRIP"), ("nm", "NM"),
                 ("objcopy", "OBJCOPY"))}  # fmt: skip
    lines = [f"# musltool: {toolchain.describe()} for {isa.name} (invoke toolchain.env --format meson)", "[binaries]"]
    if sysroot is not None:  # without a sysroot, pkg-config would find the build machine's libraries
        binaries["pkg-config"] = "pkg-config"
    lines += [f"{key} = {meson_quote(value)}" for key, value in binaries.items()]
    lines.append(f"exe_wrapper = {array(emulator(isa))}")
    # The compile flags join the link's too, as make's link rules and CMake's do: zig picks the
    # libc it links by the link's -O, and without one compiles a debug libc for the project.
    c_flags, cxx_flags, ld_flags = (words(environment[v]) for v in ("CFLAGS", "CXXFLAGS", "LDFLAGS"))
    lines += ["", "[built-in options]", f"c_args = {array(c_flags)}", f"cpp_args = {array(cxx_flags)}",
              f"c_link_args = {array(c_flags + ld_flags)}", f"cpp_link_args = {array(cxx_flags + ld_flags)}",
              "default_library = 'static'", "prefer_static = true"]  # fmt: skip
    # without this Meson runs tests of the build machine's own ISA directly, not on the oldest CPU
    lines += ["", "[properties]", "needs_exe_wrapper = true"]
    if sysroot is not None:  # dependency() asks pkg-config there, which prefixes the sysroot
        lines += [f"sys_root = {meson_quote(str(sysroot))}",
                  f"pkg_config_libdir = {array([pkg_config_env(sysroot)['PKG_CONFIG_LIBDIR']])}"]  # fmt: skip
    lines += ["", "[host_machine]", "system = 'linux'", f"cpu_family = '{isa.meson_cpu_family}'",
              f"cpu = '{isa.uname_machine}'", f"endian = '{'little' if isa.little_endian else 'big'}'"]  # fmt: skip
    return "\n".join(lines) + "\n"


def meson_quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def render_environment(toolchain: Toolchain, form: str, sysroot: Path | None = None) -> str:
    """The environment as `form`; with a sysroot of libraries (toolchain.env --libs), what
    finds them: -I/-L and pkg-config's paths, CMAKE_FIND_ROOT_PATH, Meson's sys_root."""
    environment = toolchain.env(base={})
    if form == "cmake":
        return cmake_toolchain_file(toolchain, environment, sysroot)
    if form == "meson":
        return meson_cross_file(toolchain, environment, sysroot)
    selected = {key: environment[key] for key in ENV_KEYS}
    if sysroot is not None:
        selected.update(sysroot_env(sysroot, environment))
    if form == "json":
        return json.dumps(selected, indent=2, sort_keys=True) + "\n"
    if form == "fish":
        return "".join(f"set -gx {key} {fish_quote(value)}\n" for key, value in selected.items())
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in selected.items())
