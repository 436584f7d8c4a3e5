"""The download layer against a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from musltool.errors import DownloadError
from musltool.fetch import FetchOptions, Source, fetch
from tests.loopback import LoopbackServer

PAYLOAD = os.urandom(3 * 1024 * 1024 + 17)
SHA = hashlib.sha256(PAYLOAD).hexdigest()
NAME = "tool-1.0.tar.gz"


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        srv.files[NAME] = PAYLOAD
        yield srv


def source(server: LoopbackServer, sha: str = SHA) -> Source:
    """Upstream is on loopback too: no test ever leaves this machine."""
    return Source(f"{server.url('upstream')}/{NAME}", sha)


def options(cache: Path, *mirrors: str, **kw) -> FetchOptions:
    return FetchOptions(mirrors=mirrors, cache=cache, quiet=True, **kw)


def leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "downloads").iterdir() if not p.name.endswith(".lock"))


def test_success_then_cached(server, tmp_path):
    path = fetch(source(server), options(tmp_path, server.url()))
    assert path.read_bytes() == PAYLOAD
    assert fetch(source(server), options(tmp_path, server.url())) == path
    assert server.gets[NAME] == 1  # the second fetch downloaded nothing


def test_hash_mismatch_deletes_and_tries_next_mirror(server, tmp_path, capsys):
    with LoopbackServer() as bad:
        bad.files[NAME] = PAYLOAD[:-1] + b"X"
        path = fetch(source(server), options(tmp_path, bad.url(), server.url()))
    assert path.read_bytes() == PAYLOAD
    assert leftovers(tmp_path) == [NAME]
    assert bad.gets[NAME] == 1  # a whole transfer with the wrong bytes is not asked again
    assert "downloading again" not in capsys.readouterr().err


def test_hash_mismatch_everywhere_fails_and_leaves_nothing(server, tmp_path):
    with pytest.raises(DownloadError) as err:
        fetch(source(server, sha="0" * 64), options(tmp_path, server.url()))
    message = str(err.value)
    assert f"expected {'0' * 64}, got {SHA}" in message
    assert "\n" not in message
    assert leftovers(tmp_path) == []


def test_dropped_connection_resumes_with_range(server, tmp_path):
    server.drop_after[NAME] = 1_000_000
    path = fetch(source(server), options(tmp_path, server.url()))
    assert path.read_bytes() == PAYLOAD
    assert len(server.ranges) == 1
    resumed_at = int(server.ranges[0].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= 1_000_000  # what arrived before the drop was kept
    assert server.gets[NAME] == 2  # the resumed part was appended: no third transfer


def test_404_on_first_mirror_then_next(server, tmp_path):
    path = fetch(source(server), options(tmp_path, server.url("missing"), server.url()))
    assert path.read_bytes() == PAYLOAD
    assert server.paths == [f"/missing/{NAME}", f"/mirror/{NAME}"]


def test_upstream_is_the_last_resort(server, tmp_path):
    path = fetch(source(server), options(tmp_path, server.url("missing"), server.url("second")))
    assert path.read_bytes() == PAYLOAD
    # every mirror, in the order given, before upstream (the second mirror has it: no upstream)
    assert server.paths == [f"/missing/{NAME}", f"/second/{NAME}"]
    server.paths.clear()
    fetch(source(server), options(tmp_path / "other", server.url("missing")))
    assert server.paths == [f"/missing/{NAME}", f"/upstream/{NAME}"]


def test_file_mirror(tmp_path, server):
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / NAME).write_bytes(PAYLOAD)
    path = fetch(source(server), options(tmp_path / "c", folder.as_uri()))
    assert path.read_bytes() == PAYLOAD
    assert server.gets[NAME] == 0


def test_offline_uses_the_cache_only(server, tmp_path):
    with pytest.raises(DownloadError, match="not cached and MUSLTOOL_OFFLINE"):
        fetch(source(server), options(tmp_path, server.url(), offline=True))
    assert server.gets[NAME] == 0
    fetch(source(server), options(tmp_path, server.url()))
    assert fetch(source(server), options(tmp_path, offline=True)).read_bytes() == PAYLOAD
    assert server.gets[NAME] == 1


def test_unreachable_everywhere_is_one_line(tmp_path):
    dead = Source("http://127.0.0.1:9/tool.tar.gz", SHA)
    with pytest.raises(DownloadError) as err:
        fetch(dead, options(tmp_path, "http://127.0.0.1:9/m", attempts_per_url=1))
    assert "connection failed" in str(err.value)
    assert leftovers(tmp_path) == []


def test_two_processes_share_one_download(server, tmp_path):
    server.delay = 1.0
    script = (
        "import sys; from pathlib import Path;"
        "from musltool.fetch import FetchOptions, Source, fetch;"
        f"p = fetch(Source({source(server).url!r}, {SHA!r}),"
        f" FetchOptions(mirrors=({server.url()!r},), cache=Path({str(tmp_path)!r}), quiet=True));"
        "print(p)"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outputs[0] == outputs[1]
    assert server.gets[NAME] == 1


def test_a_bad_truncating_mirror_does_not_spoil_a_good_one(server, tmp_path):
    """B5: the bad mirror's bytes are never continued from the good mirror."""
    with LoopbackServer() as bad:
        bad.files[NAME] = bytes(len(PAYLOAD))  # wrong bytes, and the transfer always breaks
        bad.always_drop_after[NAME] = 1_000_000
        path = fetch(source(server), options(tmp_path, bad.url(), server.url()))
    assert path.read_bytes() == PAYLOAD
    assert server.gets[NAME] == 1 and server.ranges == []  # the good mirror sent it whole


