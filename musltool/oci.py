"""OCI image layouts: one image per ISA from a file tree, gathered under an image index.

A layout is what docker-library checks in for its base images: `oci-layout`, `index.json` and
content-addressed blobs. `index.json` names one reference (`org.opencontainers.image.ref.name`)
that points at an image index, which lists one manifest per ISA with its platform
(`linux/arm/v7`, `linux/386` ...). Every byte is a function of the trees, the ISAs and
SOURCE_DATE_EPOCH: two builds give the same digests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from musltool.files import gzip_bytes, sha256_bytes
from musltool.filetree import Tree, tar_bytes
from musltool.isa import Isa
from musltool.settings import source_date_epoch

INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"
LAYOUT_VERSION = {"imageLayoutVersion": "1.0.0"}
IMAGE_PATH = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Blob:
    media_type: str
    data: bytes = field(repr=False)

    @property
    def digest(self) -> str:
        return f"sha256:{sha256_bytes(self.data)}"

    @property
    def path(self) -> str:
        return f"blobs/sha256/{self.digest.removeprefix('sha256:')}"

    def descriptor(self, **extra: object) -> dict[str, object]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data), **extra}


def platform(isa: Isa) -> dict[str, str]:
    """The ISA's OCI platform (`variant` only where Docker uses one: arm/v6, arm/v7)."""
    os_, architecture, variant = isa.docker_os_arch_variant
    return {"architecture": architecture, "os": os_, **({"variant": variant} if variant else {})}


@dataclass(frozen=True)
class PlatformImage:
    """One ISA's image: a single gzip'd layer, its config and the manifest naming both."""

    isa: Isa
    layer: Blob
    config: Blob
    manifest: Blob
    uncompressed_layer_size: int

    @property
    def blobs(self) -> tuple[Blob, ...]:
        return (self.layer, self.config, self.manifest)


def _created() -> str:
    return datetime.fromtimestamp(source_date_epoch(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def image_config(
    layer_tar: bytes, isa: Isa, entrypoint: Sequence[str], labels: Mapping[str, str], cmd: Sequence[str] = ()
) -> bytes:
    """The image config (docker's and OCI's format): platform, entrypoint, labels, the layer's
    diff_id. A docker image loaded with it has this config's digest as its id."""
    created = _created()
    return canonical_json({
        **platform(isa),
        "created": created,
        "config": {"Entrypoint": list(entrypoint), "Cmd": list(cmd), "Env": [IMAGE_PATH], "Labels": dict(labels)},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{sha256_bytes(layer_tar)}"]},
        "history": [{"created": created, "created_by": "musltool"}],
    })  # fmt: skip


def platform_image(
    tree: Tree, isa: Isa, entrypoint: Sequence[str], labels: Mapping[str, str], cmd: Sequence[str] = ()
) -> PlatformImage:
    layer_tar = tar_bytes(tree)
    layer = Blob(LAYER_TYPE, gzip_bytes(layer_tar))
    config = Blob(CONFIG_TYPE, image_config(layer_tar, isa, entrypoint, labels, cmd))
    manifest = Blob(MANIFEST_TYPE, canonical_json({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": config.descriptor(),
        "layers": [layer.descriptor()],
        "annotations": {"org.opencontainers.image.created": _created(), **_annotations(labels)},
    }))  # fmt: skip
    return PlatformImage(isa, layer, config, manifest, len(layer_tar))


def _annotations(labels: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k.startswith("org.opencontainers.image.")}


@dataclass(frozen=True)
class Layout:
    """An OCI image layout holding one reference: an index of per-ISA images."""

    ref: str
    images: tuple[PlatformImage, ...]
    index: Blob

    @property
    def digest(self) -> str:
        return self.index.digest

    def image(self, isa: Isa) -> PlatformImage:
        return next(i for i in self.images if i.isa == isa)

    def files(self) -> dict[str, bytes]:
        """Relative path -> bytes; blobs first, `index.json` (what names them) last."""
        blobs = {b.path: b.data for image in self.images for b in image.blobs}
        blobs[self.index.path] = self.index.data
        top = {"schemaVersion": 2, "mediaType": INDEX_TYPE,
               "manifests": [self.index.descriptor(annotations={REF_NAME: self.ref})]}  # fmt: skip
        return {**blobs, "oci-layout": canonical_json(LAYOUT_VERSION), "index.json": canonical_json(top)}


def layout(ref: str, images: Sequence[PlatformImage], annotations: Mapping[str, str] | None = None) -> Layout:
    if not images:
        raise ValueError("an image index needs at least one image")
    ordered = tuple(sorted(images, key=lambda image: image.isa.name))
    index = Blob(INDEX_TYPE, canonical_json({
        "schemaVersion": 2,
        "mediaType": INDEX_TYPE,
        "manifests": [image.manifest.descriptor(platform=platform(image.isa)) for image in ordered],
        **({"annotations": dict(annotations)} if annotations else {}),
    }))  # fmt: skip
    return Layout(ref, ordered, index)
