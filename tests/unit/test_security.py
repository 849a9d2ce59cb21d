"""Security basics: no secret in the repository, credentials from files or the environment, TLS/SASL options
passed through to the Kafka and ClickHouse clients (checked on the settings handed to the real client libraries)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from connectors import kafka_io
from connectors.kafka_io import client_settings
from connectors.warehouse import client as wh_client
from connectors.warehouse.client import WarehouseError, connect
from flows.config import load_config
from flows.run import RunOptions, build, run_flow, warehouse_options

ROOT = Path(__file__).resolve().parents[2]
#: Patterns of secrets: private keys, cloud/VCS tokens, credentials assigned in code/config, passwords in URLs.
SECRET_PATTERNS = [re.compile(p, re.IGNORECASE) for p in (
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r"\bAKIA[0-9A-Z]{16}\b",
    r"\bgh[pousr]_[A-Za-z0-9]{30,}",
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
    r"""(?:password|passwd|secret|token|api_?key)["']?\s*[=:]\s*["'](?P<value>[^"'\s]{4,})["']""",
    r"""[a-z][a-z0-9+.-]*://[^/\s:@"']+:(?P<value>[^@\s/"']{3,})@""",
)]
#: Values that are placeholders, not secrets: documentation examples and the tests' obviously fake values.
PLACEHOLDERS = {"pass", "***", "secret", "s3cret", "password"}
#: Files that plant fake secrets on purpose (to prove the scanner and the log redaction find them).
PLANTED = {"tests/unit/test_security.py", "tests/integration/test_security_logs.py"}


def secret_hits(text: str) -> list[str]:
    hits = []
    for pattern in SECRET_PATTERNS:
        for m in pattern.finditer(text):
            value = m.groupdict().get("value")
            if value is not None and (value.lower() in PLACEHOLDERS or value[0] in "${"):
                continue  # a placeholder, or a reference to the environment (${VAR}, $(VAR))
            hits.append(m.group(0))
    return hits


def test_the_scanner_finds_planted_secrets_and_ignores_placeholders():
    planted = ['dsn = "http://writer:Xk9-q2Lm@ch:8123"', 'password = "hunter22"', "AKIAABCDEFGHIJKLMNOP",
               "-----BEGIN RSA PRIVATE KEY-----", '"sasl.password": "Zq81!pw"']
    for text in planted:
        assert secret_hits(text), text
    for text in ('dsn = "http://user:${QUAYWATCH_WRITER_PASSWORD}@ch:8123"', "http://user:pass@host:8123",
                 'password_file = "/run/secrets/ch"'):
        assert not secret_hits(text), text


def test_no_secret_in_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert len(files) > 100
    found = {}
    for name in files:
        if name in PLANTED:
            continue
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files (images, fonts)
        if hits := secret_hits(text):
            found[name] = hits
    assert not found


def secret_file(tmp_path: Path, value: str) -> str:
    path = tmp_path / "secret"
    path.write_text(value + "\n")
    return str(path)


def test_clickhouse_server_gets_the_password_file_and_tls_options(tmp_path, monkeypatch):
    env = {"QUAYWATCH__WAREHOUSE__PASSWORD_FILE": secret_file(tmp_path, "ch-Pw-7731"),
           "QUAYWATCH__WAREHOUSE__SECURE": "true", "QUAYWATCH__WAREHOUSE__VERIFY": "true",
           "QUAYWATCH__WAREHOUSE__CA_CERT": "/etc/quaywatch/ca.pem",
           "QUAYWATCH__WAREHOUSE__CLIENT_CERT": "/etc/quaywatch/client.pem",
           "QUAYWATCH__WAREHOUSE__CLIENT_CERT_KEY": "/etc/quaywatch/client.key"}
    cfg = load_config(environ=env)
    calls: list[dict[str, Any]] = []

    def fake_get_client(**kwargs: Any) -> object:
        calls.append(kwargs)
        return object()

    monkeypatch.setattr(wh_client.clickhouse_connect, "get_client", fake_get_client)
    connect("https://writer@ch.example:8443", warehouse_options(cfg))
    assert calls == [{"dsn": "https://writer@ch.example:8443", "password": "ch-Pw-7731", "secure": True,
                      "verify": True, "ca_cert": "/etc/quaywatch/ca.pem", "client_cert": "/etc/quaywatch/client.pem",
                      "client_cert_key": "/etc/quaywatch/client.key"}]