def test_hash_mismatch_after_a_resume_retries_that_source_from_byte_0(server, tmp_path, capsys):
    server.drop_after[NAME] = 1_000_000
    server.resume_files[NAME] = bytes(len(PAYLOAD))  # the resumed part is not the same file
    path = fetch(source(server), options(tmp_path, server.url()))
    assert path.read_bytes() == PAYLOAD
    assert server.gets[NAME] == 3  # first try, its resume, then once more from byte 0
    assert "downloading again from byte 0" in capsys.readouterr().err


def test_a_stalled_source_is_skipped_and_named(server, tmp_path, capsys):
    with LoopbackServer() as slow:
        slow.files[NAME] = PAYLOAD
        slow.stall_after[NAME] = 1000
        slow.stall_seconds = 10
        path = fetch(source(server), options(tmp_path, slow.url(), server.url(), stall_timeout=1))
    assert path.read_bytes() == PAYLOAD
    assert slow.gets[NAME] == 1  # not retried
    err = capsys.readouterr().err
    assert f"{slow.url()}/{NAME} sent nothing for 1s: trying the next source" in err


def test_a_source_that_never_answers_is_skipped(server, tmp_path, capsys):
    with LoopbackServer() as silent:
        silent.files[NAME] = PAYLOAD
        silent.delay = 10
        path = fetch(source(server), options(tmp_path, silent.url(), server.url(), stall_timeout=1))
    assert path.read_bytes() == PAYLOAD
    assert silent.gets[NAME] == 1
    assert "sent nothing for 1s" in capsys.readouterr().err


def test_a_corrupt_file_in_the_download_cache_is_hashed_and_fetched_again(server, tmp_path, capsys):
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / NAME).write_bytes(PAYLOAD[:-1] + b"\x00")  # one byte changed
    path = fetch(source(server), options(tmp_path, server.url()))
    assert path.read_bytes() == PAYLOAD
    assert server.gets[NAME] == 1
    assert "expected" in capsys.readouterr().err


