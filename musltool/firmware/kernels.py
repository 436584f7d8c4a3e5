"""Kernels to boot images with: Debian's kernel packages, pinned in kernels.toml (beside this).

A private apt root per Debian architecture lives in musltool's cache. Its only source is the
Debian mirror this machine's apt already uses (its URI, with the pinned suite), so nothing
about the host's apt configuration or state changes. `apt-get download` fetches the pinned
package version; its sha256 must equal the pin; only the kernel image is kept.
"""

from __future__ import annotations

import io
import json
import lzma
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.elffile import ELFFile
from filelock import FileLock

from musltool import settings
from musltool.cache import cache_dir
from musltool.debian import KEYRING, AptRoot, deb_files
from musltool.errors import DownloadError, MissingToolError, UsageError
from musltool.files import atomic_write_bytes, read_regular, sha256_bytes, sha256_file
from musltool.isa import Isa
from musltool.process import log, which

MANIFEST = "kernels.toml"


@dataclass(frozen=True)
class KernelPin:
    isa: str
    debian_arch: str
    package: str
    version: str
    sha256: str
    image: str  # the kernel image's path inside the package
    suite: str
    modules: tuple[str, ...] = ()  # loaded by the boot suite; their dependencies come too


@dataclass(frozen=True)
class Kernel:
    """A kernel image ready to boot, where it came from, and its modules folder if any
    (lib/modules/<release>/ with uncompressed .ko files, for the image to carry)."""

    path: Path
    sha256: str
    source: dict[str, str]
    modules: Path | None = None
    release: str = ""
    module_names: tuple[str, ...] = field(default=())


def pins() -> dict[str, KernelPin]:
    data = tomllib.loads(Path(__file__).with_name(MANIFEST).read_text())
    return {
        isa: KernelPin(
            isa=isa,
            debian_arch=entry["debian_arch"],
            package=entry["package"],
            version=entry.get("version", data["version"]),
            sha256=entry["sha256"],
            image=entry["image"],
            suite=entry.get("suite", data["suite"]),
            modules=tuple(data.get("modules", [])),
        )
        for entry in data["kernel"]
        for isa in entry.get("isas", [entry.get("isa")])  # one kernel may boot several rows
    }


def kernel_dir(pin: KernelPin) -> Path:
    return cache_dir() / "kernels" / f"{pin.package}_{pin.version}"


def fetch_kernel(isa: Isa) -> Kernel:
    """The pinned Debian kernel image for `isa` and its chosen modules (fetched once)."""
    pin = pins().get(isa.name)
    if pin is None:
        raise UsageError(f"no kernel is pinned for {isa.name} in musltool/firmware/{MANIFEST}")
    folder = kernel_dir(pin)
    marker = folder / "kernel.json"
    if not _cached(marker, pin):
        if settings.offline():
            raise DownloadError(f"kernel {pin.package} is not cached and MUSLTOOL_OFFLINE is set")
        if which("apt-get") is None or which("dpkg-deb") is None or not KEYRING.is_file():
            raise MissingToolError("fetching Debian's kernels needs apt-get, dpkg-deb and debian-archive-keyring")
        folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder) + ".lock"):
            if not _cached(marker, pin):
                _fetch(pin, folder, marker)
    facts = json.loads(marker.read_text())
    image = folder / facts["image"]
    source = {"package": pin.package, "version": pin.version, "deb_sha256": pin.sha256, "suite": pin.suite}
    return Kernel(image, sha256_file(image), source, folder / "modules", facts["release"], tuple(facts["modules"]))


def _cached(marker: Path, pin: KernelPin) -> bool:
    """Whether the cache holds this pin's kernel with the modules the manifest asks for now
    (a manifest that names more modules makes the cached kernel stale)."""
    if not marker.is_file():
        return False
    return json.loads(marker.read_text()).get("wanted") == sorted(pin.modules)


