"""Packaging's pure parts: SHA256SUMS merging, reproducible tar and gzip bytes."""

from __future__ import annotations

import gzip
import io
import tarfile

from musltool.dist import Dist
from musltool.files import sha256_bytes
from musltool.filetree import Tree, tar_bytes
from musltool.package import gzip_bytes


def test_merged_sums_keep_only_existing_files_and_sort(tmp_path):
    sums = tmp_path / "SHA256SUMS"
    (tmp_path / "a.tar.gz").write_bytes(b"a")
    (tmp_path / "b.tar.gz").write_bytes(b"b")
    sums.write_text(f"{'1' * 64}  a.tar.gz\n{sha256_bytes(b'b')}  b.tar.gz\n{'2' * 64}  gone.tar.gz\nnot a line\n")
    merged = Dist(tmp_path).merged_sums({"c.tar.gz": "3" * 64, "a.tar.gz": "4" * 64})
    assert merged == f"{'4' * 64}  a.tar.gz\n{sha256_bytes(b'b')}  b.tar.gz\n{'3' * 64}  c.tar.gz\n".encode()


def test_sums_that_no_longer_match_their_file_are_dropped(tmp_path):
    (tmp_path / "a.tar.gz").write_bytes(b"changed")
    (tmp_path / "SHA256SUMS").write_text(f"{sha256_bytes(b'a')}  a.tar.gz\n")
    assert Dist(tmp_path).merged_sums({}) == b""


def test_read_sums_ignores_garbage(tmp_path):
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(f"{'a' * 64}  x.tar.gz\nshort  y.tar.gz\n\n")
    assert Dist(tmp_path).sums() == {"x.tar.gz": "a" * 64}
    assert Dist(tmp_path / "missing").sums() == {}


def test_tar_bytes_are_sorted_owned_by_root_and_dated_by_the_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    tree = Tree()
    tree.add_file("z/file", b"data", 0o600)
    tree.add_dir("a", 0o700)
    tree.add_symlink("m", "z/file")
    data = tar_bytes(tree)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["a", "m", "z/file"]
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {
        (0, 0, "", "", 1700000000)
    }
    assert [m.mode for m in members] == [0o700, 0o777, 0o600]
    assert tar_bytes(tree) == data


def test_gzip_bytes_have_no_timestamp_or_name():
    packed = gzip_bytes(b"payload")
    assert packed[4:8] == b"\0\0\0\0"
    assert packed[3] & 0x08 == 0  # no FNAME field
    assert gzip.decompress(packed) == b"payload"
    assert gzip_bytes(b"payload") == packed
