"""Local docker images made from files, with no registry and no Dockerfile.

An image is written as a `docker load` archive: one reproducible layer tar, a config that
carries the ISA's platform (os/architecture/variant) and a manifest. The same files always
give the same image id.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from musltool.errors import MissingToolError
from musltool.isa import Isa
from musltool.settings import source_date_epoch
from musltool.util import run, sha256_bytes

DOCKER_TIMEOUT = 60


@dataclass(frozen=True)
class Entry:
    """One file, folder or symlink in an image or a root filesystem."""

    path: str  # without a leading slash
    data: bytes = b""
    mode: int = 0o644
    kind: str = "file"  # file | dir | symlink
    target: str = ""  # for symlinks


@dataclass
class Tree:
    entries: list[Entry] = field(default_factory=list)

    def add_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        self.entries.append(Entry(path.lstrip("/"), data, mode))

    def add_dir(self, path: str, mode: int = 0o755) -> None:
        self.entries.append(Entry(path.lstrip("/"), mode=mode, kind="dir"))

    def add_symlink(self, path: str, target: str) -> None:
        self.entries.append(Entry(path.lstrip("/"), mode=0o777, kind="symlink", target=target))


def tar_bytes(tree: Tree, mtime: int | None = None) -> bytes:
    """A reproducible tar: sorted entries, fixed mtime, uid/gid 0, no user names."""
    stamp = source_date_epoch() if mtime is None else mtime
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(tree.entries, key=lambda e: e.path):
            info = tarfile.TarInfo(entry.path)
            info.mode, info.mtime, info.uid, info.gid = entry.mode, stamp, 0, 0
            info.uname = info.gname = ""
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif entry.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, entry.target
                tar.addfile(info)
            else:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
    return buffer.getvalue()


def materialize(tree: Tree, root: Path) -> None:
    """Write the tree's entries below `root` (the qemu runner's stand-in for an image)."""
    for entry in sorted(tree.entries, key=lambda e: e.path):
        path = root / entry.path
        path.parent.mkdir(parents=True, exist_ok=True)
        if entry.kind == "dir":
            path.mkdir(exist_ok=True)
            path.chmod(entry.mode)
        elif entry.kind == "symlink":
            path.symlink_to(entry.target)
        else:
            path.write_bytes(entry.data)
            path.chmod(entry.mode)


def image_archive(layer: bytes, isa: Isa, tag: str, entrypoint: list[str]) -> bytes:
    """A `docker load` archive holding one layer, with the ISA's platform in its config."""
    os_, arch, variant = isa.docker_os_arch_variant
    config: dict[str, object] = {
        "architecture": arch,
        "os": os_,
        "config": {"Entrypoint": entrypoint, "Env": ["PATH=/bin:/sbin:/usr/bin:/usr/sbin"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{sha256_bytes(layer)}"]},
        "history": [{"created_by": "musltool"}],
    }
    if variant:
        config["variant"] = variant
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = f"{sha256_bytes(config_bytes)}.json"
    layer_name = f"{sha256_bytes(layer)}/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": [layer_name]}]
    archive = Tree()
    archive.add_file(config_name, config_bytes)
    archive.add_file(layer_name, layer)
    archive.add_file("manifest.json", json.dumps(manifest).encode())
    return tar_bytes(archive)


def docker_available() -> tuple[bool, str]:
    """Whether the docker daemon answers, and the server version or why not."""
    try:
        proc = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except FileNotFoundError:
        return False, "docker client not installed"
    except subprocess.TimeoutExpired:
        return False, "docker daemon did not answer in 15s"
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["daemon not reachable"])[-1]
        return False, reason
    return True, proc.stdout.strip()


def require_docker() -> None:
    ok, detail = docker_available()
    if not ok:
        raise MissingToolError(
            f"docker daemon not available ({detail}); start it (invoke setup) or use --runner qemu"
        )


def load_image(tree: Tree, isa: Isa, tag: str, entrypoint: list[str]) -> None:
    archive = image_archive(tar_bytes(tree), isa, tag, entrypoint)
    proc = subprocess.run(
        ["docker", "load"], input=archive, capture_output=True, timeout=DOCKER_TIMEOUT, check=False
    )
    if proc.returncode != 0:
        raise MissingToolError(f"docker load failed: {proc.stderr.decode().strip()}")


def remove_image(tag: str) -> None:
    subprocess.run(
        ["docker", "image", "rm", "--force", tag],
        capture_output=True,
        timeout=DOCKER_TIMEOUT,
        check=False,
    )


def image_size(tag: str) -> int:
    proc = run(["docker", "image", "inspect", "--format", "{{.Size}}", tag], what="docker inspect")
    return int(proc.stdout.strip())


@contextlib.contextmanager
def temporary_image(tree: Tree, isa: Isa, tag: str, entrypoint: list[str]) -> Iterator[str]:
    """A local image that exists for the block only."""
    load_image(tree, isa, tag, entrypoint)
    try:
        yield tag
    finally:
        remove_image(tag)