def test_a_corrupt_cached_file_is_refused_offline(server, tmp_path):
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / NAME).write_bytes(b"not the file")
    with pytest.raises(DownloadError, match="not cached and MUSLTOOL_OFFLINE is set"):
        fetch(source(server), options(tmp_path, offline=True))
    assert not (tmp_path / "downloads" / NAME).exists()


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_a_busy_or_failing_server_is_asked_again(server, tmp_path, status):
    server.fail_with[NAME] = [status]
    path = fetch(source(server), options(tmp_path, server.url()))
    assert path.read_bytes() == PAYLOAD
    assert server.paths == [f"/mirror/{NAME}", f"/mirror/{NAME}"]  # the same source, again
    assert set(server.agents) == {"musltool"}


def test_a_server_failing_three_times_is_given_up_after_two_retries(server, tmp_path):
    server.fail_with[NAME] = [503, 503, 503]
    with pytest.raises(DownloadError) as err:
        fetch(Source(f"{server.url('missing')}/{NAME}", SHA), options(tmp_path, server.url()))
    assert server.gets[NAME] == 4  # three from the mirror, then upstream's 404
    assert str(err.value) == (
        f"could not fetch {NAME}: {server.url()}/{NAME}: HTTP 503; {server.url('missing')}/{NAME}: HTTP 404"
    )
    server.fail_with[NAME] = [503, 503]
    assert fetch(source(server), options(tmp_path, server.url())).read_bytes() == PAYLOAD


def test_other_client_errors_are_not_asked_again(server, tmp_path):
    server.fail_with[NAME] = [403]
    fetch(source(server), options(tmp_path, server.url()))
    assert server.paths == [f"/mirror/{NAME}", f"/upstream/{NAME}"]


def test_mirrors_are_tried_in_order_each_once_with_the_file_name(server, tmp_path):
    from musltool.fetch import candidate_urls

    src = Source("https://example.invalid/pub/v1/tool-1.0.tar.gz?x=1", SHA)
    assert src.filename == "tool-1.0.tar.gz"
    assert candidate_urls(src, ("file:///m/", "http://h/a")) == [
        "file:///m/tool-1.0.tar.gz",
        "http://h/a/tool-1.0.tar.gz",
        src.url,
    ]


def test_a_dropped_transfer_is_resumed_as_often_as_allowed(server, tmp_path):
    server.always_drop_after[NAME] = 1_000_000
    with pytest.raises(DownloadError, match="Connection broken"):
        fetch(source(server), options(tmp_path, server.url(), attempts_per_url=2))
    assert server.paths.count(f"/mirror/{NAME}") == 2
    assert len(server.ranges) == 2  # the mirror's resume, then upstream's
    assert leftovers(tmp_path) == []


def test_a_transfer_that_made_no_progress_is_not_resumed(server, tmp_path):
    server.always_drop_after[NAME] = 0
    with pytest.raises(DownloadError):
        fetch(source(server), options(tmp_path, server.url(), attempts_per_url=3))
    assert server.paths == [f"/mirror/{NAME}", f"/upstream/{NAME}"]
    assert server.ranges == []


def test_an_unpinned_source_is_refused_unless_trusted(server, tmp_path):
    unpinned = Source(f"{server.url('upstream')}/{NAME}", "")
    with pytest.raises(DownloadError, match=f"^{NAME} has no pinned sha256: refusing to use it$"):
        fetch(unpinned, options(tmp_path))
    path = fetch(unpinned, options(tmp_path), trust_unpinned=True)
    assert path.read_bytes() == PAYLOAD
    assert fetch(unpinned, options(tmp_path, offline=True), trust_unpinned=True) == path  # cached: kept
    assert server.gets[NAME] == 1


def test_an_upper_case_pin_matches(server, tmp_path):
    assert fetch(source(server, sha=SHA.upper()), options(tmp_path)).read_bytes() == PAYLOAD


