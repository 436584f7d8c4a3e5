"""Container images of verified builds, for every ISA asked: a local docker image per ISA,
checked by running it under qemu, and one OCI image layout holding an index over the ISAs
(`dist/oci/<recipe>-<version>/`), which `--push` sends to a registry.

BusyBox's image is its root filesystem; any other verified build is `FROM scratch` with its
binaries in /usr/bin (or on top of the BusyBox base, `--base busybox`). The local image's config
is the OCI image's, byte for byte, so its docker id is the config digest the index names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from musltool.attest import SigningKey
from musltool.catalog import load_recipe
from musltool.dist import Dist
from musltool.docker import PRODUCT_LABEL, load_image, remove_image, run_once
from musltool.emulators import qemu_user
from musltool.errors import UsageError, VerificationError
from musltool.filetree import Tree
from musltool.firmware.rootfs import (
    IMAGE_CHECK,
    IMAGE_CHECK_WORDS,
    build_rootfs,
    require_image_applets,
)
from musltool.firmware.tree import SYSTEM_RECIPE
from musltool.isa import Isa
from musltool.oci import Layout, PlatformImage, layout, platform_image
from musltool.package import Evidence, evidence_files, json_bytes
from musltool.recipes import Recipe, VerifyRun
from musltool.report import BuildReport
from musltool.runners import DockerRunner, emulator_prefix, oldest_cpu_env
from musltool.sbom import Artifact

BASES = ("scratch", SYSTEM_RECIPE)
LAYOUTS = "oci"  # dist/oci/<recipe>-<version>/
QEMU_MOUNT = "/.musltool-qemu"  # where the host's qemu-user is mounted for a check on the oldest CPU


@dataclass(frozen=True)
class ImageCheck:
    """What is run in an image to show it works, and what it must print."""

    name: str
    argv: tuple[str, ...]
    entrypoint: str
    expected: str | None = None  # exact stdout; None: the exit code (and `words`) alone
    exit_code: int = 0
    words: tuple[str, ...] = ()  # words its output must hold


@dataclass(frozen=True)
class ImageSource:
    """One ISA's image before it is made: its files, how it starts, how it is checked."""

    isa: Isa
    recipe: str
    version: str
    tree: Tree = field(repr=False)
    entrypoint: tuple[str, ...]
    check: ImageCheck | None
    report: BuildReport = field(repr=False)
    base: BuildReport | None = field(default=None, repr=False)  # the BusyBox build it is laid on

    @property
    def tag(self) -> str:
        return f"musltool/{self.recipe}:{self.version}-{self.isa.name}"

    @property
    def labels(self) -> dict[str, str]:
        return {PRODUCT_LABEL: self.version, "org.opencontainers.image.title": self.recipe,
                "org.opencontainers.image.version": self.version}  # fmt: skip


@dataclass(frozen=True)
class ImageSet:
    layout: Layout
    folder: Path
    tags: dict[str, str]  # ISA name -> local docker tag
    checked: dict[str, str]  # ISA name -> what the check proved

    def image(self, isa: Isa) -> PlatformImage:
        return self.layout.image(isa)


def busybox_source(dist_folder: Path, isa: Isa) -> ImageSource:
    fs = build_rootfs(dist_folder, isa)
    require_image_applets(fs)
    check = ImageCheck("a shell script", ("-c", IMAGE_CHECK), "/bin/sh", words=IMAGE_CHECK_WORDS)
    report = Dist(dist_folder).verified_report(isa, SYSTEM_RECIPE)
    return ImageSource(isa, SYSTEM_RECIPE, fs.version, fs.tree, ("/bin/sh",), check, report)


def recipe_source(dist_folder: Path, isa: Isa, recipe: Recipe, base: str) -> ImageSource:
    dist = Dist(dist_folder)
    report = dist.verified_report(isa, recipe.binary)
    tree = build_rootfs(dist_folder, isa).tree if base == SYSTEM_RECIPE else Tree()
    base_report = dist.verified_report(isa, SYSTEM_RECIPE) if base == SYSTEM_RECIPE else None
    for name in (report.binary, *report.programs):
        data = dist.read(f"{isa.name}/{name}")
        if data is None:
            raise UsageError(f"{dist.path(f'{isa.name}/{name}')} is missing: the build of {report.binary} installed it")
        tree.add_file(f"usr/bin/{name}", data, 0o755)
    entry = f"/usr/bin/{report.binary}"
    return ImageSource(isa, recipe.name, report.version, tree.with_parents().check(), (entry,),
                       _recipe_check(recipe.runs, isa, entry), report, base_report)  # fmt: skip


