"""A real HTTP server on 127.0.0.1 for download tests: Range support, 404s, dropped transfers."""

from __future__ import annotations

import ssl
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackServer:
    """Serves `files` (name -> bytes) at http://127.0.0.1:<port>/<prefix>/<name>.

    `drop_after[name] = n` makes the next full or ranged transfer of `name` close the
    connection after n bytes (once); `always_drop_after[name] = n` does it every time.
    `stall_after[name] = n` sends n bytes, then nothing for `stall_seconds`.
    `resume_files[name]` is what a Range request for `name` is served from (a changed file).
    `ignore_range[name]` answers a Range request with the whole file (200), as some servers do.
    `fail_with[name]` is a list of HTTP statuses answered (one each, in order) before the file.
    `gets` counts requests per name; `paths` lists every request path in order; `ranges` lists
    the Range headers received. With `tls` (an SSL server context) it serves https.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.files: dict[str, bytes] = {}
        self.drop_after: dict[str, int] = {}
        self.always_drop_after: dict[str, int] = {}
        self.stall_after: dict[str, int] = {}
        self.stall_seconds = 30.0
        self.resume_files: dict[str, bytes] = {}
        self.fail_with: dict[str, list[int]] = {}
        self.ignore_range: set[str] = set()
        self.agents: list[str] = []
        self.gets: Counter[str] = Counter()
        self.paths: list[str] = []
        self.ranges: list[str] = []
        self.delay = 0.0  # seconds before each body is sent
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                server.gets[name] += 1
                server.paths.append(self.path)
                server.agents.append(self.headers.get("User-Agent", ""))
                if server.fail_with.get(name):
                    self.send_response(server.fail_with[name].pop(0))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = server.files.get(name)
                if data is None or "/missing/" in self.path:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                header = self.headers.get("Range")
                if header and name in server.ignore_range:
                    server.ranges.append(header)
                    header = None
                if header:
                    server.ranges.append(header)
                    data = server.resume_files.get(name, data)
                    start = int(header.split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                time.sleep(server.delay)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                stall = server.stall_after.get(name)
                if stall is not None:
                    self.wfile.write(body[:stall])
                    self.wfile.flush()
                    time.sleep(server.stall_seconds)
                    return
                cut = server.drop_after.pop(name, server.always_drop_after.get(name))
                if cut is not None:
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.scheme = "https" if tls else "http"
        if tls:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, prefix: str = "mirror") -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}/{prefix}"

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
