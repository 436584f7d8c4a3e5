"""Firmware release bundles: per ISA, one reproducible tar.gz holding the kernel, the
initramfs, the ext4 image, run-qemu.sh (the exact qemu command that booted them) and their
checksums; SHA256SUMS and a manifest over the bundles, as `package` writes for binaries.

Only proven firmware is bundled: images whose boot passed, with this kernel (the boot report
in dist/<isa>/boot.json names the images' and the kernel's sha256). The boot's timings and
transcript stay out of the bundle, so the same inputs give the same bundle bytes.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

from musltool import __version__
from musltool.attest import SigningKey
from musltool.catalog import load_recipe
from musltool.dist import SUMS, Dist
from musltool.files import sha256_bytes
from musltool.filetree import Tree, tar_bytes
from musltool.firmware.boot import qemu_command
from musltool.firmware.bootreport import BootReport
from musltool.firmware.kernels import Kernel
from musltool.firmware.tree import SYSTEM_RECIPE, FirmwareImages
from musltool.package import Evidence, evidence_files, gzip_bytes, json_bytes
from musltool.sbom import Artifact, Part

MANIFEST = "busybox-firmware.manifest.json"
RUN_SCRIPT = "run-qemu.sh"


@dataclass(frozen=True)
class Bundle:
    images: FirmwareImages
    kernel: Kernel
    path: Path
    sha256: str
    boot: BootReport


def bundle_name(images: FirmwareImages) -> str:
    return f"busybox-{images.busybox.version}-{images.isa.name}-firmware"


def run_script(images: FirmwareImages, kernel_name: str) -> str:
    command = qemu_command(
        images.isa, Path(kernel_name), Path(images.initramfs.name), Path(images.disk.name)
    )
    return (
        "#!/bin/sh\n"
        f"# Boots this firmware on {images.isa.name}'s oldest CPU model, as musltool's boot did.\n"
        "# Log in as root (no password) on this console; `poweroff` ends it. Extra qemu\n"
        "# arguments pass through (e.g. -nic user).\n"
        'cd "$(dirname "$0")" || exit 1\n'
        f'exec {shlex.join(command)} "$@"\n'
    )


def make_bundle(images: FirmwareImages, kernel: Kernel) -> tuple[str, bytes]:
    name = bundle_name(images)
    kernel_name = kernel.path.name
    files = {
        kernel_name: kernel.path.read_bytes(),
        images.initramfs.name: images.initramfs.read_bytes(),
        images.disk.name: images.disk.read_bytes(),
        RUN_SCRIPT: run_script(images, kernel_name).encode(),
    }
    files[SUMS] = "".join(
        f"{sha256_bytes(data)}  {n}\n" for n, data in sorted(files.items())
    ).encode()
    tree = Tree()
    tree.add_dir(name)
    for file_name, data in sorted(files.items()):
        tree.add_file(f"{name}/{file_name}", data, 0o755 if file_name == RUN_SCRIPT else 0o644)
    return f"{name}.tar.gz", gzip_bytes(tar_bytes(tree))


def write_bundles(
    proven: list[tuple[FirmwareImages, Kernel, BootReport]], dist: Path, key: SigningKey | None = None
) -> list[Bundle]:
    """A bundle per proven (images, kernel, boot report), then SHA256SUMS and the manifest."""
    bundles = []
    files: dict[str, tuple[bytes, int]] = {}
    for images, kernel, boot in proven:
        file_name, data = make_bundle(images, kernel)
        files[file_name] = (data, 0o644)
        bundle = Bundle(images, kernel, dist / file_name, sha256_bytes(data), boot)
        files |= {name: (json_bytes(document), 0o644) for name, document in bundle_evidence(bundle, key).items()}
        bundles.append(bundle)
    manifest = {
        "musltool": __version__,
        "isas": {
            b.images.isa.name: {
                "bundle": b.path.name,
                "bundle_sha256": b.sha256,
                "busybox_version": b.images.busybox.version,
                "busybox_sha256": b.images.busybox.sha256,
                "kernel": {
                    "file": b.kernel.path.name,
                    "sha256": b.kernel.sha256,
                    **_portable(b.kernel.source),
                },
                "images": b.images.sha256,
                "boot": b.boot.summary(),
            }
            for b in bundles
        },
    }
    files[MANIFEST] = ((json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(), 0o644)
    output = Dist(dist)
    files[SUMS] = (output.merged_sums({name: sha256_bytes(data) for name, (data, _) in files.items()}), 0o644)
    output.install(files)
    return bundles


def bundle_evidence(bundle: Bundle, key: SigningKey | None) -> dict[str, dict]:
    """The bundle's SBOM (BusyBox, its musl and source, and the kernel), VEX document and, with
    a key, its signed statements (the test result carries the boot)."""
    source = _portable(bundle.kernel.source)
    kernel = Part(source.get("package", bundle.kernel.path.name), source.get("version", "NOASSERTION"),
                  bundle.kernel.sha256, "GPL-2.0-only",
                  "the Linux kernel this firmware was booted with: " + ", ".join(f"{k} {v}" for k, v in sorted(source.items())))  # fmt: skip
    said = Evidence(bundle.path.name.removesuffix(".tar.gz"), Artifact(bundle.path.name, bundle.sha256, "FIRMWARE"),
                    key, json.loads(bundle.boot.to_json()), (kernel,))  # fmt: skip
    found = evidence_files(said, bundle.images.busybox, load_recipe(SYSTEM_RECIPE))
    return {e["name"]: e["document"] for e in found.values()}


def _portable(source: dict[str, str]) -> dict[str, str]:
    """Where the kernel came from, without this machine's paths (a --kernel file's folder)."""
    return {k: v for k, v in source.items() if k != "file"}