def test_a_flow_run_hands_the_options_to_the_warehouse_client(tmp_path, monkeypatch):
    cfg = load_config(environ={"QUAYWATCH__WAREHOUSE__PASSWORD_FILE": secret_file(tmp_path, "run-Pw-1"),
                               "QUAYWATCH__WAREHOUSE__VERIFY": "false"})
    calls: list[dict[str, Any]] = []

    def refusing_get_client(**kwargs: Any) -> object:
        calls.append(kwargs)
        raise ConnectionError("no server here")

    monkeypatch.setattr(wh_client.clickhouse_connect, "get_client", refusing_get_client)
    with pytest.raises(WarehouseError) as err:
        run_flow("meters", cfg, RunOptions(f"file:{tmp_path}", "http://writer@127.0.0.1:1", tmp_path))
    assert calls == [{"dsn": "http://writer@127.0.0.1:1", "password": "run-Pw-1", "verify": False}]
    assert "run-Pw-1" not in str(err.value)


def test_an_unreadable_password_file_is_named_and_nothing_is_connected(tmp_path):
    cfg = load_config(environ={"QUAYWATCH__WAREHOUSE__PASSWORD_FILE": str(tmp_path / "missing")})
    with pytest.raises(WarehouseError, match=r"cannot read warehouse password file .*missing"):
        warehouse_options(cfg)


def test_kafka_consumers_and_producers_get_tls_and_sasl_settings(tmp_path, monkeypatch):
    env = {"QUAYWATCH__KAFKA__CLIENT__SECURITY.PROTOCOL": "SASL_SSL",
           "QUAYWATCH__KAFKA__CLIENT__SASL.MECHANISM": "SCRAM-SHA-512",
           "QUAYWATCH__KAFKA__CLIENT__SASL.USERNAME": "quaywatch",
           "QUAYWATCH__KAFKA__CLIENT__SSL.CA.LOCATION": "/etc/quaywatch/kafka-ca.pem",
           "QUAYWATCH__KAFKA__SASL_PASSWORD_FILE": secret_file(tmp_path, "kafka-Pw-42")}
    cfg = load_config(environ=env)
    want = {"fetch.wait.max.ms": "10", "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": "quaywatch", "ssl.ca.location": "/etc/quaywatch/kafka-ca.pem",
            "sasl.password": "kafka-Pw-42"}
    seen: list[tuple[str, dict[str, str]]] = []
    real_input, real_output = kafka_io.checked_input, kafka_io.kop.output

    def spy_input(*args: Any, **kwargs: Any) -> Any:
        seen.append(("consumer", dict(kwargs["add_config"])))
        return real_input(*args, **kwargs)

    def spy_output(*args: Any, **kwargs: Any) -> Any:
        seen.append(("producer", dict(kwargs["add_config"])))
        return real_output(*args, **kwargs)

    monkeypatch.setattr(kafka_io, "checked_input", spy_input)
    monkeypatch.setattr(kafka_io.kop, "output", spy_output)
    build("meters", cfg, RunOptions("kafka://127.0.0.1:1"), sink=None)  # type: ignore[arg-type]
    kinds = [k for k, _c in seen]
    assert kinds.count("consumer") == 1 and kinds.count("producer") == 2  # dead letters and alerts
    for _kind, config in seen:
        assert {k: config[k] for k in want} == want


def test_kafka_password_file_errors_name_the_file_only(tmp_path):
    with pytest.raises(ValueError, match="cannot read the Kafka SASL password file"):
        client_settings({}, str(tmp_path / "missing"))
    assert client_settings({"a": "b"}) == {"a": "b"}
