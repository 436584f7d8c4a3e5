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
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from musltool import settings
from musltool.cache import cache_dir
from musltool.errors import DownloadError, UsageError
from musltool.files import sha256_file
from musltool.process import log

CONNECT_TIMEOUT = 15
STALL_TIMEOUT = 20  # seconds without a byte before a source counts as stalled
CHUNK = 1 << 16
MIRROR_SCHEMES = ("https", "http", "file")


@dataclass(frozen=True)
class Source:
    """A file to fetch: its upstream URL, pinned hash and the name it is cached under."""

    url: str
    sha256: str
    top: str | None = None  # the archive's top folder, when it is not its only one

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
    stall_timeout: float = STALL_TIMEOUT  # no byte for this long: the source is skipped


def fetch_options(config_mirrors: object = None, quiet: bool = False) -> FetchOptions:
    """The one place download options are assembled: mirrors from Invoke's config
    (`musltool.mirrors`: a list, or one string of space-separated URLs), then MUSLTOOL_MIRRORS;
    offline from MUSLTOOL_OFFLINE."""
    mirrors = [*config_mirror_list(config_mirrors), *settings.env_mirrors()]
    for mirror in mirrors:
        scheme = urllib.parse.urlparse(mirror).scheme
        if scheme not in MIRROR_SCHEMES:
            raise UsageError(f"mirror {mirror!r} is not an {', '.join(MIRROR_SCHEMES)} URL")
    return FetchOptions(tuple(dict.fromkeys(mirrors)), settings.offline(), quiet)


def config_mirror_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise UsageError(f"musltool.mirrors in the Invoke config must be a list of URLs, not {value!r}")


def downloads_dir(options: FetchOptions) -> Path:
    path = (options.cache or cache_dir()) / "downloads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def candidate_urls(source: Source, mirrors: tuple[str, ...]) -> list[str]:
    """Each mirror's copy (mirror base + file name), then upstream."""
    return [f"{m.rstrip('/')}/{source.filename}" for m in mirrors] + [source.url]


class Stalled(Exception):
    """A source sent nothing for the stall timeout: it is not retried, the next one is asked."""


def session() -> requests.Session:
    # Refused connections and 5xx answers are retried; a source that accepts but sends
    # nothing is not (read=0): it is reported as stalled and the next source is asked.
    retry = Retry(
        total=3,
        connect=2,
        read=0,
        status=2,
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
    try:
        _stream(url, part, name, options, have, headers)
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as exc:
        if _is_stall(exc):
            raise Stalled(f"sent nothing for {options.stall_timeout:.0f}s") from exc
        raise


def _is_stall(exc: BaseException) -> bool:
    # a read timeout comes as urllib3's ReadTimeoutError, itself or as the reason of the
    # MaxRetryError that requests wraps (read=0 retries)
    causes = [*exc.args, *(getattr(arg, "reason", None) for arg in exc.args)]
    return any(isinstance(cause, ReadTimeoutError) for cause in causes)


def _stream(
    url: str, part: Path, name: str, options: FetchOptions, have: int, headers: dict[str, str]
) -> None:
    with session().get(
        url, stream=True, headers=headers, timeout=(CONNECT_TIMEOUT, options.stall_timeout)
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


def _download(url: str, part: Path, name: str, options: FetchOptions) -> bool:
    """One candidate URL from byte 0; a transfer dropped after some progress is resumed with
    Range from the same URL. Whether it was resumed."""
    part.unlink(missing_ok=True)  # never continue what another source sent
    if urllib.parse.urlparse(url).scheme == "file":
        _file_copy(url, part)
        return False
    resumed = False
    for attempt in range(1, options.attempts_per_url + 1):
        before = part.stat().st_size if part.exists() else 0
        try:
            _http_download(url, part, name, options)
            return resumed
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
            grew = part.exists() and part.stat().st_size > before
            if not grew or attempt == options.attempts_per_url:
                raise
            log(f"{name}: transfer from {url} dropped at {part.stat().st_size} bytes, resuming")
            resumed = True
    return resumed


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
    options = options or fetch_options()
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
        for first_try in (True, False):
            try:
                resumed = _download(url, part, source.filename, options)
            except Stalled as exc:
                log(f"{url} {exc}: trying the next source")
                failures.append(f"{url}: stalled ({exc})")
                break
            except (requests.RequestException, OSError) as exc:
                failures.append(f"{url}: {_short(exc)}")
                break
            ok, got = _verified(part, source.sha256) if source.sha256 else (True, "")
            if ok:
                os.replace(part, target)
                log(f"fetched {source.filename} from {url}")
                return target
            part.unlink()
            if resumed and first_try:
                log(f"{url}: sha256 mismatch after a resumed transfer: downloading again from byte 0")
                continue
            message = f"{url}: sha256 mismatch, expected {source.sha256}, got {got}"
            log(message + " (deleted)")
            failures.append(message)
            break
    raise DownloadError(f"could not fetch {source.filename}: " + "; ".join(failures))


def _short(exc: Exception) -> str:
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
