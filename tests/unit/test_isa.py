import pytest

from musltool.errors import UsageError
from musltool.isa import ISA_NAMES, ISAS, get_isa, resolve_isas


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
    assert [i.name for i in resolve_isas("all")] == list(ISA_NAMES)
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
    for field in ("name", "musl_triple", "zig_target", "qemu", "docker_platform"):
        values = [getattr(isa, field) for isa in ISAS]
        assert len(set(values)) == len(values), field
    platforms = {isa.name: isa.docker_platform for isa in ISAS}
    assert platforms == {
        "x86_64": "linux/amd64",
        "aarch64": "linux/arm64",
        "armv7": "linux/arm/v7",
        "riscv64": "linux/riscv64",
    }
    assert get_isa("armv7").docker_os_arch_variant == ("linux", "arm", "v7")
    assert get_isa("aarch64").docker_os_arch_variant == ("linux", "arm64", "")
