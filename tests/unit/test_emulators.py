"""qemu-user from a Debian suite for rows the host's is too old for: what is taken from the
cache, the binfmt rule made for it, and what is refused. (Fetching itself needs apt and
Debian's archive: the loongarch64 integration tests do it for real.)"""

from __future__ import annotations

import dataclasses
import json
import platform

import pytest

from musltool import binfmt, emulators
from musltool.errors import DownloadError, MissingToolError
from musltool.isa import get_isa

LOONGARCH = get_isa("loongarch64")
RULE = (":qemu-loongarch64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01:\\xff\\xff\\xff\\xff\\xff\\xff\\xff"
        ":/usr/libexec/qemu-binfmt/loongarch64-binfmt-P:OPF")  # fmt: skip


@pytest.fixture
def cached(fresh_cache):
    """The pinned package's emulator as a fetch leaves it in the cache."""
    pin = emulators.pin_for(LOONGARCH)
    pin.folder.mkdir(parents=True)
    (pin.folder / "qemu-loongarch64").write_bytes(b"\x7fELF emulator")
    (pin.folder / "qemu-loongarch64.conf").write_text(RULE + "\n")
    (pin.folder / "emulator.json").write_text(json.dumps({"sha256": pin.sha256}))
    return pin


def test_the_pin_names_the_program_the_row_needs():
    pin = emulators.pin_for(LOONGARCH)
    assert pin.suite == LOONGARCH.qemu_user_suite == "trixie" and pin.package == "qemu-user" and pin.binfmt
    assert LOONGARCH.binfmt_name in pin.programs and len(pin.sha256) == 64
    assert ":" not in pin.folder.name  # binfmt_misc splits its rule on colons


def test_a_cached_emulator_is_used_as_it_is(cached, monkeypatch):
    monkeypatch.setenv("MUSLTOOL_OFFLINE", "1")  # a fetch would fail loudly
    assert emulators.qemu_user(LOONGARCH) == str(cached.folder / "qemu-loongarch64")
    assert emulators.qemu_user_found(LOONGARCH) == str(cached.folder / "qemu-loongarch64")


def test_the_binfmt_rule_points_at_the_cache_and_keeps_the_rest(cached, monkeypatch):
    monkeypatch.setenv("MUSLTOOL_OFFLINE", "1")
    rule = emulators.binfmt_rule(LOONGARCH)
    head, _, tail = RULE.rpartition(":/usr/libexec/qemu-binfmt/loongarch64-binfmt-P:")
    # the interpreter keeps its *-binfmt-P name: Debian's qemu reads the P flag's argv from it
    assert rule == f"{head}:{cached.folder / 'loongarch64-binfmt-P'}:{tail}"


def test_an_emulator_cached_from_another_pin_is_not_used(cached, monkeypatch):
    (cached.folder / "emulator.json").write_text(json.dumps({"sha256": "0" * 64}))
    monkeypatch.setenv("MUSLTOOL_OFFLINE", "1")
    assert emulators.qemu_user_found(LOONGARCH) is None
    with pytest.raises(DownloadError, match="not cached and MUSLTOOL_OFFLINE is set"):
        emulators.qemu_user(LOONGARCH)


def test_a_row_whose_suite_is_not_pinned_is_refused_in_words(fresh_cache):
    stray = dataclasses.replace(LOONGARCH, qemu_user_suite="forky")
    with pytest.raises(MissingToolError, match="needs qemu-loongarch64 from Debian forky"):
        emulators.qemu_user(stray)


def test_rows_on_the_host_emulator_get_no_rule_of_musltools(fresh_cache):
    assert emulators.binfmt_rule(get_isa("s390x")) is None


def entry(folder, interpreter: str, flags: str = "POF") -> None:
    folder.mkdir(exist_ok=True)
    (folder / "qemu-loongarch64").write_text(f"enabled\ninterpreter {interpreter}\nflags: {flags}\noffset 0\n")


def test_an_entry_for_another_qemu_of_that_name_is_not_ready(cached, tmp_path, monkeypatch):
    """Bookworm's qemu-user-static registers qemu-loongarch64 too (7.2, which stops zig's
    binaries with SIGILL): that entry is refused, so that setup registers musltool's."""
    monkeypatch.setattr(binfmt, "BINFMT_DIR", tmp_path / "binfmt_misc")
    entry(tmp_path / "binfmt_misc", "/usr/libexec/qemu-binfmt/loongarch64-binfmt-P")
    ok, detail = binfmt.binfmt_ready(LOONGARCH)
    assert not ok and "runs /usr/libexec/qemu-binfmt/loongarch64-binfmt-P, not musltool's" in detail
    entry(tmp_path / "binfmt_misc", str(cached.folder / "loongarch64-binfmt-P"))
    assert binfmt.binfmt_ready(LOONGARCH) == (True, "qemu-loongarch64 (flags POF)")


def test_the_registered_rule_always_has_the_f_flag(cached, monkeypatch):
    (cached.folder / "qemu-loongarch64.conf").write_text(RULE.removesuffix("OPF") + "OP\n")
    assert binfmt._binfmt_rule(LOONGARCH).endswith(":FOP")


