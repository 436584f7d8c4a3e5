"""Firmware tasks: `rootfs`, `image`, `boot`, `firmware` (the system build as a root filesystem,
a docker image, firmware booted under qemu-system, and release bundles)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from invoke import task

from musltool import settings
from musltool.attest import SigningKey
from musltool.cli import ARCH_HELP, SIGN_KEY_HELP, one_line_errors, split_list
from musltool.errors import UsageError
from musltool.firmware.boot import boot as boot_machine
from musltool.firmware.boot import proven_boot, record
from musltool.firmware.bundle import MANIFEST, write_bundles
from musltool.firmware.kernels import Kernel, fetch_kernel, user_kernel
from musltool.firmware.tree import build_images
from musltool.isa import ISAS, SPECIAL_SPECS, Isa, resolve_isas
from musltool.registry import PushError


@task(help={"arch": ARCH_HELP, "dist": "folder holding the BusyBox builds"})
@one_line_errors
def rootfs(c, arch="aarch64", dist="dist"):
    """A reproducible root filesystem tar from a verified BusyBox build (links, /etc, /tmp ...)."""
    from musltool.firmware.rootfs import build_rootfs

    settings.source_date_epoch()
    for isa in resolve_isas(arch):
        fs = build_rootfs(Path(dist), isa)
        print(f"{isa.name}: {fs.path} ({fs.path.stat().st_size} bytes, {fs.applets} applet links)")


@task(
    help={
        "arch": ARCH_HELP,
        "dist": "folder holding the verified builds; the OCI layout goes to dist/oci/<recipe>-<version>/",
        "recipe": "the verified build to make images of (default busybox: its root filesystem)",
        "base": "what a recipe's image starts from: scratch (default) or busybox (the BusyBox image)",
        "push": "also push the index to a registry: HOST[:PORT]/NAME:TAG (credentials: docker login, "
        "or MUSLTOOL_REGISTRY_CREDENTIALS=USER:PASSWORD)",
        "sign_key": SIGN_KEY_HELP,
    }
)
@one_line_errors
def image(c, arch="aarch64", dist="dist", recipe="busybox", base="scratch", push="", sign_key=""):
    """Container images of a verified build: one per ISA, and an OCI layout with their index.

    Each ISA's image is loaded into the local docker and checked by running it under qemu
    (BusyBox: a shell script; other recipes: their first verification run). The OCI image
    layout in dist/oci/ holds one manifest per ISA under an image index (bit-reproducible);
    --push sends that index to a registry and reads it back.
    """
    from musltool.firmware.containers import make_images
    from musltool.registry import Destination
    from musltool.registry import push as push_index

    settings.source_date_epoch()
    destination = Destination.parse(push) if push else None
    key = SigningKey.load(Path(sign_key)) if sign_key else None
    images = make_images(Path(dist), resolve_isas(arch), recipe, base, key)
    for image in images.layout.images:
        name = image.isa.name
        print(f"{name}: {images.tags[name]} {image.layer.descriptor()['size']} bytes compressed "
              f"({image.uncompressed_layer_size} as a tar), {images.checked[name]}")
    print(f"OCI layout: {images.folder} (index {images.layout.digest}, tag {images.layout.ref})")
    if destination is not None:
        digest = push_index(images.folder, images.layout.ref, destination)
        if digest != images.layout.digest:
            raise PushError(f"{destination} holds {digest}, not the layout's index {images.layout.digest}")
        print(f"pushed: {destination}@{digest}")


FIRMWARE_HELP = {
    "arch": ARCH_HELP,
    "dist": "folder holding the verified BusyBox build (and --add builds); images and reports go to dist/<isa>/",
    "kernel": "boot your own kernel image instead of musltool's pinned Debian kernel (one ISA only)",
    "add": "verified builds in dist to put in /usr/bin too (comma list, e.g. hello)",
    "overlay": "a folder laid over the image's root last (your /etc files, scripts ...)",
}


def _firmware_inputs(arch: str, kernel: str) -> tuple[list[Isa], Callable[[Isa], Kernel]]:
    """The ISAs, and a function giving each ISA's kernel (all checked before any work)."""
    parts = [part.strip().lower() for part in arch.split(",") if part.strip()]
    named = resolve_isas(",".join(p for p in parts if p not in SPECIAL_SPECS)) if any(p not in SPECIAL_SPECS for p in parts) else []
    cannot = [isa.name for isa in named if not isa.qemu_system]
    if cannot:
        raise UsageError(f"{', '.join(cannot)} cannot boot here: no kernel and machine are in the ISA table for it")
    isas = [isa for isa in resolve_isas(arch) if isa.qemu_system]  # 'all' and the tiers: the rows that boot
    if not isas:
        raise UsageError(f"no ISA in {arch!r} boots here (rows with a kernel: {', '.join(i.name for i in ISAS if i.qemu_system)})")
    if kernel and len(isas) > 1:
        raise UsageError("--kernel boots one ISA: give --arch too")
    if kernel:
        user_kernel(kernel, isas[0])
    return isas, (lambda isa: user_kernel(kernel, isa) if kernel else fetch_kernel(isa))


