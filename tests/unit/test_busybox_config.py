"""BusyBox config handling: .config edits, fixup selection, and the applet map of real sources."""

from __future__ import annotations

import pytest

from musltool.busybox import (
    applet_map,
    applicable_fixups,
    enabled_applets,
    parse_config,
    set_symbols,
    source_tree,
    symbols_for_applets,
)
from musltool.errors import UsageError
from musltool.recipes import load_recipe

CONFIG = """\
# Automatically generated
CONFIG_STATIC=y
# CONFIG_TC is not set
CONFIG_EXTRA_CFLAGS=""
CONFIG_FEATURE_EDITING_MAX_LEN=1024
"""


def test_parse_config_reads_all_three_forms():
    values = parse_config(CONFIG)
    assert values == {
        "STATIC": "y",
        "TC": "n",
        "EXTRA_CFLAGS": '""',
        "FEATURE_EDITING_MAX_LEN": "1024",
    }


def test_set_symbols_replaces_lines_and_appends_new_ones():
    text = set_symbols(CONFIG, {"STATIC": "n", "TC": "y", "AWK": "y"})
    values = parse_config(text)
    assert values["STATIC"] == "n" and values["TC"] == "y" and values["AWK"] == "y"
    assert text.count("CONFIG_TC") == 1
    assert "# CONFIG_STATIC is not set" in text


def test_fixups_follow_version_isa_and_compiler():
    data = load_recipe("busybox").data
    reasons = lambda *a: [f.reason for f in applicable_fixups(data, *a)]  # noqa: E731
    on_arm_clang = reasons("1.37.0", "armv7", "clang")
    on_x86_gcc = reasons("1.37.0", "x86_64", "gcc")
    assert any("SHA1/SHA256" in r for r in on_arm_clang)
    assert not any("SHA1/SHA256" in r for r in on_x86_gcc)
    assert not any("SHA1/SHA256" in r for r in reasons("1.35.0", "armv7", "clang"))
    assert any("BB_GLOBAL_CONST" in r for r in on_arm_clang)
    assert not any("BB_GLOBAL_CONST" in r for r in on_x86_gcc)
    assert all(any("tc does not compile" in r for r in rs) for rs in (on_arm_clang, on_x86_gcc))


@pytest.fixture(scope="module")
def applets(mirror_url):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MUSLTOOL_MIRRORS", mirror_url)
        _, src, _ = source_tree(load_recipe("busybox"), "1.37.0")
    return applet_map(src)


def test_applet_map_comes_from_applet_declarations(applets):
    assert applets["["] == [("TEST1",)]
    assert applets["[["] == [("TEST2",)]
    assert applets["sh"] == [("SH_IS_ASH",), ("SH_IS_HUSH",)]  # ash first: it is chosen
    assert applets["arch"] == [("BB_ARCH",)]
    assert ("DEPMOD", "!MODPROBE_SMALL") in applets["depmod"]
    assert ("DEPMOD", "MODPROBE_SMALL") in applets["depmod"]
    assert len(applets) > 390


def test_symbols_and_enabled_applets(applets):
    assert symbols_for_applets(["sh", "[", "ls"], applets) == ["LS", "SH_IS_ASH", "TEST1"]
    config = {"DEPMOD": "y", "MODPROBE_SMALL": "n", "LS": "y"}
    assert enabled_applets(config, applets) == ["depmod", "ls"]


def test_unknown_applet_gets_closest_names(applets):
    with pytest.raises(UsageError) as err:
        symbols_for_applets(["sh", "gerp"], applets)
    assert "unknown applet 'gerp' (closest: grep" in str(err.value)