def _fetch(pin: KernelPin, folder: Path, marker: Path) -> None:
    apt = AptRoot(pin.debian_arch, pin.suite)
    download = folder / "download"
    shutil.rmtree(download, ignore_errors=True)
    download.mkdir()
    try:
        log(f"fetching kernel {pin.package} {pin.version} ({pin.debian_arch}) with apt")
        with apt.locked():
            apt.update()
            try:
                deb = apt.download(pin.package, pin.version, download)
            except DownloadError as exc:
                raise DownloadError(
                    f"{pin.package}={pin.version} is not in the configured Debian source any more: "
                    f"pin a version it has in musltool/firmware/{MANIFEST} ({exc})"
                ) from exc
        got = sha256_file(deb)
        if got != pin.sha256:
            raise DownloadError(f"{deb.name}: sha256 {got}, pinned {pin.sha256}: not used")
        image, compressed = _unpack(deb, pin.image)
        release, modules = _modules_with_dependencies(compressed, pin.modules)
        shutil.rmtree(folder / "modules", ignore_errors=True)
        for path, data in modules.items():
            atomic_write_bytes(folder / "modules" / path, data)
        atomic_write_bytes(folder / Path(pin.image).name, image)
        facts = {"image": Path(pin.image).name, "release": release, "modules": sorted(modules),
                 "wanted": sorted(pin.modules)}
        marker.write_text(json.dumps(facts, indent=2) + "\n")
    finally:
        shutil.rmtree(download, ignore_errors=True)


MODULE_PATH = re.compile(r"^(?:\./)?(?:usr/)?lib/modules/([^/]+)/(kernel/.+\.ko)(\.xz)?$")


def _unpack(deb: Path, image_name: str) -> tuple[bytes, dict[str, tuple[str, str, bytes, bool]]]:
    """The kernel image, and every module as name -> (release, path, bytes, xz-compressed)."""
    files = deb_files(deb, lambda name: name == image_name or bool(MODULE_PATH.match(name)))
    image = files.pop(image_name, b"")
    if not image:
        raise DownloadError(f"{deb.name} holds no {image_name}")
    modules: dict[str, tuple[str, str, bytes, bool]] = {}
    for name, data in files.items():
        match = MODULE_PATH.match(name)
        assert match is not None
        release, path, xz = match.groups()
        modules[Path(path).name.removesuffix(".ko")] = (release, path, data, bool(xz))
    return image, modules


def _depends(module: bytes) -> list[str]:
    info = ELFFile(io.BytesIO(module)).get_section_by_name(".modinfo")
    for field_ in info.data().split(b"\0") if info else []:
        if field_.startswith(b"depends="):
            return [d for d in field_[8:].decode().split(",") if d]
    return []


def _modules_with_dependencies(
    all_modules: dict[str, tuple[str, str, bytes, bool]], wanted: tuple[str, ...]
) -> tuple[str, dict[str, bytes]]:
    """release, and path under lib/modules/<release>/ -> module, for `wanted` and their deps."""
    chosen: dict[str, bytes] = {}
    release = ""
    todo = list(wanted)
    while todo:
        name = todo.pop()
        key = name.replace("-", "_")
        found = all_modules.get(name) or all_modules.get(key)
        if found is None:
            raise DownloadError(f"the kernel package has no module {name}")
        release, path, data, compressed = found
        if f"{release}/{path}" in chosen:
            continue
        data = lzma.decompress(data) if compressed else data
        chosen[f"{release}/{path}"] = data
        todo += _depends(data)
    return release, chosen


def user_kernel(path: str, isa: Isa | None = None) -> Kernel:
    """The user's kernel image; with `isa`, refused at once unless it is a kernel image for it
    (a garbage or foreign kernel would leave qemu silent until the login limit)."""
    kernel = Path(path).expanduser()
    if not kernel.is_file():
        raise UsageError(f"--kernel {path}: not found")
    data = read_regular(kernel)
    if isa is not None and kernel_format(data, isa) is None:
        known = ", ".join(name for name, _, _ in isa.kernel_formats)
        raise UsageError(f"--kernel {path} is not a kernel image qemu-system boots for {isa.name} "
                         f"(looked for: {known}, or an ELF vmlinux for {isa.elf_machine})")  # fmt: skip
    return Kernel(kernel.resolve(), sha256_bytes(data), {"file": str(kernel.resolve())})


def kernel_format(image: bytes, isa: Isa) -> str | None:
    """Which of the ISA's kernel formats the image is, or None."""
    for name, offset, magic in isa.kernel_formats:
        if image[offset : offset + len(magic)] == magic:
            return name
    if image[:4] == b"\x7fELF":
        try:
            elf = ELFFile(io.BytesIO(image))
        except Exception:
            return None
        fits = (elf.header["e_machine"], elf.elfclass, elf.little_endian) == (isa.elf_machine, isa.elf_class, isa.little_endian)
        return "ELF vmlinux" if fits else None
    return None

