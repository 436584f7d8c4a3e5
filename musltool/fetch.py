"""One download layer for toolchains and sources, with Buildroot's discipline.

Every file has a pinned sha256. Mirrors are tried in order, then the upstream URL. A download
streams to `<file>.part` (resumed with an HTTP Range request when a previous attempt left one),
is hashed, and only then renamed into the cache; a mismatch deletes it and tries the next
mirror. A lock per file makes concurrent runs share one download.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from filelock import FileLock
from requests.adapters import HTTPAdapter
from tqdm import tqdm
from urllib3.util.retry import Retry

from musltool import settings
from musltool.errors import DownloadError
from musltool.util import log, sha256_file

CONNECT_TIMEOUT = 15
READ_TIMEOUT = 60
CHUNK = 1 << 16


@dataclass(frozen=True)
class Source:
    """A file to fetch: its upstream URL, pinned hash and the name it is cached under."""

    url: str
    sha256: str

    @property
    def filename(self) -> str:
        return Path(urllib.parse.urlparse(self.url).path).name


@dataclass(frozen=True)
class FetchOptions:
    mirrors: tuple[str, ...] = ()
    offline: bool = False
    quiet: bool = False  # no progress bar even on a terminal
    cache: Path | None = None
    progress: bool | None = None  # force the bar on or off; None: on a terminal unless quiet
    attempts_per_url: int = 3  # a dropped transfer that made progress is resumed this often


def default_options(config_mirrors: list[str] | None = None, quiet: bool = False) -> FetchOptions:
    """Mirrors from invoke's config (musltool.mirrors), then MUSLTOOL_MIRRORS; offline from env."""
    mirrors = [*(config_mirrors or []), *settings.env_mirrors()]
    return FetchOptions(tuple(dict.fromkeys(mirrors)), settings.offline(), quiet)


def downloads_dir(options: FetchOptions) -> Path:
    path = (options.cache or settings.cache_dir()) / "downloads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def candidate_urls(source: Source, mirrors: tuple[str, ...]) -> list[str]:
    """Each mirror's copy (mirror base + file name), then upstream."""
    return [f"{m.rstrip('/')}/{source.filename}" for m in mirrors] + [source.url]


def session() -> requests.Session:
    retry = Retry(
        total=4,
        connect=3,
        read=3,
        status=3,
        backoff_factor=0.5,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,
    )
    sess = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    sess.mount("http://", adapter)
    sess.mount("https://", adapter)
    sess.headers["User-Agent"] = "musltool"
    return sess


def _progress(total: int | None, initial: int, name: str, options: FetchOptions) -> tqdm:
    show = options.progress
    if show is None:
        show = not options.quiet and sys.stderr.isatty()
    return tqdm(
        total=total,
        initial=initial,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=name,
        disable=not show,
        leave=False,
        file=sys.stderr,
        mininterval=0.2,
    )


def _http_download(url: str, part: Path, name: str, options: FetchOptions) -> None:
    """Stream `url` into `part`, resuming with Range when `part` already holds a prefix."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    with session().get(
        url, stream=True, headers=headers, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
    ) as response:
        if response.status_code == 416 and have:  # nothing left to send: part is complete
            return
        response.raise_for_status()
        resumed = have and response.status_code == 206
        length = int(response.headers.get("Content-Length", 0)) or None
        total = (have + length if resumed else length) if length else None
        with (
            part.open("ab" if resumed else "wb") as out,
            _progress(total, have if resumed else 0, name, options) as bar,
        ):
            for block in response.iter_content(CHUNK):
                out.write(block)
                bar.update(len(block))
    size = part.stat().st_size
    if total is not None and size < total:
        raise requests.ConnectionError(f"transfer ended at {size} of {total} bytes")


def _file_copy(url: str, part: Path) -> None:
    path = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
    with path.open("rb") as src, part.open("wb") as out:
        shutil.copyfileobj(src, out, CHUNK)


def _download(url: str, part: Path, name: str, options: FetchOptions) -> None:
    """One candidate URL; a transfer dropped after some progress is resumed with Range."""
    if urllib.parse.urlparse(url).scheme == "file":
        _file_copy(url, part)
        return
    for attempt in range(1, options.attempts_per_url + 1):
        before = part.stat().st_size if part.exists() else 0
        try:
            _http_download(url, part, name, options)
            return
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
            grew = part.exists() and part.stat().st_size > before
            if not grew or attempt == options.attempts_per_url:
                raise
            log(f"{name}: transfer dropped at {part.stat().st_size} bytes, resuming")


def _verified(path: Path, expected: str) -> tuple[bool, str]:
    got = sha256_file(path)
    return got == expected.lower(), got


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    with FileLock(str(target) + ".lock"):
        yield


def fetch(
    source: Source, options: FetchOptions | None = None, trust_unpinned: bool = False
) -> Path:
    """The cached, hash-checked file for `source`, downloading it if needed.

    A source without a hash is refused unless `trust_unpinned` says the caller records the
    hash of whatever arrives (trust on first use, done on purpose).
    """
    options = options or default_options()
    if not source.sha256 and not trust_unpinned:
        raise DownloadError(f"{source.filename} has no pinned sha256: refusing to use it")
    target = downloads_dir(options) / source.filename
    with _locked(target):
        if target.exists() and not source.sha256:
            return target
        if target.exists():
            ok, got = _verified(target, source.sha256)
            if ok:
                return target
            log(f"cached {target.name} has sha256 {got}, expected {source.sha256}: deleted")
            target.unlink()
        if options.offline:
            raise DownloadError(f"{source.filename} is not cached and MUSLTOOL_OFFLINE is set")
        part = target.with_name(target.name + ".part")
        try:
            return _fetch_from_candidates(source, target, part, options)
        finally:
            part.unlink(missing_ok=True)  # failure or Ctrl-C: the cache stays clean


def _fetch_from_candidates(source: Source, target: Path, part: Path, options: FetchOptions) -> Path:
    failures: list[str] = []
    for url in candidate_urls(source, options.mirrors):
        try:
            _download(url, part, source.filename, options)
        except (requests.RequestException, OSError) as exc:
            failures.append(f"{url}: {_short(exc)}")
            continue  # a partial file stays for a Range resume from the next candidate
        ok, got = _verified(part, source.sha256) if source.sha256 else (True, "")
        if ok:
            os.replace(part, target)
            log(f"fetched {source.filename} from {url}")
            return target
        part.unlink()
        message = f"{url}: sha256 mismatch, expected {source.sha256}, got {got}"
        log(message + " (deleted)")
        failures.append(message)
    raise DownloadError(f"could not fetch {source.filename}: " + "; ".join(failures))


def _short(exc: Exception) -> str:
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
