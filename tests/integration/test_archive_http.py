"""``quaywatch archive serve``: the gate board's frame links answered over real HTTP, read-only, verified."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.archive import FrameArchive
from connectors.archive_http import archive_server, key_of, serve_in_thread

pytestmark = pytest.mark.integration
TS = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.fixture
def served(tmp_path):
    archive = FrameArchive(tmp_path / "archive")
    frames = [archive.put(bytes([i]) * 1000 + b"\xff\xd9", TS) for i in range(3)]
    server = archive_server(archive, "127.0.0.1", 0)
    serve_in_thread(server)
    host, port = server.server_address[:2]
    yield f"http://{host!s}:{port}", archive, frames
    server.shutdown()
    server.server_close()


def test_a_frame_link_returns_the_exact_bytes(served):
    base, _archive, frames = served
    for key in frames:
        status, headers, body = fetch(f"{base}/{key[:2]}/{key[2:4]}/{key}.jpg")  # the board's link layout
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        assert hashlib.sha256(body).hexdigest() == key  # content-addressed: the key is the digest
        assert headers["ETag"] == f'"{key}"'
        assert fetch(f"{base}/{key}")[2] == body
    status, headers, body = fetch(f"{base}/{frames[0]}", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) == 1002
    assert fetch(f"{base}/{frames[0]}", headers={"If-None-Match": f'"{frames[0]}"'})[0] == 304


def test_unknown_malformed_and_altered_frames_are_not_served(served):
    base, archive, frames = served
    missing = hashlib.sha256(b"never archived").hexdigest()
    assert fetch(f"{base}/{missing}")[0] == 404
    key = frames[1]
    for path in (f"/{key[2:4]}/{key[:2]}/{key}.jpg", "/../../etc/passwd", f"/{key.upper()}", "/", f"/{key}.png"):
        assert fetch(base + path)[0] == 404, path
    archive.path(frames[2]).write_bytes(b"altered")  # tampering behind the archive's back
    status, _h, body = fetch(f"{base}/{frames[2]}")
    assert status == 409 and b"does not match" in body


def test_the_archive_is_read_only(served):
    base, archive, frames = served
    before = archive.path(frames[0]).read_bytes()
    for method in ("PUT", "POST", "DELETE"):
        status, headers, _b = fetch(f"{base}/{frames[0]}", method=method)
        assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert archive.path(frames[0]).read_bytes() == before


def test_key_of_paths():
    key = "ab" + "cd" + "0" * 60
    assert key_of(f"/ab/cd/{key}.jpg") == key and key_of(f"/{key}?x=1") == key
    assert key_of(f"/cd/ab/{key}.jpg") is None and key_of("/ab/cd/x.jpg") is None


def test_quaywatch_archive_serve_command(tmp_path: Path):
    archive = FrameArchive(tmp_path / "archive")
    key = archive.put(b"\xff\xd8frame\xff\xd9", TS)
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "archive", "serve", "--archive-dir",
                             str(tmp_path / "archive"), "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        base = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        assert base, line
        status, _h, body = fetch(f"{base.group(1)}/{key[:2]}/{key[2:4]}/{key}.jpg")
        assert (status, body) == (200, b"\xff\xd8frame\xff\xd9")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
