"""Safe extraction: hostile archives are refused and write nothing outside the cache folder."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from musltool.errors import DownloadError, UsageError
from musltool.extract import COMPLETE_MARKER, FIND_TOP, extract, is_complete


def make_tar(path: Path, members: list[tuple[str, str, bytes | str]], mode: str = "w:gz") -> Path:
    """members: (kind, name, data-or-link-target)."""
    with tarfile.open(path, mode) as tar:
        for kind, name, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, payload
                tar.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, payload
                tar.addfile(info)
    return path


@pytest.mark.parametrize("mode", ["w:gz", "w:xz", "w:bz2"])
def test_good_archive_with_top_folder(tmp_path, mode):
    archive = make_tar(
        tmp_path / "a.tar",
        [("file", "top/bin/tool", b"x"), ("symlink", "top/bin/cc", "tool")],
        mode,
    )
    dest = extract(archive, tmp_path / "out", strip_top="top")
    assert (dest / "bin" / "tool").read_bytes() == b"x"
    assert (dest / "bin" / "cc").is_symlink()
    assert is_complete(dest)


@pytest.mark.parametrize(
    "member",
    [
        ("file", "../escape", b"evil"),
        ("file", "/tmp/musltool-absolute-escape", b"evil"),
        ("symlink", "top/link", "../../../../etc/passwd"),
        ("symlink", "top/abs", "/etc/passwd"),
        ("hardlink", "top/hard", "/etc/passwd"),
    ],
)
def test_hostile_members_are_refused(tmp_path, member):
    archive = make_tar(tmp_path / "evil.tar.gz", [("file", "top/ok", b"ok"), member])
    dest = tmp_path / "cache" / "tc"
    with pytest.raises(DownloadError, match="cannot extract"):
        extract(archive, dest)
    assert not dest.exists()
    assert not (tmp_path / "escape").exists()
    assert not Path("/tmp/musltool-absolute-escape").exists()
    assert [p.name for p in (tmp_path / "cache").iterdir() if not p.name.endswith(".lock")] == []


def test_half_extracted_folder_is_replaced(tmp_path):
    archive = make_tar(tmp_path / "a.tar.gz", [("file", "f", b"new")])
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "stale").write_text("from an interrupted run")
    extract(archive, dest)
    assert not (dest / "stale").exists()
    assert (dest / COMPLETE_MARKER).is_file()


@pytest.mark.parametrize("top", ["zstd-1.5.7", "jq-jq-1.7.1", "renamed-project"])
def test_a_single_top_folder_is_found_whatever_its_name(tmp_path, top):
    """Debian's pristine libzstd_1.5.7+dfsg.orig.tar.xz has zstd-1.5.7/; GitHub tag archives
    jq-jq-1.7.1/: the recipe's name need not match."""
    archive = make_tar(tmp_path / "a.tar.gz", [("file", f"{top}/Makefile", b"all:\n")])
    dest = extract(archive, tmp_path / "out", strip_top=FIND_TOP)
    assert (dest / "Makefile").read_bytes() == b"all:\n"


def test_several_top_entries_need_the_recipe_to_name_one(tmp_path):
    archive = make_tar(tmp_path / "a.tar.gz", [("file", "src/main.c", b"x"), ("file", "docs/README", b"y")])
    with pytest.raises(DownloadError, match=r'no single top folder \(docs, src\): name the one to use with top = "..."'):
        extract(archive, tmp_path / "out", strip_top=FIND_TOP)
    assert (extract(archive, tmp_path / "named", strip_top="src") / "main.c").read_bytes() == b"x"


def test_a_recipe_may_name_its_sources_top_folder(tmp_path):
    from musltool.catalog import load_recipe

    folder = tmp_path / "libzstd"
    folder.mkdir()
    (folder / "recipe.toml").write_text(
        'name = "libzstd"\nversion = "1.5.7"\nkind = "command"\n'
        '[versions."1.5.7"]\nurl = "https://example.invalid/libzstd_1.5.7+dfsg.orig.tar.xz"\n'
        f'sha256 = "{"0" * 64}"\ntop = "zstd-1.5.7"\n'
        '[build]\ncommand = "make"\noutput = "zstd"\n[[verify]]\nargs = ["-V"]\n'
    )
    assert load_recipe(str(folder)).versions["1.5.7"].top == "zstd-1.5.7"
    (folder / "recipe.toml").write_text((folder / "recipe.toml").read_text().replace('top = "zstd-1.5.7"', 'top = "../x"'))
    with pytest.raises(UsageError, match=r"versions\.1\.5\.7\.top"):
        load_recipe(str(folder))
