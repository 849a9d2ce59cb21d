"""``dashboards push`` against a local HTTP STUB (no Grafana can run here): it records the requests and
answers like Grafana's documented HTTP API (folders, datasources, dashboards/db). It checks the request
shapes and idempotency only; that a real Grafana accepts them is not proven here."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dashboards.build import JSON_DIR
from dashboards.push import push


class Stub:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.folders: dict[str, dict[str, Any]] = {}
        self.datasources: dict[str, dict[str, Any]] = {}
        self.dashboards: dict[str, dict[str, Any]] = {}


def handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def reply(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def handle_any(self, method: str) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(n)) if n else None
            stub.requests.append((method, self.path, dict(self.headers), body))
            p = self.path
            if method == "GET" and p.startswith("/api/folders/"):
                uid = p.rsplit("/", 1)[1]
                return self.reply(200, stub.folders[uid]) if uid in stub.folders else self.reply(
                    404, {"message": "folder not found"})
            if method == "POST" and p == "/api/folders":
                if "title" not in body:
                    return self.reply(400, {"message": "title required"})
                stub.folders[body["uid"]] = body
                return self.reply(200, {"uid": body["uid"], "title": body["title"]})
            if method == "GET" and p.startswith("/api/datasources/uid/"):
                uid = p.rsplit("/", 1)[1]
                return self.reply(200, stub.datasources[uid]) if uid in stub.datasources else self.reply(
                    404, {"message": "Data source not found"})
            if method in ("POST", "PUT") and p.startswith("/api/datasources"):
                if not {"name", "type", "access"} <= set(body):
                    return self.reply(400, {"message": "bad datasource"})
                stub.datasources[body["uid"]] = body
                return self.reply(200, {"message": "Datasource added", "datasource": body})
            if method == "POST" and p == "/api/dashboards/db":
                d = body.get("dashboard", {})
                if "uid" not in d or "title" not in d or body.get("folderUid") not in stub.folders:
                    return self.reply(400, {"message": "bad dashboard"})
                if d["uid"] in stub.dashboards and not body.get("overwrite"):
                    return self.reply(412, {"status": "name-exists"})
                stub.dashboards[d["uid"]] = d
                return self.reply(200, {"status": "success", "uid": d["uid"], "version": 1})
            return self.reply(404, {"message": "not found"})

        def do_GET(self) -> None:
            self.handle_any("GET")

        def do_POST(self) -> None:
            self.handle_any("POST")

        def do_PUT(self) -> None:
            self.handle_any("PUT")

    return H


@pytest.fixture
def grafana_stub():
    stub = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(stub))
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", stub
    server.shutdown()
    server.server_close()


ENV = {"QUAYWATCH_CLICKHOUSE_HOST": "clickhouse", "QUAYWATCH_GRAFANA_CH_PASSWORD": "s3cret"}


def test_push_creates_then_updates_by_uid(grafana_stub):
    url, stub = grafana_stub
    first = push(url, "tok-123", with_datasource=True, environ=ENV)
    files = sorted(p.stem for p in JSON_DIR.glob("*.json"))
    assert first.folder == "created" and first.datasource == "created" and sorted(first.dashboards) == files
    second = push(url, "tok-123", with_datasource=True, environ=ENV)
    assert second.folder == "kept" and second.datasource == "updated"
    assert sorted(stub.dashboards) == files and len(stub.folders) == 1 and len(stub.datasources) == 1

    for _m, _p, headers, _b in stub.requests:
        assert headers["Authorization"] == "Bearer tok-123"
    folder_posts = [r for r in stub.requests if r[0] == "POST" and r[1] == "/api/folders"]
    assert [b for _m, _p, _h, b in folder_posts] == [{"title": "quaywatch", "uid": "quaywatch"}]
    saves = [b for m, p, _h, b in stub.requests if (m, p) == ("POST", "/api/dashboards/db")]
    assert len(saves) == 2 * len(files)
    for body in saves:
        assert body["overwrite"] is True and body["folderUid"] == "quaywatch" and "id" not in body["dashboard"]
        assert body["dashboard"] == json.loads((JSON_DIR / f"{body['dashboard']['uid']}.json").read_text())
    ds = stub.datasources["quaywatch-clickhouse"]
    assert ds["type"] == "grafana-clickhouse-datasource" and ds["jsonData"]["host"] == "clickhouse"
    assert ds["secureJsonData"]["password"] == "s3cret"
    assert [m for m, p, _h, _b in stub.requests if p.startswith("/api/datasources")] == ["GET", "POST", "GET", "PUT"]


def test_push_without_the_datasource_secret_fails_before_sending_it(grafana_stub):
    url, stub = grafana_stub
    with pytest.raises(KeyError, match="QUAYWATCH_GRAFANA_CH_PASSWORD"):
        push(url, "t", with_datasource=True, environ={"QUAYWATCH_CLICKHOUSE_HOST": "ch"})
    assert not stub.datasources
