"""Container images through a real registry: `invoke image --push` sends the OCI index of every
row's BusyBox to Debian's docker-registry on loopback (plain, and with basic auth), docker pulls
each platform back and runs it under binfmt on the ISA's oldest CPU, skopeo shows the index.
docker's client keeps its logins in a folder of the test's (DOCKER_CONFIG), never in $HOME."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from musltool.attest import open_envelope
from musltool.firmware.containers import busybox_source, image_layout
from musltool.isa import ALL, TIERS, Isa, runs_natively
from tests.integration.conftest import invoke

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}
HALF_MB = 512 * 1024


class Registry:
    def __init__(self, folder: Path, user: str = "", password: str = "") -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.host = f"127.0.0.1:{self.port}"
        auth = ""
        if user:
            hashed = subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, text=True, check=True)
            (folder / "htpasswd").write_text(hashed.stdout)
            auth = f"auth:\n  htpasswd:\n    realm: musltool-test\n    path: {folder / 'htpasswd'}\n"
        (folder / "store").mkdir()
        (folder / "config.yml").write_text(
            f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {folder / 'store'}\n"
            f"http:\n  addr: {self.host}\n{auth}"
        )
        self.log = (folder / "registry.log").open("wb")
        self.process = subprocess.Popen(["docker-registry", "serve", str(folder / "config.yml")],
                                        stdout=self.log, stderr=subprocess.STDOUT)  # fmt: skip
        self._wait()

    def _wait(self) -> None:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1)
                return
            except urllib.error.HTTPError:
                return  # 401: up, and asking for credentials
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"docker-registry did not answer on {self.host}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.log.close()


@pytest.fixture
def registry(tmp_path) -> Iterator[Registry]:
    folder = tmp_path / "registry"
    folder.mkdir()
    server = Registry(folder)
    yield server
    server.stop()


@pytest.fixture
def docker_config(tmp_path) -> dict[str, str]:
    folder = tmp_path / "docker-config"
    folder.mkdir()
    return {**os.environ, "DOCKER_CONFIG": str(folder)}


def layout_of(dist: Path, folder: str) -> tuple[dict, dict[str, dict]]:
    """The layout's index, and each platform's manifest (keyed by docker's platform string)."""
    root = dist / "oci" / folder

    def blob(digest: str) -> dict:
        return json.loads((root / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes())

    top = json.loads((root / "index.json").read_text())
    index = blob(top["manifests"][0]["digest"])
    manifests = {"/".join(filter(None, (m["platform"]["os"], m["platform"]["architecture"], m["platform"].get("variant")))):
                 blob(m["digest"]) for m in index["manifests"]}  # fmt: skip
    return top, manifests


def top_index_digest_of(dist: Path, isa: Isa) -> str:
    """The digest of `isa`'s manifest in the layout's index (what its SBOM describes)."""
    root = dist / "oci" / "busybox-1.37.0"
    top = json.loads((root / "index.json").read_text())
    index = json.loads((root / "blobs" / "sha256" / top["manifests"][0]["digest"].removeprefix("sha256:")).read_text())
    return next(m["digest"] for m in index["manifests"] if m["platform"]["architecture"] == isa.docker_os_arch_variant[1]
                and m["platform"].get("variant", "") == isa.docker_os_arch_variant[2])  # fmt: skip


def machine_seen(isa: Isa) -> str:
    """What uname -m prints in a container of the ISA: under qemu its machine; an ISA this
    machine's kernel runs natively (x86 on x86_64) sees the kernel's own."""
    return platform.machine() if runs_natively(isa) else isa.uname_machine


def pull_and_run(ref: str, isa: Isa, env: dict[str, str], script: str) -> tuple[str, str]:
    """docker pull --platform, then the image's shell under binfmt on the oldest CPU: (image id, output)."""
    pulled = subprocess.run(["docker", "pull", "-q", "--platform", isa.docker_platform, ref],
                            capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert pulled.returncode == 0, pulled.stderr
    image_id = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", ref],
                              capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    ran = subprocess.run(
        ["docker", "run", "--rm", "--pull", "never", "--network", "none", "--platform", isa.docker_platform,
         "--env", f"QEMU_CPU={isa.qemu_cpu}", ref, *script],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    subprocess.run(["docker", "image", "rm", "--force", image_id], capture_output=True)  # the next pull untags it
    assert ran.returncode == 0, f"{isa.name}: {ran.stderr}"
    return image_id, ran.stdout


def remove_images(*refs: str) -> None:
    subprocess.run(["docker", "image", "rm", "--force", *refs], capture_output=True)


@pytest.fixture(scope="module")
def every_row_minimal(shared, tmp_path_factory) -> Path:
    """BusyBox minimal, verified, for every row of --arch all, copied to write images beside."""
    for isa in ALL:
        source = shared.dist("busybox", isa.name, config="minimal")
    dist = tmp_path_factory.mktemp("images") / "dist"
    shutil.copytree(source, dist)
    return dist


@pytest.mark.xdist_group("busybox-images")
def test_busybox_index_is_pushed_pulled_per_platform_and_runs(every_row_minimal, registry, docker_config, tmp_path):
    ref = f"{registry.host}/musltool/busybox:test"
    local_tags = [f"musltool/busybox:1.37.0-{isa.name}" for isa in ALL]
    try:
        proc = invoke("image", "--arch", "all", "--dist", str(every_row_minimal), "--push", ref, env=EPOCH)
        assert proc.returncode == 0, proc.stderr
        top, manifests = layout_of(every_row_minimal, "busybox-1.37.0")
        index_digest = top["manifests"][0]["digest"]
        assert f"pushed: {ref}@{index_digest}" in proc.stdout
        assert top["manifests"][0]["annotations"] == {"org.opencontainers.image.ref.name": "1.37.0"}
        assert sorted(manifests) == sorted(isa.docker_platform for isa in ALL)

        raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
                             capture_output=True, check=True).stdout  # fmt: skip
        assert f"sha256:{hashlib.sha256(raw).hexdigest()}" == index_digest
        remote = json.loads(raw)
        assert remote["mediaType"] == "application/vnd.oci.image.index.v1+json"
        assert len(remote["manifests"]) == len(ALL)

        for isa in ALL:
            manifest = manifests[isa.docker_platform]
            assert manifest["layers"][0]["size"] <= HALF_MB, f"{isa.name}: layer over 0.5 MB compressed"
            image_id, out = pull_and_run(ref, isa, docker_config, ["-c", "uname -m; echo $((6 * 7))"])
            assert image_id == manifest["config"]["digest"], f"{isa.name}: pulled another image"
            assert out == f"{machine_seen(isa)}\n42\n"
            sbom = every_row_minimal / "oci" / f"busybox-1.37.0-{isa.name}.spdx.json"
            assert [m.validation_message for m in validate_full_spdx_document(parse_file(str(sbom)))] == []
            described = json.loads(sbom.read_text())["packages"][0]["checksums"][0]["checksumValue"]
            assert f"sha256:{described}" == top_index_digest_of(every_row_minimal, isa)
    finally:
        remove_images(ref, *local_tags)

    # Bit-reproducible: the same builds in another folder give the same layout, byte for byte.
    again = tmp_path / "again"
    shutil.copytree(every_row_minimal, again, ignore=shutil.ignore_patterns("oci", ".musltool-dist"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH["SOURCE_DATE_EPOCH"])
        rebuilt = image_layout([busybox_source(again, isa) for isa in ALL]).files()
    written = every_row_minimal / "oci" / "busybox-1.37.0"
    assert sorted(str(p.relative_to(written)) for p in written.rglob("*") if p.is_file()) == sorted(rebuilt)
    assert all((written / path).read_bytes() == data for path, data in rebuilt.items())


@pytest.fixture
def auth_registry(tmp_path) -> Iterator[Registry]:
    folder = tmp_path / "auth-registry"
    folder.mkdir()
    server = Registry(folder, "pusher", "s3cret-pw")
    yield server
    server.stop()


@pytest.mark.xdist_group("busybox-images")
def test_hello_image_through_a_registry_with_basic_auth(hello_dist, auth_registry, docker_config):
    ref = f"{auth_registry.host}/musltool/hello:1"
    isas = TIERS["tier1"]
    local_tags = [f"musltool/hello:1.0.0-{isa.name}" for isa in isas]
    arch = ",".join(isa.name for isa in isas)
    try:
        refused = invoke("image", "--arch", arch, "--dist", str(hello_dist), "--recipe", "hello", "--push", ref, env=EPOCH)
        assert refused.returncode == 8, refused.stderr
        assert refused.stderr.startswith("musltool: error: push to ") and refused.stderr.count("\n") == 1

        wrong = invoke("image", "--arch", arch, "--dist", str(hello_dist), "--recipe", "hello", "--push", ref,
                       env={**EPOCH, "MUSLTOOL_REGISTRY_CREDENTIALS": "pusher:wrong"})  # fmt: skip
        assert wrong.returncode == 8, wrong.stderr

        key = hello_dist.parent / "image-key.pem"
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True)
        proc = invoke("image", "--arch", arch, "--dist", str(hello_dist), "--recipe", "hello", "--push", ref,
                      "--sign-key", str(key), env={**EPOCH, "MUSLTOOL_REGISTRY_CREDENTIALS": "pusher:s3cret-pw"})  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        public = load_pem_private_key(key.read_bytes(), None).public_key()
        for isa in isas:  # each image's test result, signed, names that image's manifest digest
            signed = json.loads((hello_dist / "oci" / f"hello-1.0.0-{isa.name}.test-result.dsse.json").read_text())
            tested = open_envelope(signed, public)
            assert tested["subject"][0]["name"].startswith(f"musltool/hello:1.0.0-{isa.name}@sha256:")
            assert tested["predicate"]["configuration"][0]["annotations"]["qemu_cpu"] == isa.qemu_cpu
        for isa in isas:
            assert f"{isa.name}: musltool/hello:1.0.0-{isa.name}" in proc.stdout
            assert f"verification run 'uname machine' ran in it under qemu on {isa.qemu_cpu}" in proc.stdout
        _, manifests = layout_of(hello_dist, "hello-1.0.0")

        login = subprocess.run(["docker", "login", "-u", "pusher", "--password-stdin", auth_registry.host],
                               input="s3cret-pw\n", capture_output=True, text=True, env=docker_config)  # fmt: skip
        assert login.returncode == 0, login.stderr
        for isa in isas:
            manifest = manifests[isa.docker_platform]
            assert manifest["layers"][0]["size"] <= 16 * 1024, f"{isa.name}: hello's layer over 16 KiB"
            image_id, out = pull_and_run(ref, isa, docker_config, [])
            assert image_id == manifest["config"]["digest"]
            assert out == f"{machine_seen(isa)}\n"
    finally:
        remove_images(ref, *local_tags)
