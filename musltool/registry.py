"""Pushing an OCI image layout's index to a registry, with skopeo (Debian's package).

Why skopeo and not a client of musltool's own: it speaks the whole distribution protocol
(chunked uploads, token and basic auth, cross-repository mounts, retries) and pushes an index
with `--all --preserve-digests`, which fails rather than let the registry's copy differ from
the layout. skopeo as root writes a blob-info cache to /var/lib/containers; musltool writes
nothing outside its folders, so skopeo runs in a bubblewrap sandbox where the whole file system
is read-only (it falls back to a cache in memory). After the push, the index is read back from
the registry and its digest compared with the layout's.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from musltool.errors import MusltoolError, UsageError
from musltool.hostparts import require_program
from musltool.owners import temp_prefix
from musltool.process import call, run

CREDENTIALS_ENV = "MUSLTOOL_REGISTRY_CREDENTIALS"  # USER:PASSWORD, never on the command line
PUSH_TIMEOUT = 1800
# HOST[:PORT]/NAME[/NAME...]:TAG, as docker spells a reference (no digest: a push names a tag).
_REFERENCE = re.compile(r"^(?P<host>[A-Za-z0-9.-]+(?::\d{1,5})?|\[[0-9a-fA-F:]+\](?::\d{1,5})?)"
                        r"/(?P<name>[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
                        r":(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$")  # fmt: skip


class PushError(MusltoolError):
    """The registry refused the push or could not be reached."""

    exit_code = 8


@dataclass(frozen=True)
class Destination:
    host: str  # with its port
    name: str
    tag: str

    @classmethod
    def parse(cls, text: str) -> Destination:
        match = _REFERENCE.match(text)
        if not match:
            raise UsageError(f"--push {text!r}: give HOST[:PORT]/NAME:TAG (e.g. 127.0.0.1:5000/musltool/hello:1.0.0)")
        return cls(match["host"], match["name"], match["tag"])

    def __str__(self) -> str:
        return f"{self.host}/{self.name}:{self.tag}"

    @property
    def loopback(self) -> bool:
        """A registry on this machine, which (like docker) musltool reaches without TLS."""
        host = self.host.rsplit(":", 1)[0] if not self.host.startswith("[") else self.host[1:].split("]")[0]
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


def _sandboxed(argv: list[str]) -> list[str]:
    """argv with the whole file system read-only (the network stays: it pushes)."""
    bwrap = require_program("bwrap")
    return [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--die-with-parent", *argv]


def _auth_file(folder: Path, destination: Destination) -> Path | None:
    credentials = os.environ.get(CREDENTIALS_ENV, "")
    if not credentials:
        return None  # skopeo reads the user's own logins (docker login, REGISTRY_AUTH_FILE)
    if ":" not in credentials:
        raise UsageError(f"{CREDENTIALS_ENV} must be USER:PASSWORD")
    path = folder / "auth.json"
    token = base64.b64encode(credentials.encode()).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"auths": {destination.host: {"auth": token}}}, handle)
    return path


def push(layout_folder: Path, ref: str, destination: Destination) -> str:
    """Push the layout's `ref` (an index and every image in it); the digest the registry holds."""
    skopeo = require_program("skopeo")
    tls = [] if not destination.loopback else ["--dest-tls-verify=false"]
    with tempfile.TemporaryDirectory(prefix=temp_prefix("push")) as tmp:
        auth = _auth_file(Path(tmp), destination)
        dest_auth = ["--dest-authfile", str(auth)] if auth else []
        run(_sandboxed([skopeo, "copy", "--quiet", "--all", "--preserve-digests", *tls, *dest_auth,
                        f"oci:{layout_folder}:{ref}", f"docker://{destination}"]),
            error=PushError, what=f"push to {destination}", timeout=PUSH_TIMEOUT)  # fmt: skip
        read_tls = [] if not destination.loopback else ["--tls-verify=false"]
        read_auth = ["--authfile", str(auth)] if auth else []
        raw = call(_sandboxed([skopeo, "inspect", "--raw", *read_tls, *read_auth, f"docker://{destination}"]),
                   timeout=PUSH_TIMEOUT)  # fmt: skip
    if raw.returncode != 0:
        raise PushError(f"reading {destination} back failed: {raw.stderr.decode(errors='replace').strip()}")
    return "sha256:" + hashlib.sha256(raw.stdout).hexdigest()
