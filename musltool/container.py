"""Local docker images made from files, and session containers, with no registry involved.

An image is written as a `docker load` archive: one reproducible layer tar, a config that
carries the ISA's platform (os/architecture/variant) and labels, and a manifest. The same files
always give the same image id. Everything temporary that musltool makes in docker (session
images and containers) carries the label `musltool.session`, is removed when the session ends,
even on Ctrl-C or SIGTERM, and can be listed and removed by label (`invoke doctor`, `clean`).
"""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from musltool.errors import MissingToolError
from musltool.isa import Isa
from musltool.settings import source_date_epoch
from musltool.util import Completed, call, sha256_bytes

DOCKER_TIMEOUT = 120
SESSION_LABEL = "musltool.session"
PRODUCT_LABEL = "musltool.image"


@dataclass(frozen=True)
class Entry:
    """One file, folder or symlink in an image or a root filesystem."""

    path: str  # without a leading slash
    data: bytes = b""
    mode: int = 0o644
    kind: str = "file"  # file | dir | symlink | chardev
    target: str = ""  # for symlinks
    rdev: tuple[int, int] = (0, 0)  # major, minor for device nodes


@dataclass
class Tree:
    entries: list[Entry] = field(default_factory=list)

    def add_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        self.entries.append(Entry(path.lstrip("/"), data, mode))

    def add_dir(self, path: str, mode: int = 0o755) -> None:
        self.entries.append(Entry(path.lstrip("/"), mode=mode, kind="dir"))

    def add_symlink(self, path: str, target: str) -> None:
        self.entries.append(Entry(path.lstrip("/"), mode=0o777, kind="symlink", target=target))

    def add_chardev(self, path: str, major: int, minor: int, mode: int = 0o600) -> None:
        self.entries.append(Entry(path.lstrip("/"), mode=mode, kind="chardev", rdev=(major, minor)))

    def without(self, *paths: str) -> Tree:
        return Tree([e for e in self.entries if e.path not in paths])


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
            elif entry.kind == "chardev":
                info.type = tarfile.CHRTYPE
                info.devmajor, info.devminor = entry.rdev
                tar.addfile(info)
            else:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
    return buffer.getvalue()


def materialize(tree: Tree, root: Path) -> None:
    """Write the tree's entries below `root` (the qemu runner's stand-in for an image);
    device nodes are left out."""
    for entry in sorted(tree.entries, key=lambda e: e.path):
        if entry.kind == "chardev":
            continue
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


