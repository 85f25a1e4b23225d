"""A misbehaving outlet on 127.0.0.1: serves ROOT/<host>/<path> like newsdiff.replay, except
for the paths given a fault (a status, a hang, a reset or truncated body, a redirect, huge or
non-HTML bodies). Map hosts to it with NEWSDIFF_HOST_MAP, as with the replay server."""

from __future__ import annotations

import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

Fault = Callable[["_Handler"], None]


def status(code: int, body: bytes = b"error", headers: dict[str, str] | None = None) -> Fault:
    def fault(h: _Handler) -> None:
        h.send_response(code)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return fault


def content(body: bytes, content_type: str = "text/html") -> Fault:
    return status(200, body, {"Content-Type": content_type})


def redirect(location: str, code: int = 301) -> Fault:
    return status(code, b"", {"Location": location})


def hang(h: _Handler) -> None:
    """Accept the request and never answer (until the server stops)."""
    h.server.stopping.wait()


def reset_mid_body(body: bytes) -> Fault:
    """Send the headers and half the body, then reset the connection (RST, not FIN)."""

    def fault(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[: len(body) // 2])
        h.wfile.flush()
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
        h.close_connection = True

    return fault


def truncated(body: bytes) -> Fault:
    """Claim more bytes than are sent, then close the connection cleanly."""

    def fault(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body) * 2))
        h.end_headers()
        h.wfile.write(body)
        h.close_connection = True

    return fault


def huge(size: int, declare_length: bool = True) -> Fault:
    """An HTML page of `size` bytes, streamed (with or without a Content-Length)."""

    def fault(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        if declare_length:
            h.send_header("Content-Length", str(size))
        h.end_headers()
        chunk = b"<p>" + b"x" * 1020 + b"</p>"
        try:
            for _ in range(size // len(chunk)):
                h.wfile.write(chunk)
            h.wfile.write(b" " * (size % len(chunk)))
        except OSError:  # the client gave up, as it should
            pass
        h.close_connection = True

    return fault


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer

    def log_message(self, format, *args):  # noqa: A002 - silence per-request logging
        pass

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        path = unquote(urlsplit(self.path).path)
        self.server.hits[path] += 1
        fault = self.server.faults.get(path)
        if fault is not None:
            fault(self)
            return
        file = self.server.root / host / path.lstrip("/")
        if not file.is_file():
            self.send_error(404)
            return
        body = file.read_bytes()
        kind = "application/xml" if file.suffix == ".xml" else "text/html"
        status(200, body, {"Content-Type": kind})(self)


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = Path(root)
        self.faults: dict[str, Fault] = {}  # path -> what to do instead of serving the file
        self.hits: Counter[str] = Counter()  # path -> requests received
        self.stopping = threading.Event()

    @property
    def address(self) -> str:
        return f"{self.server_address[0]}:{self.server_address[1]}"

    def host_map(self) -> dict[str, str]:
        return {p.name: self.address for p in self.root.iterdir() if p.is_dir()}

    def start(self) -> FaultServer:
        # poll_interval: stop() returns within 0.05 s instead of 0.5
        threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
