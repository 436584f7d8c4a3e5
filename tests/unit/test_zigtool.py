from musltool.toolchain.zigtool import cc_command, filter_cc_args, filter_linker_options


def test_rejected_driver_flags_are_dropped():
    args = ["-O2", "-static-libgcc", "-o", "x", "x.c", "-lgcc_s", "-lm"]
    assert filter_cc_args(args) == ["-O2", "-o", "x", "x.c", "-lm"]


def test_linker_groups_lose_only_what_lld_rejects():
    args = [
        "-Wl,--warn-common",
        "-Wl,-Map,busybox.map",
        "-Wl,--verbose",
        "-Wl,--sort-common,--sort-section,alignment,--gc-sections",
        "-Wl,--sort-section=name",
        "-Wl,--start-group",
    ]
    assert filter_cc_args(args) == ["-Wl,--gc-sections", "-Wl,--start-group"]


def test_xlinker_pairs_are_filtered_too():
    args = ["-Xlinker", "--warn-common", "-Xlinker", "--gc-sections", "a.o"]
    assert filter_cc_args(args) == ["a.o", "-Wl,--gc-sections"]


def test_map_with_equals_drops_one_option():
    assert filter_linker_options(["-Map=x.map", "-s"]) == ["-s"]


def test_links_are_static_compiles_are_not():
    link = cc_command("zig", "cc", "aarch64-linux-musl", "baseline", ["-o", "x", "x.o"])
    compile_only = cc_command("zig", "cc", "aarch64-linux-musl", "baseline", ["-c", "x.c"])
    assert link[:5] == ["zig", "cc", "-target", "aarch64-linux-musl", "-mcpu=baseline"]
    assert "-static" in link
    assert "-static" not in compile_only
