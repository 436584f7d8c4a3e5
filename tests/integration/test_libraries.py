"""Library recipes and their dependents: bzip2, xz and lz4 built and checked by their own tests,
libarchive's bsdtar/bsdcpio built against them and doing real work under qemu on four ISAs,
what they make read back by other implementations (Python's lzma, bz2 and tarfile), `depends`
building first and once, and CMake finding the libraries through the generated file."""

from __future__ import annotations

import bz2
import io
import json
import lzma
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from musltool.build import prepare, work_dir
from musltool.catalog import load_recipe
from musltool.isa import get_isa
from tests.conftest import mirror_folder
from tests.integration.conftest import invoke
from tests.integration.helpers import RELEASE_CMAKE, RELEASE_MESON

LIBRARIES = {"bzip2": "1.0.8", "xz": "5.8.1", "lz4": "1.10.0"}
LZ4_FRAME_MAGIC = b"\x04\x22\x4d\x18"


def emulate(isa_name: str, program: Path, *args: str, cwd: Path, stdin: bytes = b"") -> bytes:
    """Run a built program under qemu-user on the ISA's oldest CPU, in a host folder."""
    isa = get_isa(isa_name)
    done = subprocess.run([isa.qemu_binary, "-cpu", isa.qemu_cpu, str(program), *args], cwd=cwd, input=stdin,
                          capture_output=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def newc_names(data: bytes) -> list[str]:
    """The member names of a cpio 'newc' archive, read by this parser, not by libarchive."""
    names, offset = [], 0
    while True:
        header = data[offset : offset + 110]
        assert header[:6] == b"070701", f"no newc header at {offset}"
        file_size, name_size = int(header[54:62], 16), int(header[94:102], 16)
        name = data[offset + 110 : offset + 110 + name_size - 1].decode()
        if name == "TRAILER!!!":
            return names
        names.append(name)
        offset = (offset + 110 + name_size + 3) & ~3
        offset = (offset + file_size + 3) & ~3


# The library chain and libarchive on x86_64 (native) and s390x (emulated, big-endian: it reads
# and writes what little-endian tools made): the CI budget keeps them off the other rows
# (README's CI time). Any row can be added here; `invoke build --recipe libarchive` builds all.
LIBRARY_ISAS = ["x86_64", "s390x"]


@pytest.fixture(params=LIBRARY_ISAS)
def isa_name(request) -> str:
    return request.param


def test_libarchive_is_built_against_its_three_libraries(shared, isa_name):
    folder = shared.dist("libarchive", isa_name) / isa_name
    report = json.loads((folder / "bsdtar.json").read_text())
    assert report["verification"]["passed"] and report["verification"]["counts"]["passed"] == 14
    assert all(check["ok"] for check in report["checks"])
    assert {c["name"] for c in report["checks"]} >= {"bsdcpio: machine", "bsdcpio: no-shared-libraries"}
    expected = []
    for name, version in LIBRARIES.items():
        source = load_recipe(name).versions[version]
        expected.append({"name": name, "version": version, "source": source.url, "sha256": source.sha256})
    assert report["dependencies"] == expected
    mirror = mirror_folder()
    if mirror is not None:  # the hashes are those of the tarballs on the mirror, too
        sums = dict(reversed(line.split()) for line in (mirror / "SHA256SUMS").read_text().splitlines())
        assert [sums[Path(d["source"]).name] for d in report["dependencies"]] == [d["sha256"] for d in expected]
    for name in LIBRARIES:
        library = json.loads((folder / f"{name}.json").read_text())
        upstream = [r for r in library["verification"]["results"] if r["source"] == "upstream"]
        assert library["verification"]["passed"]
        assert [r["status"] for r in upstream] == ["passed"], name
        assert any(path.startswith("usr/lib/lib") and path.endswith(".a") for path in library["details"]["installs"])


def test_the_libraries_own_test_programs_are_built_for_the_isa(shared, isa_name):
    """In the work folders of this very build's xz and lz4 (named by their inputs, not globbed
    from whatever earlier runs left in the cache)."""
    shared.dist("libarchive", isa_name)
    isa = get_isa(isa_name)
    builder = prepare(load_recipe("libarchive"), isa, shared.options("libarchive"))
    work = {dependency.recipe.name: work_dir(dependency) for dependency in builder.dependencies}
    programs = [work["xz"] / "src/tests/test_check", work["lz4"] / "src/tests/datagen"]
    for program in programs:
        assert program.is_file(), program
        with program.open("rb") as handle:
            assert ELFFile(handle)["e_machine"] == isa.elf_machine, program


def test_what_bsdtar_and_bsdcpio_make_is_read_by_other_implementations(shared, isa_name, tmp_path):
    folder = shared.dist("libarchive", isa_name) / isa_name
    (tmp_path / "d").mkdir()
    (tmp_path / "a.txt").write_text("alpha\n")
    (tmp_path / "d" / "b.txt").write_text("beta " * 1000)
    bsdtar, bsdcpio = folder / "bsdtar", folder / "bsdcpio"
    for flag, name in (("-J", "out.tar.xz"), ("-j", "out.tar.bz2"), ("--lz4", "out.tar.lz4")):
        emulate(isa_name, bsdtar, flag, "-cf", name, "a.txt", "d/b.txt", cwd=tmp_path)
    tar_from_xz = lzma.decompress((tmp_path / "out.tar.xz").read_bytes(), format=lzma.FORMAT_XZ)
    tar_from_bz2 = bz2.decompress((tmp_path / "out.tar.bz2").read_bytes())
    lz4_data = (tmp_path / "out.tar.lz4").read_bytes()
    assert lz4_data[:4] == LZ4_FRAME_MAGIC
    tar_from_lz4 = emulate(isa_name, folder / "lz4", "-dc", "out.tar.lz4", cwd=tmp_path)
    for tar in (tar_from_xz, tar_from_bz2, tar_from_lz4):
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            assert archive.getnames() == ["a.txt", "d/b.txt"]
            assert archive.extractfile("d/b.txt").read() == b"beta " * 1000
    emulate(isa_name, bsdcpio, "-o", "-H", "newc", "--quiet", "-O", "initramfs.cpio", cwd=tmp_path,
            stdin=b"a.txt\nd\nd/b.txt\n")  # fmt: skip
    assert newc_names((tmp_path / "initramfs.cpio").read_bytes()) == ["a.txt", "d", "d/b.txt"]
    # and the other way: the built xz and bzip2 read what Python's implementations wrote
    (tmp_path / "py.xz").write_bytes(lzma.compress(b"from python\n"))
    (tmp_path / "py.bz2").write_bytes(bz2.compress(b"from python\n"))
    assert emulate(isa_name, folder / "xz", "-dc", "py.xz", cwd=tmp_path) == b"from python\n"
    assert emulate(isa_name, folder / "bzip2", "-dc", "py.bz2", cwd=tmp_path) == b"from python\n"


PACKERS_C = r"""#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <string.h>

static char text[4096], packed[8192], unpacked[4096];

int main(void) {
    for (size_t i = 0; i < sizeof text; i++) text[i] = "musl static "[i % 12];
    unsigned int bz_packed = sizeof packed, bz_unpacked = sizeof unpacked;
    if (BZ2_bzBuffToBuffCompress(packed, &bz_packed, text, sizeof text, 9, 0, 0) != BZ_OK) return 1;
    if (BZ2_bzBuffToBuffDecompress(unpacked, &bz_unpacked, packed, bz_packed, 0, 0) != BZ_OK) return 2;
    if (bz_unpacked != sizeof text || memcmp(text, unpacked, sizeof text)) return 3;
    size_t xz_packed = 0, xz_in = 0, xz_out = 0;
    if (lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, (const uint8_t *)text, sizeof text,
                                (uint8_t *)packed, &xz_packed, sizeof packed) != LZMA_OK) return 4;
    uint64_t limit = UINT64_MAX;
    if (lzma_stream_buffer_decode(&limit, 0, NULL, (const uint8_t *)packed, &xz_in, xz_packed,
                                  (uint8_t *)unpacked, &xz_out, sizeof unpacked) != LZMA_OK) return 5;
    if (xz_out != sizeof text || memcmp(text, unpacked, sizeof text)) return 6;
    int lz_packed = LZ4_compress_default(text, packed, sizeof text, sizeof packed);
    if (LZ4_decompress_safe(packed, unpacked, lz_packed, sizeof unpacked) != (int)sizeof text) return 7;
    if (memcmp(text, unpacked, sizeof text)) return 8;
    printf("bzip2 %.5s xz %s lz4 %s: round trips ok (%u, %zu, %d bytes)\n", BZ2_bzlibVersion(),
           lzma_version_string(), LZ4_versionString(), bz_packed, xz_packed, lz_packed);
    return 0;
}
"""

PACKERS_CMAKE = """cmake_minimum_required(VERSION 3.16)
project(packers C)
find_package(BZip2 REQUIRED)
find_package(LibLZMA REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
add_executable(packers packers.c)
target_link_libraries(packers BZip2::BZip2 LibLZMA::LibLZMA PkgConfig::LZ4)
enable_testing()
add_test(NAME round-trips COMMAND packers)
set_tests_properties(round-trips PROPERTIES
    PASS_REGULAR_EXPRESSION "^bzip2 1.0.8 xz 5.8.1 lz4 1.10.0: round trips ok")
"""


def project_with_libraries(shared, isa_name: str, tmp_path: Path, build_file: tuple[str, str], form: str):
    """A project linking the three libraries, and the build-system file `toolchain.env --libs`
    wrote for it (the libraries' builds in the shared dist are current: nothing is rebuilt)."""
    dist = shared.dist("libarchive", isa_name)
    source = tmp_path / "src"
    source.mkdir()
    (source / "packers.c").write_text(PACKERS_C)
    (source / build_file[0]).write_text(build_file[1])
    written = tmp_path / f"toolchain.{form}"
    env = invoke("toolchain.env", "--arch", isa_name, "--libs", "bzip2,xz,lz4", "--dist", str(dist),
                 "--format", form, "--output", str(written))  # fmt: skip
    assert env.returncode == 0, env.stderr
    assert "nothing rebuilt" in env.stderr and "building" not in env.stderr
    return source, written


def run_all(*commands: list[str]) -> None:
    for cmd in commands:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_cmake_finds_the_libraries_in_the_sysroot_and_ctest_runs_under_emulation(shared, isa_name, tmp_path):
    source, toolchain_file = project_with_libraries(shared, isa_name, tmp_path, ("CMakeLists.txt", PACKERS_CMAKE), "cmake")
    sysroot = next(line for line in toolchain_file.read_text().splitlines() if "CMAKE_FIND_ROOT_PATH " in line)
    sysroot = sysroot.split('"')[1]
    build = tmp_path / "build"
    run_all(["cmake", "-S", str(source), "-B", str(build), f"-DCMAKE_TOOLCHAIN_FILE={toolchain_file}", *RELEASE_CMAKE],
            ["cmake", "--build", str(build)],
            ["ctest", "--test-dir", str(build), "--output-on-failure"])  # fmt: skip
    cache = (build / "CMakeCache.txt").read_text()
    for variable in ("BZIP2_LIBRARY_RELEASE", "LIBLZMA_LIBRARY_RELEASE", "pkgcfg_lib_LZ4_lz4"):
        line = next(line for line in cache.splitlines() if line.startswith(f"{variable}:"))
        assert line.split("=", 1)[1].startswith(f"{sysroot}/usr/lib/lib"), line
    with (build / "packers").open("rb") as handle:
        assert ELFFile(handle)["e_machine"] == get_isa(isa_name).elf_machine


LIBGREET = {
    "recipe.toml": '''name = "libgreet"
version = "1.0"
kind = "command"
binary = "greet-demo"
[build]
command = """
$CC $CFLAGS -c greet.c -o greet.o
$AR rcs libgreet.a greet.o
$CC $CFLAGS -o greet-demo demo.c libgreet.a $LDFLAGS
"""
output = "greet-demo"
check = './greet-demo | grep -x "hello from libgreet"'
check_shows = ["hello from libgreet"]
install = """
install -D -m 644 libgreet.a "$DESTDIR/usr/lib/libgreet.a"
install -D -m 644 greet.h "$DESTDIR/usr/include/greet.h"
install -D -m 644 greet.pc "$DESTDIR/usr/lib/pkgconfig/greet.pc"
"""
installs = ["usr/lib/libgreet.a", "usr/include/greet.h", "usr/lib/pkgconfig/greet.pc"]
[[verify]]
stdout = "hello from libgreet\\n"
''',
    "greet.h": "const char *greeting(void);\n",
    "greet.c": '#include "greet.h"\nconst char *greeting(void) { return "hello from libgreet"; }\n',
    "demo.c": '#include <stdio.h>\n#include "greet.h"\nint main(void) { puts(greeting()); return 0; }\n',
    "greet.pc": "prefix=/usr\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n\nName: greet\n"
    "Description: a greeting\nVersion: 1.0\nLibs: -L${libdir} -lgreet\nCflags: -I${includedir}\n",
}

GREETER = {
    "recipe.toml": '''name = "greeter"
version = "0.1"
kind = "command"
depends = ["libgreet"]
[build]
command = '$CC $CFLAGS $(pkg-config --cflags greet) -o greeter main.c $LDFLAGS $(pkg-config --libs greet)'
output = "greeter"
[[verify]]
stdout = "greeter says: hello from libgreet\\n"
''',
    "main.c": '#include <stdio.h>\n#include <greet.h>\n'
    'int main(void) { printf("greeter says: %s\\n", greeting()); return 0; }\n',
}


def write_recipes(root: Path, recipes: dict[str, dict[str, str]]) -> None:
    for name, contents in recipes.items():
        folder = root / "recipes" / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for file, text in contents.items():
            (folder / file).write_text(text)


def built(stderr: str) -> list[str]:
    return [line.split()[2] for line in stderr.splitlines() if line.startswith("musltool: building ")]


def test_depends_builds_the_library_first_once_and_names_it(tmp_path):
    write_recipes(tmp_path, {"libgreet": LIBGREET, "greeter": GREETER})
    first = invoke("build", "--recipe", "greeter", "--arch", "armv7", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert built(first.stderr) == ["libgreet", "greeter"]
    again = invoke("build", "--recipe", "greeter", "--arch", "armv7", cwd=tmp_path)
    assert again.returncode == 0 and built(again.stderr) == [], again.stderr
    report = json.loads((tmp_path / "dist" / "armv7" / "greeter.json").read_text())
    library = load_recipe(str(tmp_path / "recipes" / "libgreet"))
    assert report["dependencies"] == [
        {"name": "libgreet", "version": "1.0", "source": "recipe folder", "sha256": library.fingerprint()}
    ]
    # a change to the library rebuilds it and its dependent (its fingerprint holds the library's)
    (tmp_path / "recipes" / "libgreet" / "greet.c").write_text(LIBGREET["greet.c"] + "/* changed */\n")
    changed = invoke("build", "--recipe", "greeter", "--arch", "armv7", cwd=tmp_path)
    assert changed.returncode == 0 and built(changed.stderr) == ["libgreet", "greeter"], changed.stderr
    package = invoke("package", "--recipe", "greeter", "--arch", "armv7", "--no-build", cwd=tmp_path)
    assert package.returncode == 0, package.stderr
    manifest = json.loads((tmp_path / "dist" / "greeter.manifest.json").read_text())
    rebuilt = json.loads((tmp_path / "dist" / "armv7" / "greeter.json").read_text())
    assert rebuilt["dependencies"][0]["sha256"] != report["dependencies"][0]["sha256"]
    assert manifest["isas"]["armv7"]["dependencies"] == rebuilt["dependencies"]


@pytest.mark.parametrize(
    ("recipes", "target", "message"),
    [
        ({"a": {"depends": ["b"]}, "b": {"depends": ["a"]}}, "a", "dependency cycle: a -> b -> a"),
        ({"a": {"depends": ["nowhere"]}}, "a", "a: depends: unknown recipe 'nowhere'"),
        ({"a": {"depends": ["b"]}, "b": {"library": False}}, "a", "a: depends: b installs no library"),
    ],
)
def test_a_cycle_or_unknown_dependency_is_one_line_exit_2(tmp_path, recipes, target, message):
    texts = {}
    for name, spec in recipes.items():
        text = f'name = "{name}"\nversion = "1"\nkind = "command"\ndepends = {json.dumps(spec.get("depends", []))}\n'
        text += '[build]\ncommand = "true"\noutput = "x"\n'
        if spec.get("library", True):
            text += 'install = "true"\ninstalls = ["usr/lib/libx.a"]\n'
        texts[name] = {"recipe.toml": text + "[[verify]]\nargs = []\n"}
    write_recipes(tmp_path, texts)
    done = invoke("build", "--recipe", target, "--arch", "riscv64", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"musltool: error: {message}"), done.stderr
    assert not (tmp_path / "dist").exists()


PACKERS_MESON = """project('packers', 'c')
deps = [dependency('bzip2'), dependency('liblzma'), dependency('liblz4')]
test('round-trips', executable('packers', 'packers.c', dependencies: deps))
"""


# Meson checks each system library a pkg-config file names (liblzma.pc: -lpthread) by linking a
# test program at -O0, and zig compiles a debug libc for an unoptimised link: two minutes of CI
# per ISA. One row here, the emulated big-endian one; x86_64 keeps the CMake test (README).
MESON_ISAS = ["s390x"]


@pytest.mark.parametrize("isa_name", MESON_ISAS)
def test_meson_finds_the_libraries_through_the_sysroot_and_tests_under_emulation(shared, isa_name, tmp_path):
    source, cross = project_with_libraries(shared, isa_name, tmp_path, ("meson.build", PACKERS_MESON), "meson")
    build = tmp_path / "build"
    run_all(["meson", "setup", str(build), str(source), "--cross-file", str(cross), *RELEASE_MESON],
            ["meson", "compile", "-C", str(build)],
            ["meson", "test", "-C", str(build), "--print-errorlogs"])  # fmt: skip
    result = json.loads((build / "meson-logs" / "testlog.json").read_text().splitlines()[0])
    assert result["result"] == "OK"
    assert result["stdout"].startswith("bzip2 1.0.8 xz 5.8.1 lz4 1.10.0: round trips ok")
    assert get_isa(isa_name).qemu_cpu in " ".join(result["command"])


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (('grep -x "hello', 'grep -x "goodbye'), "failed with exit 1"),  # the check exits non-zero
        (('check_shows = ["hello', 'check_shows = ["goodbye'), "exit 0, but the log lacks 'goodbye"),
    ],
)
def test_a_failing_upstream_check_fails_the_library_and_its_dependent(tmp_path, change, why):
    broken = dict(LIBGREET)
    broken["recipe.toml"] = LIBGREET["recipe.toml"].replace(*change)
    write_recipes(tmp_path, {"libgreet": broken, "greeter": GREETER})
    done = invoke("build", "--recipe", "greeter", "--arch", "riscv64", cwd=tmp_path)
    assert done.returncode == 7, done.stderr
    assert "libgreet for riscv64 failed verification" in done.stderr
    assert "1 of 2 failed, first: upstream tests" in done.stderr and why in done.stderr
    assert built(done.stderr) == ["libgreet"]
    assert not list((tmp_path / "dist" / "riscv64").glob("*greet*"))