@pytest.mark.parametrize(
    ("config", "mirrors"),
    [(None, []), ("a b", ["a", "b"]), (["a", "b"], ["a", "b"]), (("a",), ["a"])],
)
def test_config_mirrors_are_a_list_or_a_string(config, mirrors):
    from musltool.fetch import config_mirror_list

    assert config_mirror_list(config) == mirrors


@pytest.mark.parametrize("config", [3, ["a", 3], {"a": "b"}])
def test_other_config_mirrors_are_one_usage_error(config):
    from musltool.errors import UsageError
    from musltool.fetch import config_mirror_list

    with pytest.raises(UsageError, match="must be a list of URLs"):
        config_mirror_list(config)


def test_fetch_options_take_config_then_environment_mirrors_once_each(monkeypatch):
    from musltool.errors import UsageError
    from musltool.fetch import fetch_options

    monkeypatch.setenv("MUSLTOOL_MIRRORS", "http://b/ file:///c")
    monkeypatch.delenv("MUSLTOOL_OFFLINE", raising=False)
    got = fetch_options(["https://a/", "http://b/"], quiet=True)
    assert got.mirrors == ("https://a/", "http://b/", "file:///c")
    assert (got.offline, got.quiet) == (False, True)
    monkeypatch.setenv("MUSLTOOL_MIRRORS", "ftp://old/")
    with pytest.raises(UsageError, match="mirror 'ftp://old/' is not an https, http, file URL"):
        fetch_options()


def test_a_server_that_ignores_range_is_written_from_byte_0(server, tmp_path, capsys):
    server.drop_after[NAME] = 1_000_000
    server.ignore_range.add(NAME)
    assert fetch(source(server), options(tmp_path, server.url())).read_bytes() == PAYLOAD
    assert server.gets[NAME] == 2 and len(server.ranges) == 1
    assert "downloading again" not in capsys.readouterr().err


def bar_output(server, tmp_path, capsys, monkeypatch, tty: bool, **kw) -> str:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty)
    fetch(source(server), FetchOptions(mirrors=(server.url(),), cache=tmp_path / str(len(kw)) / str(tty), **kw))
    return capsys.readouterr().err


def test_the_progress_bar_shows_on_a_terminal_unless_quiet(server, tmp_path, capsys, monkeypatch):
    shown = bar_output(server, tmp_path, capsys, monkeypatch, True)
    assert f"{NAME}:   0%" in shown and "/3.00M " in shown  # the size in binary units
    assert "\n" not in shown.split("fetched")[0]  # left no bar line behind
    assert NAME not in bar_output(server, tmp_path, capsys, monkeypatch, False).split("fetched")[0]
    assert NAME not in bar_output(server, tmp_path, capsys, monkeypatch, True, quiet=True).split("fetched")[0]


def test_the_progress_bar_can_be_forced_on_or_off(server, tmp_path, capsys, monkeypatch):
    forced = bar_output(server, tmp_path, capsys, monkeypatch, False, progress=True)
    assert f"{NAME}:   0%" in forced
    off = bar_output(server, tmp_path, capsys, monkeypatch, True, progress=False, quiet=False, offline=False)
    assert "0%" not in off


def test_sources_and_options_are_frozen_with_their_defaults():
    import dataclasses

    from musltool.fetch import STALL_TIMEOUT, fetch_options

    defaults = FetchOptions()
    assert (defaults.quiet, defaults.offline, defaults.attempts_per_url, defaults.stall_timeout) == (False, False, 3, 20)
    assert STALL_TIMEOUT == 20
    assert fetch_options().quiet is False
    for thing in (defaults, Source("u", "h")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            thing.url = "x"  # type: ignore[misc]


def test_a_file_mirror_with_wrong_bytes_is_not_read_twice(server, tmp_path, capsys):
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / NAME).write_bytes(PAYLOAD[:-1] + b"X")
    assert fetch(source(server), options(tmp_path / "c", folder.as_uri())).read_bytes() == PAYLOAD
    err = capsys.readouterr().err
    assert "downloading again" not in err and err.count("sha256 mismatch") == 1
