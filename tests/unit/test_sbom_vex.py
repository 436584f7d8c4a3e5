"""SBOMs (musltool/sbom.py) checked by an independent validator (spdx-tools), and the VEX
statements (musltool/vex.py) each reviewed CVE turns into, for builds with and without the
applets it is in and for each kind of musl a build links."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from musltool.catalog import load_recipe
from musltool.libc import LinkedMusl, linked_musl, zig_musl_root
from musltool.report import BuildReport, Status, TestResult, Verification
from musltool.sbom import Artifact, spdx_document
from musltool.settings import builtin_toolchains_dir
from musltool.vex import load_cves, musl_statement, statements, vex_document

BUSYBOX = load_recipe("busybox")
MUSL_CVE = load_cves(builtin_toolchains_dir() / "cves" / "musl.toml")[0]


def report(recipe="busybox", version="1.37.0", applets=("sh", "ls", "awk"), toolchain=None, dependencies=()):
    return BuildReport(
        recipe=recipe, version=version, isa="s390x", triple="s390x-linux-musl", binary=recipe, size=1000,
        sha256="a" * 64, toolchain=toolchain or {"provider": "zig", "version": "0.17.1", "target": "s390x-linux-musl"},
        checks=(), verification=Verification("docker", (TestResult("sh", Status.PASSED),)),
        fingerprint="f" * 64, flags={}, dependencies=tuple(dependencies),
        details={"applets": list(applets), "config_sha256": "c" * 64, "source_sha256": "5" * 64},
    )  # fmt: skip


def validate(document: dict, tmp_path: Path) -> list[str]:
    path = tmp_path / "doc.spdx.json"
    path.write_text(json.dumps(document))
    return [m.validation_message for m in validate_full_spdx_document(parse_file(str(path)))]


@pytest.fixture(autouse=True)
def epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def test_a_busybox_sbom_is_valid_spdx_and_lists_what_went_in(tmp_path):
    deps = [{"name": "xz", "version": "5.8.1", "source": "https://github.com/tukaani-project/xz/releases/download/v5.8.1/xz-5.8.1.tar.xz",
             "sha256": "b" * 64}, {"name": "own-lib", "version": "1", "source": "recipe folder", "sha256": "d" * 64}]  # fmt: skip
    doc = spdx_document(Artifact("busybox-1.37.0-s390x.tar.gz", "e" * 64, "ARCHIVE"), report(dependencies=deps), BUSYBOX)
    assert validate(doc, tmp_path) == []
    packages = {p["name"]: p for p in doc["packages"]}
    assert packages["busybox"]["licenseDeclared"] == "GPL-2.0-only"
    assert packages["busybox"]["checksums"] == [{"algorithm": "SHA256", "checksumValue": "a" * 64}]
    assert "3 applets: sh ls awk" in packages["busybox"]["comment"] and "config sha256 " + "c" * 64 in packages["busybox"]["comment"]
    source = packages["busybox-1.37.0.tar.bz2"]
    assert source["downloadLocation"] == "https://busybox.net/downloads/busybox-1.37.0.tar.bz2"
    assert source["checksums"][0]["checksumValue"] == BUSYBOX.versions["1.37.0"].sha256
    assert packages["musl"]["versionInfo"] == "1.2.5" and "zig 0.17.1" in packages["musl"]["comment"]
    assert packages["zig"]["versionInfo"] == "0.17.1"
    assert packages["xz"]["licenseDeclared"] == "0BSD" and packages["own-lib"]["downloadLocation"] == "NOASSERTION"
    links = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in doc["relationships"]}
    assert ("SPDXRef-program-busybox", "STATIC_LINK", "SPDXRef-musl") in links
    assert ("SPDXRef-program-busybox", "STATIC_LINK", "SPDXRef-library-xz") in links
    assert ("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Artifact") in links
    assert doc["creationInfo"]["created"] == "2023-11-14T22:13:20Z"


def test_the_validator_is_live_a_broken_document_fails_it(tmp_path):
    doc = spdx_document(Artifact("x.tar.gz", "e" * 64, "ARCHIVE"), report(), BUSYBOX)
    doc["packages"][1]["licenseDeclared"] = "GPL-2-bogus"
    doc["relationships"].append({"spdxElementId": "SPDXRef-Artifact", "relationshipType": "CONTAINS",
                                 "relatedSpdxElement": "SPDXRef-nowhere"})  # fmt: skip
    messages = validate(doc, tmp_path)
    assert any("GPL-2-bogus" in m for m in messages) and any("SPDXRef-nowhere" in m for m in messages)


@pytest.mark.parametrize("name", ["hello", "crc32", "cxx-demo", "musl-claims", "bzip2", "xz", "lz4", "libarchive"])
def test_every_recipes_licence_is_an_spdx_expression(name, tmp_path):
    recipe = load_recipe(name)
    doc = spdx_document(Artifact(f"{name}.tar.gz", "e" * 64, "ARCHIVE"), report(name, recipe.version, ()), recipe)
    assert recipe.license != "NOASSERTION"
    assert validate(doc, tmp_path) == []


def test_a_debian_gcc_build_names_the_musl_release_it_was_built_from(tmp_path):
    build = report(toolchain={"provider": "gcc", "distribution": "debian-gcc", "gcc": "12", "musl": "1.2.5",
                               "musl_sha256": "a9a118bbe84d8764da0ea0d28b3ab3fae8477fc7e4085d90102b8596fc7c75e4"})
    doc = spdx_document(Artifact("x.tar.gz", "e" * 64, "ARCHIVE"), build, BUSYBOX)
    musl = next(p for p in doc["packages"] if p["name"] == "musl")
    assert musl["downloadLocation"] == "https://musl.libc.org/releases/musl-1.2.5.tar.gz"
    assert musl["checksums"][0]["checksumValue"] == "a9a118bbe84d8764da0ea0d28b3ab3fae8477fc7e4085d90102b8596fc7c75e4"
    assert validate(doc, tmp_path) == []


def by_id(build: BuildReport) -> dict[str, str]:
    return {s.cve.id: s.status for s in statements(build, BUSYBOX)}


def test_an_applet_in_the_build_is_affected_one_left_out_is_not():
    with_awk = by_id(report(applets=("sh", "awk", "tar")))
    without = by_id(report(applets=("sh", "ls")))
    assert with_awk["CVE-2023-42366"] == "affected" and with_awk["CVE-2025-46394"] == "affected"
    assert without["CVE-2023-42366"] == "not_affected" and without["CVE-2025-46394"] == "not_affected"
    assert with_awk["CVE-2024-58251"] == without["CVE-2024-58251"] == "not_affected"  # netstat in neither


def test_a_version_not_reviewed_is_unknown_not_safe():
    assert set(by_id(report(version="1.36.1")).values()) - {"fixed"} == {"under_investigation"}


def test_the_openvex_document_says_why_for_each_status():
    doc = vex_document("busybox-1.37.0-s390x.tar.gz", "e" * 64, report(applets=("awk",)), BUSYBOX)
    assert doc["@context"] == "https://openvex.dev/ns/v0.2.0"
    found = {s["vulnerability"]["name"]: s for s in doc["statements"]}
    assert found["CVE-2023-42366"]["action_statement"]
    assert found["CVE-2024-58251"]["justification"] == "vulnerable_code_not_present"
    assert "netstat" in found["CVE-2024-58251"]["impact_statement"]
    assert found["CVE-2023-42366"]["products"][0]["hashes"] == {"sha-256": "a" * 64}
    for statement in doc["statements"]:
        assert statement["vulnerability"]["@id"].startswith("https://")  # every entry cites its source


def test_musl_fixed_only_when_its_source_carries_every_line_of_the_fix(tmp_path):
    bundled = linked_musl({"provider": "zig", "version": "0.17.1"})
    assert bundled.source_root == zig_musl_root() and bundled.version == "1.2.5"
    assert musl_statement(MUSL_CVE, bundled).status == "fixed"
    source = (zig_musl_root() / MUSL_CVE.fix_file).read_text()
    (tmp_path / "src/locale").mkdir(parents=True)
    half_fixed = source.replace(MUSL_CVE.fix_lines[1], "")
    (tmp_path / MUSL_CVE.fix_file).write_text(half_fixed)
    assert musl_statement(MUSL_CVE, dataclasses.replace(bundled, source_root=tmp_path)).status == "affected"


def test_musl_from_an_upstream_release_or_an_archive_toolchain():
    pristine = linked_musl({"provider": "gcc", "distribution": "debian-gcc", "musl": "1.2.5",
                            "musl_sha256": "a9a118bbe84d8764da0ea0d28b3ab3fae8477fc7e4085d90102b8596fc7c75e4"})
    assert pristine.pristine and musl_statement(MUSL_CVE, pristine).status == "affected"
    archive = linked_musl({"provider": "gcc", "distribution": "bootlin", "musl": "1.2.5"})
    assert musl_statement(MUSL_CVE, archive).status == "under_investigation"  # patches not known
    newer = LinkedMusl("1.2.6", "a newer release", pristine=True)
    other_zig = linked_musl({"provider": "zig", "version": "0.16.0"})
    assert musl_statement(MUSL_CVE, other_zig).status == "under_investigation"  # its musl is not the one here
    assert musl_statement(MUSL_CVE, newer).status == "under_investigation"  # not reviewed


def test_an_image_on_the_busybox_base_lists_busybox_and_its_cves_and_its_own_check(monkeypatch):
    import base64

    from cryptography.hazmat.primitives.asymmetric import ed25519

    from musltool.attest import SigningKey
    from musltool.filetree import Tree
    from musltool.firmware.containers import ImageSource, image_evidence
    from musltool.isa import get_isa
    from musltool.oci import platform_image

    hello, base = report("hello", "1.0.0", ()), report(applets=("sh", "awk"))
    isa = get_isa("s390x")
    source = ImageSource(isa, "hello", "1.0.0", Tree(), ("/usr/bin/hello",), None, hello, base)
    image = platform_image(Tree(), isa, ["/usr/bin/hello"], {})
    files = image_evidence(source, image, load_recipe("hello"), SigningKey(ed25519.Ed25519PrivateKey.generate()),
                           "verification run 'uname machine' ran in it under qemu on z900")  # fmt: skip
    sbom = json.loads(files["oci/hello-1.0.0-s390x.spdx.json"][0])
    assert {"hello", "busybox"} <= {p["name"] for p in sbom["packages"]}
    vex = json.loads(files["oci/hello-1.0.0-s390x.vex.json"][0])
    assert ("CVE-2023-42366", "affected") in {(s["vulnerability"]["name"], s["status"]) for s in vex["statements"]}
    signed = json.loads(files["oci/hello-1.0.0-s390x.test-result.dsse.json"][0])
    tested = json.loads(base64.b64decode(signed["payload"]))
    assert tested["predicate"]["configuration"][0]["annotations"]["artifact_check"]["check"].endswith("on z900")
    assert tested["subject"][0]["digest"]["sha256"] == image.manifest.digest.removeprefix("sha256:")
