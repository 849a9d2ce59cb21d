"""Read-only HTTP access to the frame archive, for the gate board's frame links (G4).

``GET /ab/cd/<sha256>.jpg`` (the archive's own layout, so the board's ``${archive_url}/ab/cd/<key>.jpg`` links
work) or ``GET /<sha256>`` returns the frame's bytes, after checking that they still hash to the key: a
corrupted or altered frame is answered ``409`` rather than served. Content-addressed frames never change, so
responses carry the key as a strong ``ETag`` and are cacheable forever. Anything else is ``404``; methods
other than ``GET``/``HEAD`` are ``405``. Nothing is ever written.
"""

from __future__ import annotations

import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from connectors.archive import FrameArchive

_PATH = re.compile(r"^/(?:(?P<a>[0-9a-f]{2})/(?P<b>[0-9a-f]{2})/(?P<k1>[0-9a-f]{64})\.jpg|(?P<k2>[0-9a-f]{64}))$")


def key_of(path: str) -> str | None:
    """The archive key a request path names, or ``None`` (``/ab/cd/<key>.jpg`` must agree with its key)."""
    m = _PATH.match(path.split("?", 1)[0])
    if not m:
        return None
    if m.group("k2"):
        return m.group("k2")
    key = m.group("k1")
    return key if (m.group("a"), m.group("b")) == (key[:2], key[2:4]) else None


class _Handler(BaseHTTPRequestHandler):
    archive: FrameArchive
    server_version = "quaywatch-archive"

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _refuse(self) -> None:
        self._plain(HTTPStatus.METHOD_NOT_ALLOWED, "read-only archive: GET or HEAD\n", allow="GET, HEAD")

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815

    def _serve(self, body: bool) -> None:
        key = key_of(self.path)
        if key is None:
            self._plain(HTTPStatus.NOT_FOUND, "not an archive key: /ab/cd/<sha256>.jpg or /<sha256>\n", body=body)
            return
        if self.headers.get("If-None-Match") == f'"{key}"':
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", f'"{key}"')
            self.end_headers()
            return
        try:
            data = self.archive.get(key)
        except FileNotFoundError:
            self._plain(HTTPStatus.NOT_FOUND, f"frame {key} is not (or no longer) archived\n", body=body)
            return
        except ValueError:
            self._plain(HTTPStatus.CONFLICT, f"archived frame {key} does not match its SHA-256\n", body=body)
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", f'"{key}"')
        self.send_header("Cache-Control", "public, max-age=31536000, immutable")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _plain(self, status: HTTPStatus, text: str, body: bool = True, allow: str = "") -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if allow:
            self.send_header("Allow", allow)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: a busy board requests many frames


def archive_server(archive: FrameArchive, host: str = "127.0.0.1", port: int = 8088) -> ThreadingHTTPServer:
    """A server for the archive, bound but not yet serving (``serve_forever`` or :func:`serve_in_thread`).

    Args:
        archive: The frame archive to read.
        host: Address to bind.
        port: Port to bind (0: any free port, see ``server_address``).
    """
    handler = type("ArchiveHandler", (_Handler,), {"archive": archive})
    return ThreadingHTTPServer((host, port), handler)


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    """Serve on a daemon thread (stop with ``server.shutdown()``)."""
    thread = threading.Thread(target=server.serve_forever, name="archive-http", daemon=True)
    thread.start()
    return thread
