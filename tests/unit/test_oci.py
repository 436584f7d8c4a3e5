"""OCI image layouts (musltool/oci.py), push destinations (musltool/registry.py) and a layout's
old blobs going when it is rewritten (musltool/dist.py), with nothing but Python."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest

from musltool import oci
from musltool.dist import Dist
from musltool.errors import UsageError
from musltool.filetree import Tree
from musltool.isa import ALL, get_isa
from musltool.registry import CREDENTIALS_ENV, Destination, _auth_file

# Docker's platform names, written out here rather than read from the ISA table.
PLATFORMS = {
    "x86_64": {"os": "linux", "architecture": "amd64"},
    "aarch64": {"os": "linux", "architecture": "arm64"},
    "armv7": {"os": "linux", "architecture": "arm", "variant": "v7"},
    "riscv64": {"os": "linux", "architecture": "riscv64"},
    "x86": {"os": "linux", "architecture": "386"},
    "armv6": {"os": "linux", "architecture": "arm", "variant": "v6"},
    "ppc64le": {"os": "linux", "architecture": "ppc64le"},
    "s390x": {"os": "linux", "architecture": "s390x"},
    "loongarch64": {"os": "linux", "architecture": "loong64"},
}


def tree(payload: bytes = b"\x7fELF hello") -> Tree:
    t = Tree()
    t.add_file("usr/bin/hello", payload, 0o755)
    return t.with_parents()


def index_of(files: dict[str, bytes]) -> dict:
    top = json.loads(files["index.json"])
    return json.loads(files[f"blobs/sha256/{top['manifests'][0]['digest'][7:]}"])


@pytest.fixture(autouse=True)
def epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.mark.parametrize("isa", ALL, ids=lambda isa: isa.name)
def test_each_row_has_dockers_platform(isa):
    assert oci.platform(isa) == PLATFORMS[isa.name]


def test_a_layout_is_content_addressed_and_names_its_reference():
    images = [oci.platform_image(tree(), isa, ["/usr/bin/hello"], {}) for isa in ALL]
    files = oci.layout("1.0.0", images).files()
    for path, data in files.items():
        if path.startswith("blobs/sha256/"):
            assert path.rsplit("/", 1)[1] == hashlib.sha256(data).hexdigest()
    top = json.loads(files["index.json"])
    assert top["manifests"][0]["annotations"] == {"org.opencontainers.image.ref.name": "1.0.0"}
    assert top["manifests"][0]["mediaType"] == oci.INDEX_TYPE
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = index_of(files)
    assert [m["platform"] for m in index["manifests"]] == [PLATFORMS[i.name] for i in sorted(ALL, key=lambda i: i.name)]
    for descriptor in index["manifests"]:
        manifest = json.loads(files[f"blobs/sha256/{descriptor['digest'][7:]}"])
        assert descriptor["size"] == len(files[f"blobs/sha256/{descriptor['digest'][7:]}"])
        config = json.loads(files[f"blobs/sha256/{manifest['config']['digest'][7:]}"])
        assert {k: config[k] for k in descriptor["platform"]} == descriptor["platform"]
        assert manifest["layers"][0]["mediaType"] == oci.LAYER_TYPE


def test_the_layer_is_the_tree_and_its_diff_id_is_the_uncompressed_tar():
    import gzip
    import io
    import tarfile

    image = oci.platform_image(tree(b"payload"), get_isa("s390x"), ["/usr/bin/hello"], {"a": "b"})
    tar_bytes = gzip.decompress(image.layer.data)
    config = json.loads(image.config.data)
    assert config["rootfs"]["diff_ids"] == [f"sha256:{hashlib.sha256(tar_bytes).hexdigest()}"]
    assert config["config"]["Entrypoint"] == ["/usr/bin/hello"] and config["config"]["Labels"] == {"a": "b"}
    assert config["created"] == "2023-11-14T22:13:20Z"
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        assert tar.extractfile("usr/bin/hello").read() == b"payload"


def test_same_inputs_same_digests_and_each_input_changes_them(monkeypatch):
    def digest(payload=b"x", isas=ALL, ref="1.0.0") -> str:
        return oci.layout(ref, [oci.platform_image(tree(payload), i, ["/usr/bin/hello"], {}) for i in isas]).digest

    base = digest()
    assert digest() == base
    assert digest(isas=tuple(reversed(ALL))) == base  # the index is in a fixed order
    assert digest(payload=b"y") != base
    assert digest(isas=ALL[:3]) != base
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000001")
    assert digest() != base


def test_an_empty_index_is_refused():
    with pytest.raises(ValueError):
        oci.layout("1", [])


@pytest.mark.parametrize("text, parsed, loopback", [
    ("127.0.0.1:5000/musltool/busybox:1.37.0", ("127.0.0.1:5000", "musltool/busybox", "1.37.0"), True),
    ("localhost:5000/busybox:latest", ("localhost:5000", "busybox", "latest"), True),
    ("[::1]:5000/a/b:c", ("[::1]:5000", "a/b", "c"), True),
    ("registry.example.org/team/busybox:v1", ("registry.example.org", "team/busybox", "v1"), False),
    ("10.0.0.7:443/x:y", ("10.0.0.7:443", "x", "y"), False),
])  # fmt: skip
def test_push_destinations_parse_and_only_loopback_goes_without_tls(text, parsed, loopback):
    destination = Destination.parse(text)
    assert (destination.host, destination.name, destination.tag) == parsed
    assert destination.loopback is loopback
    assert str(destination) == text


@pytest.mark.parametrize("text", ["busybox", "127.0.0.1:5000/busybox", "host/Upper:tag", "host/a:b c",
                                  "host/a:-tag", "host/../x:y", "/a:b", "host/a:b@sha256:00"])  # fmt: skip
def test_a_malformed_destination_is_one_usage_error(text):
    with pytest.raises(UsageError, match="HOST"):
        Destination.parse(text)


def test_credentials_go_to_a_private_file_never_the_command_line(tmp_path, monkeypatch):
    destination = Destination.parse("127.0.0.1:5000/a:b")
    monkeypatch.delenv(CREDENTIALS_ENV, raising=False)
    assert _auth_file(tmp_path, destination) is None
    monkeypatch.setenv(CREDENTIALS_ENV, "nocolon")
    with pytest.raises(UsageError):
        _auth_file(tmp_path, destination)
    monkeypatch.setenv(CREDENTIALS_ENV, "user:pa:ss")
    path = _auth_file(tmp_path, destination)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == {"auths": {"127.0.0.1:5000": {"auth": "dXNlcjpwYTpzcw=="}}}


def test_rewriting_a_layout_removes_its_old_blobs_and_nothing_else(tmp_path):
    dist = Dist(tmp_path / "dist")
    dist.install({"oci/x/blobs/old": (b"old", 0o644), "oci/x/index.json": (b"1", 0o644),
                  "oci/y/blobs/other": (b"other", 0o644), "keep.txt": (b"k", 0o644)})  # fmt: skip
    dist.install({"oci/x/blobs/changed-by-user": (b"mine?", 0o644)})
    (tmp_path / "dist/oci/x/blobs/changed-by-user").write_bytes(b"the user's now")
    (tmp_path / "dist/oci/x/blobs/users-own").write_bytes(b"never written by musltool")
    dist.install({"oci/x/blobs/new": (b"new", 0o644), "oci/x/index.json": (b"2", 0o644)}, replaces="oci/x")
    left = sorted(str(p.relative_to(tmp_path / "dist")) for p in (tmp_path / "dist").rglob("*") if p.is_file())
    assert left == [".musltool-dist", "keep.txt", "oci/x/blobs/changed-by-user", "oci/x/blobs/new",
                    "oci/x/blobs/users-own", "oci/x/index.json", "oci/y/blobs/other"]  # fmt: skip
    assert (tmp_path / "dist/oci/x/index.json").read_bytes() == b"2"
    cleaned = dist.clean()  # the record forgot the removed blob, kept the rest
    assert "oci/x/blobs/old" not in cleaned.removed and "oci/x/blobs/new" in cleaned.removed
