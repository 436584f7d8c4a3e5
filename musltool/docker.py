"""docker: local images made from file trees, session containers, and their leftovers. No
registry is involved.

An image is written as a `docker load` archive: one reproducible layer tar, a config that
carries the ISA's platform (os/architecture/variant) and labels, and a manifest. The same files
always give the same image id. Everything temporary that musltool makes in docker (session
images and containers) carries two labels: `musltool.session` (the session's id) and
`musltool.owner` (the run that made it: boot id, PID, start time). It is removed when the
session ends, even on Ctrl-C or SIGTERM; one whose owner is gone (after `kill -9`) is a
leftover that `invoke doctor` lists and `invoke clean` removes. A session of a run still going,
in this checkout or any other, is never a leftover.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from musltool.errors import MissingToolError
from musltool.files import sha256_bytes
from musltool.filetree import Tree, tar_bytes
from musltool.isa import Isa
from musltool.oci import image_config
from musltool.owners import current_owner, owner_alive
from musltool.process import Completed, call

DOCKER_TIMEOUT = 120
SESSION_LABEL = "musltool.session"
OWNER_LABEL = "musltool.owner"
PRODUCT_LABEL = "musltool.image"


def session_labels(session_id: str) -> dict[str, str]:
    return {SESSION_LABEL: session_id, OWNER_LABEL: current_owner().tag}


def label_args(labels: Mapping[str, str]) -> list[str]:
    return [a for key, value in labels.items() for a in ("--label", f"{key}={value}")]


def image_archive(
    layer: bytes, isa: Isa, tag: str, entrypoint: list[str], labels: Mapping[str, str]
) -> bytes:
    """A `docker load` archive holding one layer, with the ISA's platform in its config (the
    config an OCI image of the same tree has: the loaded image's id is its digest)."""
    config_bytes = image_config(layer, isa, entrypoint, labels)
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


@dataclass(frozen=True)
class SessionObject:
    """A container or image carrying the session label."""

    name: str  # container name, or image tag (or id when untagged)
    session: str
    owner: str
    running: bool = False

    def is_leftover(self) -> bool:
        """Its run is gone. An object of an older musltool carries no owner: a container is
        then a leftover once it stopped."""
        if self.owner:
            return not owner_alive(self.owner)
        return not self.running


def session_containers() -> list[SessionObject]:
    fields = f'{{{{.Names}}}}\t{{{{.Label "{SESSION_LABEL}"}}}}\t{{{{.Label "{OWNER_LABEL}"}}}}\t{{{{.State}}}}'
    listed = docker("ps", "-a", "--filter", f"label={SESSION_LABEL}", "--format", fields)
    found = []
    for line in listed.stdout.decode(errors="replace").splitlines():
        name, session, owner, state = ([*line.split("\t"), "", "", ""])[:4]
        if name:
            found.append(SessionObject(name, session, owner, state == "running"))
    return found


def session_images() -> list[SessionObject]:
    listed = docker("images", "--filter", f"label={SESSION_LABEL}", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
    names = [tag if not tag.startswith("<none>") else image_id
             for tag, image_id in (line.split() for line in listed.stdout.decode().splitlines() if line.strip())]  # fmt: skip
    if not names:
        return []
    fields = f'{{{{index .Config.Labels "{SESSION_LABEL}"}}}}\t{{{{index .Config.Labels "{OWNER_LABEL}"}}}}'
    inspected = docker("image", "inspect", "--format", fields, *names)
    rows = [line.split("\t") for line in inspected.stdout.decode(errors="replace").splitlines()]
    return [SessionObject(name, *([*row, "", ""])[:2]) for name, row in zip(names, rows, strict=False)]


def leftovers() -> tuple[list[str], list[str]]:
    """Containers and images of musltool sessions whose run is gone (names, tags or ids).
    An image of an older musltool (no owner) is a leftover unless a live session uses it."""
    containers = session_containers()
    live_sessions = {c.session for c in containers if not c.is_leftover()}
    names = [c.name for c in containers if c.is_leftover()]
    tags = [i.name for i in session_images()
            if (i.owner and i.is_leftover()) or (not i.owner and i.session not in live_sessions)]  # fmt: skip
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
        labels = session_labels(self.id)
        try:
            load_image(self.tree, self.isa, self.tag, self.entrypoint, labels)
            volumes = [a for host, guest in self.mounts for a in ("-v", f"{host}:{guest}:ro")]
            volumes += [a for folder in self.private for a in ("--tmpfs", f"{folder}:rw,exec,mode=755")]
            proc = docker(
                "run", "--detach", "--name", self.name, *label_args(labels),
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

    def exec_args(self, argv: list[str], env: Mapping[str, str], interactive: bool = True) -> list[str]:
        env_args = [a for key, value in env.items() for a in ("-e", f"{key}={value}")]
        return ["docker", "exec", *(["-i"] if interactive else []), *env_args, self.name, *argv]

    def remove(self) -> None:
        docker("rm", "--force", self.name, creates=True)
        remove_image(self.tag)

    def __exit__(self, *exc: object) -> None:
        self.remove()


def run_once(tag: str, isa: Isa, argv: list[str], entrypoint: str, timeout: float = DOCKER_TIMEOUT,
             env: Mapping[str, str] | None = None, mounts: Mapping[str, str] | None = None) -> Completed:  # fmt: skip
    """One command in a fresh container of a local image (no network), labelled as a session
    and removed afterwards, also when musltool is interrupted. `mounts`: host file -> path in
    the container, read-only."""
    env_args = [a for key, value in (env or {}).items() for a in ("--env", f"{key}={value}")]
    env_args += [a for host, inside in (mounts or {}).items() for a in ("--mount", f"type=bind,src={host},dst={inside},readonly")]
    session = uuid.uuid4().hex[:12]
    name = f"musltool-{session}"
    try:
        return docker(
            "run", "--name", name, *label_args(session_labels(session)), "--pull", "never",
            "--network", "none", "--platform", isa.docker_platform, "--entrypoint", entrypoint,
            *env_args, tag, *argv, timeout=timeout,
        )  # fmt: skip
    finally:
        docker("rm", "--force", name, creates=True)