@task(
    help={
        **FIRMWARE_HELP,
        "applet_suite": "also run the applet suite on the booted system (default yes)",
    }
)
@one_line_errors
def boot(c, arch="aarch64", dist="dist", kernel="", add="", overlay="", applet_suite=True):
    """Boot the verified BusyBox as firmware under qemu-system and prove the system works.

    Builds an initramfs and an ext4 image in dist/<isa>/, boots them with a pinned kernel on
    the ISA's oldest CPU model, logs in on the serial console, runs the boot suite (init,
    mounts, mdev, modules, loop devices, clock, network on lo, namespaces, the ext4 image) and
    the applet suite, powers off. Writes dist/<isa>/boot.txt (checks + transcript) and boot.json.
    """
    settings.source_date_epoch()
    isas, kernel_for = _firmware_inputs(arch, kernel)
    overlay_dir = Path(overlay) if overlay else None
    for isa in isas:
        chosen_kernel = kernel_for(isa)
        images = build_images(Path(dist), isa, split_list(add), overlay_dir, chosen_kernel)
        report = record(boot_machine(isa, chosen_kernel, images, applet_suite), Path(dist))
        print(f"{isa.name}: booted and proven -> {report} ({report.with_name('boot.txt')})")


@task(help={**FIRMWARE_HELP, "sign_key": SIGN_KEY_HELP})
@one_line_errors
def firmware(c, arch="all", dist="dist", kernel="", add="", overlay="", sign_key=""):
    """Firmware release bundles per ISA: kernel, initramfs, ext4 image, run-qemu.sh, checksums.

    The images are booted and proven first, unless dist/<isa>/boot.json already proves these
    very images with this kernel. Bundles go to dist/ with SHA256SUMS and
    busybox-firmware.manifest.json.
    """
    settings.source_date_epoch()
    isas, kernel_for = _firmware_inputs(arch, kernel)
    overlay_dir = Path(overlay) if overlay else None
    proven = []
    for isa in isas:
        chosen_kernel = kernel_for(isa)
        images = build_images(Path(dist), isa, split_list(add), overlay_dir, chosen_kernel)
        report = proven_boot(Path(dist), images, chosen_kernel)
        if report is None:
            record(boot_machine(isa, chosen_kernel, images), Path(dist))
            report = proven_boot(Path(dist), images, chosen_kernel)
            assert report is not None
        proven.append((images, chosen_kernel, report))
    for bundle in write_bundles(proven, Path(dist), SigningKey.load(Path(sign_key)) if sign_key else None):
        print(f"{bundle.images.isa.name}: {bundle.path} sha256 {bundle.sha256}")
    print(f"{Path(dist) / 'SHA256SUMS'}, {Path(dist) / MANIFEST}")

