import platform
import re
from pathlib import Path

import pytest

from musltool.errors import UsageError
from musltool.isa import ISA_NAMES, ISAS, TIER_PROOF, get_isa, resolve_isas, runs_natively


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("amd64", "x86_64"),
        ("x86_64", "x86_64"),
        ("arm64", "aarch64"),
        ("AArch64", "aarch64"),
        ("armhf", "armv7"),
        ("arm/v7", "armv7"),
        ("linux/arm/v7", "armv7"),
        ("riscv64", "riscv64"),
        ("rv64gc", "riscv64"),
    ],
)
def test_names_users_type(typed, expected):
    assert get_isa(typed).name == expected


def test_all_and_lists_keep_order_without_duplicates():
    assert [i.name for i in resolve_isas("all")] == [n for n in ISA_NAMES if not n.startswith("mips")]
    assert [i.name for i in resolve_isas("riscv64,arm64,aarch64")] == ["riscv64", "aarch64"]


def test_unknown_isa_names_the_valid_ones():
    with pytest.raises(UsageError) as err:
        resolve_isas("sparc")
    message = str(err.value)
    assert "sparc" in message
    for name in ISA_NAMES:
        assert name in message
    assert "\n" not in message


def test_close_misspelling_gets_a_hint():
    with pytest.raises(UsageError, match="did you mean aarch64"):
        get_isa("aarch46")


def test_table_rows_are_distinct_and_complete():
    for field in ("name", "musl_triple", "docker_platform"):
        values = [getattr(isa, field) for isa in ISAS]
        assert len(set(values)) == len(values), field
    # armv6 and armv7 share zig's target and qemu-arm: their CPUs tell them apart
    for pair in (("zig_target", "zig_cpu"), ("qemu", "qemu_cpu")):
        values = [tuple(getattr(isa, f) for f in pair) for isa in ISAS]
        assert len(set(values)) == len(values), pair
    platforms = {isa.name: isa.docker_platform for isa in ISAS}
    assert platforms == {
        "x86_64": "linux/amd64",
        "aarch64": "linux/arm64",
        "armv7": "linux/arm/v7",
        "riscv64": "linux/riscv64",
        "x86": "linux/386",
        "armv6": "linux/arm/v6",
        "ppc64le": "linux/ppc64le",
        "s390x": "linux/s390x",
        "mips64el": "linux/mips64le",
        "mipsel": "linux/mipsle",
        "loongarch64": "linux/loong64",
    }
    assert get_isa("armv7").docker_os_arch_variant == ("linux", "arm", "v7")
    assert get_isa("armv6").docker_os_arch_variant == ("linux", "arm", "v6")
    assert get_isa("aarch64").docker_os_arch_variant == ("linux", "arm64", "")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("i386", "x86"), ("i686", "x86"), ("386", "x86"), ("linux/386", "x86"),
     ("armv6l", "armv6"), ("linux/arm/v6", "armv6"), ("armhf", "armv7"),
     ("ppc64el", "ppc64le"), ("powerpc64le", "ppc64le"), ("loong64", "loongarch64"),
     ("linux/s390x", "s390x"), ("mips64le", "mips64el"), ("linux/mipsle", "mipsel")],
)  # fmt: skip
def test_names_of_the_tier_two_rows(typed, expected):
    assert get_isa(typed).name == expected


def test_tiers_select_their_rows_and_each_says_what_it_proves():
    assert [i.name for i in resolve_isas("tier1")] == ["x86_64", "aarch64", "armv7", "riscv64"]
    assert [i.name for i in resolve_isas("tier2")] == ["x86", "armv6", "ppc64le", "s390x", "loongarch64"]
    assert [i.name for i in resolve_isas("tier3")] == ["mips64el", "mipsel"]
    assert [i.name for i in resolve_isas("s390x,tier1,x86_64")][:2] == ["s390x", "x86_64"]
    assert len(resolve_isas("tier1,tier2,tier3")) == len(ISAS)
    # all: every row but tier 3's, which are named
    assert [i.name for i in resolve_isas("all")] == [i.name for i in ISAS if i.tier < 3]
    assert set(TIER_PROOF) == {isa.tier for isa in ISAS}


def test_only_s390x_is_big_endian_and_its_binaries_are_for_z196():
    assert [isa.name for isa in ISAS if not isa.little_endian] == ["s390x"]
    assert get_isa("s390x").zig_cpu == "z196"


def test_the_table_file_becomes_the_rows_musltool_checks():
    """Hex magic, optional attributes and e_flags in isas.toml are read as the checks need them."""
    armv6 = get_isa("armv6")
    assert ("TAG_FP_ARCH", (2,), "floating point VFPv2") in armv6.elf_attributes
    simd = dict((tag, allowed) for tag, allowed, _ in armv6.elf_attributes)["TAG_ADVANCED_SIMD_ARCH"]
    assert None in simd and 0 in simd
    assert get_isa("x86_64").kernel_formats == (("bzImage", 0x202, b"HdrS"),)
    assert get_isa("ppc64le").elf_flags == (0x3, 0x2, "ELFv2 ABI")
    assert get_isa("s390x").elf_flags is None


@pytest.mark.parametrize(("machine", "isa", "native"), [
    ("x86_64", "x86_64", True), ("x86_64", "x86", True), ("x86_64", "aarch64", False),
    ("aarch64", "x86", False), ("aarch64", "aarch64", True), ("sparc64", "x86", False),
])  # fmt: skip
def test_what_runs_natively_depends_on_the_host(monkeypatch, machine, isa, native):
    monkeypatch.setattr(platform, "machine", lambda: machine)
    assert runs_natively(get_isa(isa)) is native


def test_every_lack_a_row_names_is_one_the_boot_suite_skips_checks_for():
    """A misspelt boot_lacks word would skip nothing: the check would run and fail there."""
    suite = (Path(__file__).parents[2] / "recipes" / "busybox" / "boot-suite.sh").read_text()
    skipped = {word for words in re.findall(r'^hcheck (?:"([^"]+)"|(\S+))', suite, re.M) for word in " ".join(words).split()}
    assert skipped >= {"rtc", "rtc-alarm", "vt"}
    for isa in ISAS:
        assert set(isa.boot_lacks) <= skipped, isa.name