def image_archive(
    layer: bytes, isa: Isa, tag: str, entrypoint: list[str], labels: Mapping[str, str]
) -> bytes:
    """A `docker load` archive holding one layer, with the ISA's platform in its config."""
    os_, arch, variant = isa.docker_os_arch_variant
    config: dict[str, object] = {
        "architecture": arch,
        "os": os_,
        "config": {
            "Entrypoint": entrypoint,
            "Env": ["PATH=/bin:/sbin:/usr/bin:/usr/sbin"],
            "Labels": dict(labels),
        },
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


def docker(
    *args: str, input: bytes | None = None, timeout: float = DOCKER_TIMEOUT, creates: bool = False
) -> Completed:
    """A docker CLI call. One that creates or removes an object (`creates`) is let finish when
    musltool is interrupted, so that the cleanup that follows finds what it made."""
    return call(["docker", *args], input=input, timeout=timeout, finish_on_interrupt=creates)


def docker_available() -> tuple[bool, str]:
    """Whether the docker daemon answers, and the server version or why not."""
    try:
        proc = docker("version", "--format", "{{.Server.Version}}", timeout=15)
    except MissingToolError:
        return False, "docker client not installed"
    if proc.timed_out:
        return False, "docker daemon did not answer in 15s"
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        return False, (lines or ["daemon not reachable"])[-1]
    return True, proc.stdout.decode().strip()


def require_docker() -> None:
    ok, detail = docker_available()
    if not ok:
        raise MissingToolError(
            f"docker daemon not available ({detail}); start it (invoke setup) or use --runner qemu"
        )


def load_image(
    tree: Tree, isa: Isa, tag: str, entrypoint: list[str], labels: Mapping[str, str]
) -> None:
    archive = image_archive(tar_bytes(tree), isa, tag, entrypoint, labels)
    proc = docker("load", input=archive, creates=True)
    if proc.returncode != 0:
        raise MissingToolError(f"docker load failed: {proc.stderr.decode().strip()}")


def remove_image(tag: str) -> None:
    docker("image", "rm", "--force", tag, creates=True)


def image_size(tag: str) -> int:
    proc = docker("image", "inspect", "--format", "{{.Size}}", tag)
    if proc.returncode != 0:
        raise MissingToolError(f"docker image inspect {tag} failed: {proc.stderr.decode().strip()}")
    return int(proc.stdout.strip())


def leftovers() -> tuple[list[str], list[str]]:
    """Containers and images of musltool sessions still present (names, tags or ids)."""
    label = f"label={SESSION_LABEL}"
    containers = docker("ps", "-a", "--filter", label, "--format", "{{.Names}}")
    images = docker("images", "--filter", label, "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
    names = containers.stdout.decode().split()
    tags = [line.split()[0] if not line.startswith("<none>") else line.split()[1]
            for line in images.stdout.decode().splitlines() if line.strip()]  # fmt: skip
    return names, tags


def remove_leftovers() -> tuple[list[str], list[str]]:
    names, tags = leftovers()
    if names:
        docker("rm", "--force", *names, creates=True)
    for tag in tags:
        remove_image(tag)
    return names, tags


class SessionContainer:
    """A container of a session image, running the helper as process 1, for `docker exec`
    runs; image and container are removed on exit, whatever ended the block.

        with SessionContainer(tree, isa, mounts) as container:
            container.exec([...])
    """

    def __init__(
        self,
        tree: Tree,
        isa: Isa,
        entrypoint: list[str],
        mounts: Sequence[tuple[Path, str]] = (),
        private: Sequence[str] = (),
    ) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.name = f"musltool-{self.id}"
        self.tag = f"musltool-verify/{isa.name}:{self.id}"
        self.tree = tree
        self.isa = isa
        self.entrypoint = entrypoint
        self.mounts = mounts
        self.private = private  # folders given as empty, writable tmpfs

    def __enter__(self) -> SessionContainer:
        labels = {SESSION_LABEL: self.id}
        try:
            load_image(self.tree, self.isa, self.tag, self.entrypoint, labels)
            volumes = [a for host, guest in self.mounts for a in ("-v", f"{host}:{guest}:ro")]
            volumes += [a for folder in self.private for a in ("--tmpfs", f"{folder}:rw,exec,mode=755")]
            proc = docker(
                "run", "--detach", "--name", self.name, "--label", f"{SESSION_LABEL}={self.id}",
                "--pull", "never", "--network", "none", "--read-only",
                "--tmpfs", "/tmp:rw,exec,mode=1777", "--platform", self.isa.docker_platform,
                # loopback with ::1 too (docker turns IPv6 off in a container by default)
                "--sysctl", "net.ipv6.conf.all.disable_ipv6=0",
                *volumes, self.tag,
                creates=True,
            )  # fmt: skip
            if proc.returncode != 0:
                raise MissingToolError(f"docker run failed: {proc.stderr.decode().strip()}")
        except BaseException:
            self.remove()
            raise
        return self

    def exec(
        self, argv: list[str], env: Mapping[str, str], stdin: bytes | None, timeout: float
    ) -> Completed:
        env_args = [a for key, value in env.items() for a in ("-e", f"{key}={value}")]
        return docker("exec", "-i", *env_args, self.name, *argv, input=stdin or b"", timeout=timeout)

    def remove(self) -> None:
        docker("rm", "--force", self.name, creates=True)
        remove_image(self.tag)

    def __exit__(self, *exc: object) -> None:
        self.remove()