def test_the_pinned_emulators_run_on_their_host_only(monkeypatch):
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    with pytest.raises(MissingToolError, match="pinned for x86_64 hosts only"):
        emulators.pin_for(LOONGARCH)


def test_the_pinned_emulator_in_another_cache_is_taken(cached, tmp_path, monkeypatch):
    """`sudo invoke setup` registers root's copy; a user's own cache must not refuse it."""
    other = tmp_path / "root-cache"
    other.mkdir()
    (other / "emulator.json").write_text(json.dumps({"sha256": cached.sha256}))
    monkeypatch.setattr(binfmt, "BINFMT_DIR", tmp_path / "binfmt_misc")
    entry(tmp_path / "binfmt_misc", str(other / "loongarch64-binfmt-P"))
    assert binfmt.binfmt_ready(LOONGARCH)[0]
    (other / "emulator.json").write_text(json.dumps({"sha256": "1" * 64}))  # another pin's
    assert not binfmt.binfmt_ready(LOONGARCH)[0]


PPC64LE = get_isa("ppc64le")


def test_a_qemu_system_the_host_has_is_taken_first(fresh_cache, monkeypatch):
    monkeypatch.setattr(emulators, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setenv("MUSLTOOL_OFFLINE", "1")  # a fetch would fail loudly
    assert emulators.qemu_system(PPC64LE) == "/usr/bin/qemu-system-ppc64"


@pytest.fixture
def bookworm_x86_64(monkeypatch):
    """A host the qemu-system pin serves: its machine and suite."""
    monkeypatch.setattr(emulators.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(emulators, "host_suite", lambda: "bookworm")


def test_a_pinned_qemu_system_comes_from_the_cache_when_the_host_lacks_it(fresh_cache, monkeypatch, bookworm_x86_64):
    monkeypatch.setattr(emulators, "which", lambda name: None)
    monkeypatch.setenv("MUSLTOOL_OFFLINE", "1")
    pin = emulators.system_pin(PPC64LE)
    assert pin is not None and not pin.binfmt and pin.package == PPC64LE.qemu_system_package
    assert emulators.qemu_system_found(PPC64LE) is None
    with pytest.raises(DownloadError, match=r"qemu-system-ppc \S+ is not cached"):
        emulators.qemu_system(PPC64LE)
    pin.folder.mkdir(parents=True)
    (pin.folder / "qemu-system-ppc64").write_bytes(b"\x7fELF emulator")
    (pin.folder / "emulator.json").write_text(json.dumps({"sha256": pin.sha256}))
    assert emulators.qemu_system(PPC64LE) == str(pin.folder / "qemu-system-ppc64")
    assert emulators.qemu_system_found(PPC64LE) == str(pin.folder / "qemu-system-ppc64")
    # Debian's qemu looks for its firmware beside its install place: the copy is pointed at the host's
    monkeypatch.setattr(emulators, "SYSTEM_DATA", str(fresh_cache))
    assert emulators.qemu_system_command(PPC64LE) == [str(pin.folder / "qemu-system-ppc64"), "-L", str(fresh_cache)]
    monkeypatch.setattr(emulators, "SYSTEM_DATA", str(fresh_cache / "no-such-folder"))
    with pytest.raises(MissingToolError, match="install qemu-system-data"):
        emulators.qemu_system_command(PPC64LE)


@pytest.mark.parametrize(("machine", "suite"), [("x86_64", "trixie"), ("aarch64", "bookworm"), ("x86_64", "")])
def test_a_host_the_pin_does_not_serve_installs_the_package_instead(fresh_cache, monkeypatch, machine, suite):
    """The pinned qemu-system is linked against bookworm's libraries: elsewhere the host's
    own package is named (and setup installs it), nothing is fetched."""
    monkeypatch.setattr(emulators.platform, "machine", lambda: machine)
    monkeypatch.setattr(emulators, "host_suite", lambda: suite)
    monkeypatch.setattr(emulators, "which", lambda name: None)
    monkeypatch.setattr("musltool.hostparts.which", lambda name: None)
    assert emulators.system_pin(PPC64LE) is None
    with pytest.raises(MissingToolError, match="install qemu-system-ppc "):
        emulators.qemu_system(PPC64LE)


def test_the_host_suite_is_read_from_os_release(tmp_path):
    release = tmp_path / "os-release"
    release.write_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n')
    assert emulators.host_suite(release) == "bookworm"
    release.write_text('NAME="Something"\n')
    assert emulators.host_suite(release) == ""
    assert emulators.host_suite(tmp_path / "missing") == ""


def test_an_unpinned_qemu_system_the_host_lacks_names_its_package(fresh_cache, monkeypatch):
    monkeypatch.setattr(emulators, "which", lambda name: None)
    monkeypatch.setattr("musltool.hostparts.which", lambda name: None)
    s390x = get_isa("s390x")
    assert emulators.system_pin(s390x) is None
    with pytest.raises(MissingToolError, match="qemu-system-misc"):
        emulators.qemu_system(s390x)
