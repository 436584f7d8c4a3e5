"""musltool as users install it: a wheel in a fresh virtual environment, run from an empty
folder, with the recipes and toolchain manifests it carries inside."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

from tests.integration.conftest import ROOT


def test_the_wheel_builds_hello_from_an_empty_folder(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, ROOT],
                   check=True, capture_output=True)  # fmt: skip
    (wheel,) = wheels.glob("musltool-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for packaged in ("musltool/builtin_recipes/busybox/suite.sh", "musltool/builtin_toolchains/zig.toml",
                     "musltool/toolchain/driver.c", "musltool/helper.c", "musltool/isas.toml",
                     "musltool/emulators.toml", "musltool/firmware/kernels.toml",
                     "musltool/builtin_toolchains/cves/musl.toml", "musltool/builtin_recipes/busybox/cves.toml"):  # fmt: skip
        assert packaged in names
    venv = tmp_path / "venv"
    # System site packages give the dependencies (ziglang, invoke ...) without a download;
    # musltool itself comes from the wheel, which the venv puts first.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv], check=True)
    subprocess.run([venv / "bin" / "pip", "install", "-q", "--no-deps", wheel], check=True, capture_output=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run([venv / "bin" / "python", "-c", "import musltool; print(musltool.__file__)"],
                           cwd=empty, capture_output=True, text=True, check=True)  # fmt: skip
    assert where.stdout.startswith(str(venv))
    proc = subprocess.run([venv / "bin" / "musltool", "build", "--arch", "riscv64"],
                          cwd=empty, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads((empty / "dist" / "riscv64" / "hello.json").read_text())
    assert report["verification"]["passed"]
    listing = subprocess.run([venv / "bin" / "musltool", "--list"], cwd=empty, capture_output=True, text=True)
    assert "toolchain.env" in listing.stdout and "build" in listing.stdout
    # the CVE review ships too: the wheel's package says musl's iconv fix is there
    packaged = subprocess.run([venv / "bin" / "musltool", "package", "--arch", "riscv64", "--no-build"],
                              cwd=empty, capture_output=True, text=True)  # fmt: skip
    assert packaged.returncode == 0, packaged.stderr
    assert "CVE-2025-26519 musl: fixed on riscv64" in packaged.stdout
