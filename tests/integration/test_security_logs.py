"""No secret in a run's output: a flow run with a warehouse password (in the DSN, or from a password file) and a
Kafka SASL password, at verbose logging and with librdkafka's configuration and security debugging on, never
prints the password; the server side shows the password did reach the client library."""

from __future__ import annotations

import base64
import signal
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from connectors.simulate.campaign import simulate_campaign
from flows.config import load_config
from tests.integration.faults_support import child_env, run_command

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datetime import UTC, datetime

    out = tmp_path_factory.mktemp("sec_replay")
    simulate_campaign(load_config(environ={}), out, datetime(2026, 3, 1, 6, tzinfo=UTC), seed=7)
    return out


@pytest.fixture
def refusing_clickhouse() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server answering every request as ClickHouse does a wrong password; yields its address and
    the credentials it received."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _refuse(self) -> None:
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                received.append(base64.b64decode(auth[6:]).decode())
            received.append(self.headers.get("X-ClickHouse-Key", ""))
            body = b"Code: 516. DB::Exception: writer: Authentication failed. (AUTHENTICATION_FAILED)\n"
            self.send_response(516)
            self.send_header("X-ClickHouse-Exception-Code", "516")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _refuse  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()


def run_cli(args: list[str], env: dict[str, str], tmp_path: Path, seconds: float = 120.0) -> tuple[int | None, str]:
    """Run ``quaywatch -v ARGS`` (stopped after ``seconds``); returns the exit code (None: stopped) and output."""
    log = tmp_path / "run.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen([args[0], args[1], args[2], "-v", *args[3:]], env=child_env(env), cwd=ROOT,
                                stdout=fh, stderr=subprocess.STDOUT)
        try:
            rc: int | None = proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            rc = None
    return rc, log.read_text(errors="replace")


def test_a_password_in_the_warehouse_dsn_is_never_printed(replay, tmp_path):
    password = "Dsn-Pw-8812"
    cmd = [*run_command("meters", f"file:{replay}", tmp_path / "d", recovery=False),
           "--warehouse", f"http://writer:{password}@127.0.0.1:9"]
    rc, out = run_cli(cmd, {}, tmp_path)
    assert rc not in (0, None) and "cannot open warehouse http://writer:***@127.0.0.1:9" in out
    assert password not in out


def test_a_warehouse_password_file_reaches_the_server_and_never_the_output(replay, refusing_clickhouse, tmp_path):
    address, received = refusing_clickhouse
    password = "File-Pw-5531"
    (tmp_path / "ch.secret").write_text(password + "\n")
    cmd = [*run_command("meters", f"file:{replay}", tmp_path / "d", recovery=False),
           "--warehouse", f"http://writer@{address}"]
    rc, out = run_cli(cmd, {"QUAYWATCH__WAREHOUSE__PASSWORD_FILE": str(tmp_path / "ch.secret")}, tmp_path)
    assert rc not in (0, None) and "Authentication failed" in out
    assert any(password in r for r in received)  # the client library got it...
    assert password not in out  # ...and nothing printed it


def test_a_kafka_sasl_password_is_never_printed(kafka_broker, tmp_path):
    password = "Kafka-Pw-4470"
    (tmp_path / "kafka.secret").write_text(password + "\n")
    env = {"QUAYWATCH__KAFKA__CLIENT__SECURITY.PROTOCOL": "SASL_PLAINTEXT",
           "QUAYWATCH__KAFKA__CLIENT__SASL.MECHANISM": "PLAIN", "QUAYWATCH__KAFKA__CLIENT__SASL.USERNAME": "qw",
           "QUAYWATCH__KAFKA__CLIENT__DEBUG": "conf,security,broker",
           "QUAYWATCH__KAFKA__SASL_PASSWORD_FILE": str(tmp_path / "kafka.secret")}
    # the local broker speaks no SASL: the flow keeps trying to connect, logging every attempt, until stopped
    rc, out = run_cli(run_command("meters", f"kafka://{kafka_broker}", tmp_path / "d", recovery=False), env, tmp_path,
                      seconds=15.0)
    assert "sasl.password = [redacted]" in out and "SASL" in out  # configured, and its settings were logged
    assert password not in out
    assert rc != 0
