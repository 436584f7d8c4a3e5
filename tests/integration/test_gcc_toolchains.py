"""GCC toolchain archives in the real Bootlin and musl.cc layouts, served on loopback.

The archives are made here; their tools delegate to musltool's zig toolchain so that builds
with the fetched toolchains really run for all four ISAs. The manifests keep the real upstream URLs:
the loopback server is a mirror.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest

from musltool.isa import TIERS
from musltool.toolchain import get_toolchain
from tests.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("gcc", "g++", "ar", "ranlib", "strip", "objcopy", "nm")
BOOTLIN_NAME = {
    "x86_64": "x86-64",
    "aarch64": "aarch64",
    "armv7": "armv7-eabihf",
    "riscv64": "riscv64-lp64d",
}
BOOTLIN_PREFIX = {
    "x86_64": "x86_64-buildroot-linux-musl",
    "aarch64": "aarch64-buildroot-linux-musl",
    "armv7": "arm-buildroot-linux-musleabihf",
    "riscv64": "riscv64-buildroot-linux-musl",
}
MUSLCC_TRIPLE = {
    "x86_64": "x86_64-linux-musl",
    "aarch64": "aarch64-linux-musl",
    "armv7": "armv7l-linux-musleabihf",
    "riscv64": "riscv64-linux-musl",
}
RELOCATION_CHECK = (
    'top=$(cd "$(dirname "$0")/.." && pwd)\n'
    '[ "$(cat "$top/share/buildroot/sdk-location")" = "$top" ] '
    '|| { echo "toolchain not relocated" >&2; exit 1; }\n'
)


def tool_script(isa, tool: str, check_relocation: bool, calls: Path | None = None) -> bytes:
    """A tool of the archive: it runs zig's, after noting its name in `calls` (if given)."""
    body = RELOCATION_CHECK if check_relocation else ""
    if calls is not None:
        body += f"echo {tool} >> {calls}\n"
    real = get_toolchain("zig", isa).tool(tool)
    return f'#!/bin/sh\n{body}exec {real} "$@"\n'.encode()


def muslcc_calls(folder: Path, isa_name: str) -> Path:
    return folder / f"muslcc-{isa_name}.calls"


def make_archive(path: Path, files: dict[str, tuple[bytes, int]], mode: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for name, (data, perm) in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), perm
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def bootlin_archive(isa, folder: Path, version: str) -> tuple[str, bytes, dict]:
    top = f"{BOOTLIN_NAME[isa.name]}--musl--{version}"
    prefix = BOOTLIN_PREFIX[isa.name]
    files = {f"{top}/bin/{prefix}-{t}": (tool_script(isa, t, True), 0o755) for t in TOOLS}
    files[f"{top}/share/buildroot/sdk-location"] = (b"/builds/toolchains-builder/output\n", 0o644)
    files[f"{top}/relocate-sdk.sh"] = (
        b'#!/bin/sh\ncd "$(dirname "$0")"\npwd > share/buildroot/sdk-location\n',
        0o755,
    )
    name = f"{top}.tar.xz"
    data = make_archive(folder / name, files, "w:xz")
    url = f"https://toolchains.bootlin.com/downloads/releases/toolchains/{BOOTLIN_NAME[isa.name]}/tarballs/{name}"
    return name, data, {"isa": isa.name, "host": "x86_64", "url": url, "top": top, "prefix": prefix}


def muslcc_archive(isa, folder: Path) -> tuple[str, bytes, dict]:
    triple = MUSLCC_TRIPLE[isa.name]
    top = f"{triple}-cross"
    calls = muslcc_calls(folder, isa.name)
    files = {f"{top}/bin/{triple}-{t}": (tool_script(isa, t, False, calls), 0o755) for t in TOOLS}
    files[f"{top}/{triple}/lib/libc.a"] = (b"!<arch>\n", 0o644)
    name = f"{top}.tgz"
    data = make_archive(folder / name, files, "w:gz")
    return (
        name,
        data,
        {
            "isa": isa.name,
            "host": "x86_64",
            "url": f"https://musl.cc/{name}",
            "top": top,
            "prefix": triple,
        },
    )


