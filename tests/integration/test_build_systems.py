"""CMake and Meson projects built with the files `toolchain.env` writes, their own tests run
under emulation (ctest and meson test start the ISA's qemu-user through those files)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from musltool.elf import require_static_binary
from musltool.isa import TIERS, get_isa
from tests.integration.conftest import invoke
from tests.integration.helpers import OLDEST_USER_CPU, RELEASE_CMAKE, RELEASE_MESON

ISA_NAMES = [isa.name for isa in TIERS["tier1"]]

# C++ with threads, exceptions and iostream; `machine` compares uname's answer to its argument.
DEMO_CPP = """#include <atomic>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <sys/utsname.h>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
    std::string what = argc > 1 ? argv[1] : "";
    if (what == "threads") {
        std::atomic<long> sum{0};
        std::vector<std::thread> workers;
        for (int t = 0; t < 4; t++)
            workers.emplace_back([&sum, t] { for (int i = t; i < 100; i += 4) sum += i; });
        for (auto &w : workers) w.join();
        std::cout << "sum " << sum << std::endl;
        return sum == 4950 ? 0 : 1;
    }
    if (what == "exceptions") {
        try {
            throw std::runtime_error("boom");
        } catch (const std::exception &e) {
            std::cout << "caught " << e.what() << std::endl;
            return 0;
        }
    }
    if (what == "machine" && argc > 2) {
        struct utsname u;
        uname(&u);
        std::cout << u.machine << std::endl;
        return std::strcmp(u.machine, argv[2]) == 0 ? 0 : 1;
    }
    return 2;
}
"""
CMAKE_LISTS = """cmake_minimum_required(VERSION 3.16)
project(demo CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(Threads REQUIRED)
add_executable(demo demo.cpp)
target_link_libraries(demo Threads::Threads)
enable_testing()
add_test(NAME threads COMMAND demo threads)
set_tests_properties(threads PROPERTIES PASS_REGULAR_EXPRESSION "sum 4950")
add_test(NAME exceptions COMMAND demo exceptions)
set_tests_properties(exceptions PROPERTIES PASS_REGULAR_EXPRESSION "caught boom")
add_test(NAME machine COMMAND demo machine {machine})
"""
DEMO_C = """#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

int main(int argc, char **argv) {
    struct utsname u;
    uname(&u);
    printf("%s\\n", u.machine);
    return argc > 1 && strcmp(u.machine, argv[1]) == 0 ? 0 : 1;
}
"""
MESON_BUILD = """project('demo', 'c')
demo = executable('demo', 'demo.c')
test('machine', demo, args: ['{machine}'])
test('wrong machine fails', demo, args: ['no-such-machine'], should_fail: true)
"""


def run_steps(steps: list[list[str]], cwd: Path) -> str:
    """Each command must succeed; the last one's output is returned."""
    for step in steps:
        tool = shutil.which(step[0])
        assert tool, f"{step[0]} is needed (invoke setup installs it)"
        proc = subprocess.run([tool, *step[1:]], cwd=cwd, capture_output=True, text=True)
        assert proc.returncode == 0, f"{step[:2]}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    return proc.stdout


def project(tmp_path: Path, isa_name: str, form: str, files: dict[str, str]) -> tuple[Path, Path]:
    """The project's source folder and the toolchain file `toolchain.env` wrote for it."""
    source = tmp_path / "src"
    source.mkdir()
    for name, text in files.items():
        (source / name).write_text(text.replace("{machine}", get_isa(isa_name).uname_machine))
    out = tmp_path / f"{isa_name}.{form}"
    proc = invoke("toolchain.env", "--arch", isa_name, "--format", form, "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    return source, out


# Both projects on every tier-1 ISA, built as releases are (CMake's MinSizeRel, Meson's
# minsize: -Os, musltool's own optimisation): zig's libc and libc++ are then the ones every
# other build of the run uses. Without a build type both default to a debug build, for which
# zig compiles a libc (and libc++) of its own per ISA: minutes of CI for nothing more proven.
CMAKE_ISAS = MESON_ISAS = ISA_NAMES


@pytest.mark.parametrize("isa_name", CMAKE_ISAS)
def test_cmake_cpp_project_and_its_ctest_under_emulation(tmp_path, isa_name):
    source, chain = project(
        tmp_path, isa_name, "cmake", {"demo.cpp": DEMO_CPP, "CMakeLists.txt": CMAKE_LISTS}
    )
    build = tmp_path / "build"
    output = run_steps(
        [
            [
                "cmake",
                "-S",
                str(source),
                "-B",
                str(build),
                "-G",
                "Ninja",
                f"-DCMAKE_TOOLCHAIN_FILE={chain}",
                *RELEASE_CMAKE,
            ],
            ["cmake", "--build", str(build)],
            ["ctest", "--test-dir", str(build), "--output-on-failure"],
        ],
        tmp_path,
    )
    assert "100% tests passed, 0 tests failed out of 3" in output
    # the tests ran through the file's emulator on the oldest CPU (binfmt alone would run them too)
    qemu, cpu = OLDEST_USER_CPU[isa_name]
    assert f"{qemu}\" \"-cpu\" \"{cpu}" in (build / "CTestTestfile.cmake").read_text()
    require_static_binary(build / "demo", get_isa(isa_name))


@pytest.mark.parametrize("isa_name", MESON_ISAS)
def test_meson_project_and_its_tests_under_emulation(tmp_path, isa_name):
    source, cross = project(
        tmp_path, isa_name, "meson", {"demo.c": DEMO_C, "meson.build": MESON_BUILD}
    )
    build = tmp_path / "build"
    run_steps(
        [
            ["meson", "setup", str(build), str(source), "--cross-file", str(cross), *RELEASE_MESON],
            ["meson", "compile", "-C", str(build)],
            ["meson", "test", "-C", str(build), "--print-errorlogs"],
        ],
        tmp_path,
    )
    log = (build / "meson-logs" / "testlog.json").read_text().splitlines()
    entries = [json.loads(line) for line in log]
    results = {entry["name"]: entry["result"] for entry in entries}
    qemu, cpu = OLDEST_USER_CPU[isa_name]
    assert all(entry["command"][:3] == [qemu, "-cpu", cpu] for entry in entries)
    assert results == {"demo:machine": "OK", "demo:wrong machine fails": "EXPECTEDFAIL"}
    require_static_binary(build / "demo", get_isa(isa_name))
