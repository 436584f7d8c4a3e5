"""Loopback download throughput of musltool's download layer, progress bar on and off.

Serves a random archive (default 256 MB) from a real HTTP server on 127.0.0.1 and fetches it
through musltool.fetch (streaming, hashing, atomic rename) into a fresh cache each round.
Prints MB/s for each mode and the ratio. Usage: python benchmarks/download_throughput.py [MB]
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musltool.fetch import FetchOptions, Source, fetch
from tests.loopback import LoopbackServer

ROUNDS = 3


def one_fetch(server: LoopbackServer, name: str, sha: str, progress: bool) -> float:
    with tempfile.TemporaryDirectory() as cache:
        options = FetchOptions(mirrors=(server.url(),), cache=Path(cache), progress=progress)
        start = time.perf_counter()
        with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
            fetch(Source(f"{server.url('upstream')}/{name}", sha), options)
        return time.perf_counter() - start


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    data = os.urandom(size_mb * 1024 * 1024)
    sha = hashlib.sha256(data).hexdigest()
    name = "bench-toolchain.tar.xz"
    with LoopbackServer() as server:
        server.files[name] = data
        results = {}
        for progress in (False, True, False, True):  # interleaved against drift
            times = [one_fetch(server, name, sha, progress) for _ in range(ROUNDS)]
            results.setdefault(progress, []).extend(times)
    print(f"archive: {size_mb} MiB over loopback HTTP, {2 * ROUNDS} fetches per mode")
    rates = {}
    for progress, times in results.items():
        best, median = min(times), statistics.median(times)
        rates[progress] = size_mb / median
        label = "progress on " if progress else "progress off"
        print(f"{label}: median {median:.2f}s ({rates[progress]:.0f} MiB/s), best {best:.2f}s")
    print(f"ratio on/off throughput: {rates[True] / rates[False]:.3f}")


if __name__ == "__main__":
    main()