def manifest(name: str, version: str, entries: list[dict], relocate: str | None) -> str:
    lines = [f'name = "{name}"', f'version = "{version}"', 'gcc = "test"', 'musl = "test"']
    if relocate:
        lines.append(f'relocate = "{relocate}"')
    for entry in entries:
        lines.append("[[archive]]")
        lines += [f'{key} = "{value}"' for key, value in entry.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def toolchain_world(tmp_path_factory):
    """Archives on a loopback mirror and manifests that pin them (muslcc armv7 unpinned)."""
    folder = tmp_path_factory.mktemp("toolchains")
    version = f"test-{uuid.uuid4().hex[:8]}"  # a fresh cache folder in the shared test cache
    server = LoopbackServer()
    bootlin, muslcc = [], []
    for isa in TIERS["tier1"]:
        name, data, entry = bootlin_archive(isa, folder, version)
        server.files[name] = data
        bootlin.append(entry | {"sha256": hashlib.sha256(data).hexdigest()})
        name, data, entry = muslcc_archive(isa, folder)
        server.files[name] = data
        pinned = isa.name != "armv7"
        muslcc.append(entry | {"sha256": hashlib.sha256(data).hexdigest() if pinned else ""})
    manifests = folder / "manifests"
    manifests.mkdir()
    (manifests / "bootlin.toml").write_text(
        manifest("bootlin", version, bootlin, "relocate-sdk.sh")
    )
    (manifests / "muslcc.toml").write_text(manifest("muslcc", f"{version}-m", muslcc, None))
    with server:
        yield {
            "server": server,
            "env": {
                "MUSLTOOL_TOOLCHAINS_DIR": str(manifests),
                "MUSLTOOL_MIRRORS": server.url(),
            },
            "manifests": manifests,
            "folder": folder,
        }


def invoke(world, *args: str, cwd: Path):
    return subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(ROOT), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **world["env"]},
    )