def _recipe_check(runs: Sequence[VerifyRun], isa: Isa, entrypoint: str) -> ImageCheck | None:
    """The recipe's first verification run of its own binary without input, run in the image."""
    for run in runs:
        if run.program is None and run.stdin is None:
            return ImageCheck(f"verification run {run.name!r}", run.args, entrypoint, run.expected_stdout(isa), run.exit_code)
    return None


def check_image(source: ImageSource) -> str:
    """Run the check in a fresh container of the local image (no network); what it proved."""
    if source.check is None:
        return "not run: the recipe has no verification run without input"
    check = source.check
    # On the oldest CPU: binfmt starts qemu with QEMU_CPU; an ISA this machine runs natively
    # gets the host's qemu-user, mounted read-only, as the entrypoint (as verification does).
    isa, argv, entrypoint, mounts = source.isa, list(check.argv), check.entrypoint, {}
    prefix = emulator_prefix(isa, QEMU_MOUNT)
    if prefix:
        mounts = {qemu_user(isa): QEMU_MOUNT}
        argv, entrypoint = [*prefix[1:], check.entrypoint, *argv], QEMU_MOUNT
    result = run_once(source.tag, isa, argv, entrypoint=entrypoint, env=oldest_cpu_env(isa), mounts=mounts)
    out = result.stdout.decode(errors="replace")
    fails = result.returncode != check.exit_code or (check.expected is not None and out != check.expected)
    fails = fails or not set(check.words) <= set(out.split())
    if fails:
        raise VerificationError(f"image {source.tag} failed its check: exit {result.returncode}, printed "
                                f"{out.strip()[:200]!r} {result.stderr.decode(errors='replace').strip()[:200]}")  # fmt: skip
    return f"{check.name} ran in it under qemu on {source.isa.qemu_cpu}"


def image_layout(sources: Sequence[ImageSource]) -> Layout:
    """The OCI layout of these images: an index under the version's tag (no docker needed)."""
    images = [platform_image(s.tree, s.isa, s.entrypoint, s.labels) for s in sources]
    version = sources[0].version
    return layout(version, images, {"org.opencontainers.image.version": version})


def image_evidence(source: ImageSource, image: PlatformImage, recipe: Recipe, key: SigningKey | None,
                   checked: str) -> dict[str, tuple[bytes, int]]:  # fmt: skip
    """One ISA's image's SBOM, VEX document and (with a key) signed statements, the artifact
    being its manifest (by digest), beside the layout: dist/oci/<recipe>-<version>-<isa>.*
    The test result is the build's verification and the image's own check (`checked`)."""
    digest = image.manifest.digest.removeprefix("sha256:")
    also = ((source.base, load_recipe(SYSTEM_RECIPE)),) if source.base is not None else ()
    said = Evidence(f"{LAYOUTS}/{source.recipe}-{source.version}-{source.isa.name}",
                    Artifact(f"{source.tag}@{image.manifest.digest}", digest, "CONTAINER"), key,
                    also=also, checked={"image": source.tag, "check": checked})  # fmt: skip
    return {e["name"]: (json_bytes(e["document"]), 0o644) for e in evidence_files(said, source.report, recipe).values()}


def make_images(dist_folder: Path, isas: Sequence[Isa], recipe_name: str = SYSTEM_RECIPE, base: str = "scratch",
                key: SigningKey | None = None) -> ImageSet:  # fmt: skip
    """Local images, each checked, then the OCI layout over all of them in dist (all or nothing)."""
    if base not in BASES:
        raise UsageError(f"--base {base!r}: one of {', '.join(BASES)}")
    recipe = load_recipe(recipe_name)
    sources = [busybox_source(dist_folder, isa) if recipe.name == SYSTEM_RECIPE
               else recipe_source(dist_folder, isa, recipe, base) for isa in isas]  # fmt: skip
    versions = {s.version for s in sources}
    if len(versions) > 1:
        raise UsageError(f"the {recipe.name} builds in {dist_folder} differ in version ({', '.join(sorted(versions))}): "
                         "one index holds one version")  # fmt: skip
    checked: dict[str, str] = {}
    for source in sources:
        DockerRunner().check_ready(source.isa)
        load_image(source.tree, source.isa, source.tag, list(source.entrypoint), source.labels)
        try:
            checked[source.isa.name] = check_image(source)
        except BaseException:
            remove_image(source.tag)  # an image that failed its check is not left to be used
            raise
    result = image_layout(sources)
    folder = f"{LAYOUTS}/{recipe.name}-{result.ref}"
    dist = Dist(dist_folder)
    files = {f"{folder}/{path}": (data, 0o644) for path, data in result.files().items()}
    for source in sources:
        files |= image_evidence(source, result.image(source.isa), recipe, key, checked[source.isa.name])
    dist.install(files, what=f"{dist_folder}/{folder}", replaces=folder)
    return ImageSet(result, dist.path(folder), {s.isa.name: s.tag for s in sources}, checked)