def test_fetch_all_then_build_all_with_bootlin(toolchain_world, tmp_path):
    server = toolchain_world["server"]
    fetched = invoke(
        toolchain_world, "toolchain.fetch", "--arch", "tier1", "--toolchain", "bootlin", cwd=tmp_path
    )
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout.count("fetched") == 4
    gets = sum(server.gets.values())
    again = invoke(
        toolchain_world, "toolchain.fetch", "--arch", "tier1", "--toolchain", "bootlin", cwd=tmp_path
    )
    assert again.stdout.count("already cached") == 4
    assert sum(server.gets.values()) == gets  # a second fetch downloads nothing

    built = invoke(
        toolchain_world,
        "build",
        "--arch",
        "tier1",
        "--toolchain",
        "bootlin",
        "--runner",
        "docker",
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr
    for isa in TIERS["tier1"]:
        import json

        report = json.loads((tmp_path / "dist" / isa.name / "hello.json").read_text())
        assert report["verification"]["passed"]
        assert report["toolchain"]["distribution"] == "bootlin"
        assert report["toolchain"]["archive_sha256"]

    listing = invoke(toolchain_world, "toolchain.list", cwd=tmp_path)
    bootlin_rows = [line for line in listing.stdout.splitlines() if line.startswith("bootlin")]
    assert len(bootlin_rows) == 4 and all(" yes " in row for row in bootlin_rows)

    # README: toolchain.env --toolchain <gcc> gives CC, CXX, AR, RANLIB, NM a build system can use
    env = invoke(toolchain_world, "toolchain.env", "--arch", "aarch64", "--toolchain", "bootlin", cwd=tmp_path)
    assert env.returncode == 0, env.stderr
    for variable in ("CC", "CXX", "AR", "RANLIB", "NM"):
        assert f"export {variable}=" in env.stdout, variable
    (tmp_path / "twice.c").write_text("int twice(int x) { return 2 * x; }\n")
    (tmp_path / "main.c").write_text(
        '#include <stdio.h>\nint twice(int);\nint main(void){printf("%d\\n", twice(21));return 0;}\n'
    )
    script = env.stdout + (
        f"\ncd {tmp_path} && $CC $CFLAGS -c twice.c && $AR rc libtwice.a twice.o && $RANLIB libtwice.a"
        " && $NM libtwice.a | grep -q 'T twice' && $CC $CFLAGS -o answer main.c -L. -ltwice $LDFLAGS\n"
    )
    subprocess.run(["sh", "-c", script], check=True)
    out = subprocess.run(["qemu-aarch64-static", tmp_path / "answer"], capture_output=True, text=True)
    assert out.stdout == "42\n"


def test_unpinned_archive_needs_trust_said_out_loud(toolchain_world, tmp_path):
    refused = invoke(
        toolchain_world, "toolchain.fetch", "--arch", "armv7", "--toolchain", "muslcc", cwd=tmp_path
    )
    assert refused.returncode == 2
    assert "no pinned sha256" in refused.stderr and "Traceback" not in refused.stderr
    trusted = invoke(
        toolchain_world,
        "toolchain.fetch",
        "--arch",
        "armv7",
        "--toolchain",
        "muslcc",
        "--trust",
        cwd=tmp_path,
    )
    assert trusted.returncode == 0, trusted.stderr
    assert "TRUST ON FIRST USE" in trusted.stderr
    lock = (toolchain_world["manifests"] / "lock.toml").read_text()
    assert "https://musl.cc/armv7l-linux-musleabihf-cross.tgz" in lock
    built = invoke(
        toolchain_world, "build", "--arch", "armv7", "--toolchain", "muslcc", cwd=tmp_path
    )
    assert built.returncode == 0, built.stderr
    listing = invoke(toolchain_world, "toolchain.list", cwd=tmp_path)
    assert "recorded (first use)" in listing.stdout


def test_muslcc_builds_busybox_minimal(toolchain_world, tmp_path, mirror_url):
    world = {
        **toolchain_world,
        "env": {
            **toolchain_world["env"],
            "MUSLTOOL_MIRRORS": f"{toolchain_world['server'].url()} {mirror_url}",
        },
    }
    built = invoke(
        world,
        "build",
        "--recipe",
        "busybox",
        "--config",
        "minimal",
        "--arch",
        "aarch64",
        "--toolchain",
        "muslcc",
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr
    assert "built and verified" in built.stdout
    report = json.loads((tmp_path / "dist" / "aarch64" / "busybox.json").read_text())
    assert report["toolchain"].get("distribution") == "muslcc", report["toolchain"]
    calls = muslcc_calls(world["folder"], "aarch64").read_text().split()
    assert calls.count("gcc") >= 50 and "ar" in calls  # BusyBox compiled with musl.cc's tools


def test_wrong_pinned_hash_fails_and_leaves_the_cache_clean(toolchain_world, tmp_path):
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    text = (toolchain_world["manifests"] / "bootlin.toml").read_text()
    first_hash = text.split('sha256 = "')[1].split('"')[0]
    (manifests / "bootlin.toml").write_text(
        text.replace(first_hash, "0" * 64).replace('version = "test-', 'version = "bad-')
    )
    cache = tmp_path / "cache"
    world = {
        **toolchain_world,
        "env": {
            **toolchain_world["env"],
            "MUSLTOOL_TOOLCHAINS_DIR": str(manifests),
            "MUSLTOOL_CACHE": str(cache),
        },
    }
    failed = invoke(
        world, "toolchain.fetch", "--arch", "x86_64", "--toolchain", "bootlin", cwd=tmp_path
    )
    assert failed.returncode == 4
    assert failed.stderr.count("musltool: error:") == 1 and "sha256 mismatch" in failed.stderr
    leftovers = [p for p in (cache / "downloads").iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []
    assert not any((cache / "toolchains").rglob("*"))  # nothing extracted from a bad archive
