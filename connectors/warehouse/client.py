"""Connecting to the warehouse: chDB in-process (``chdb:///path``) or a ClickHouse server (``http(s)://``).

Both go through clickhouse-connect, so the same insert and query code runs on either.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import clickhouse_connect

_lock = threading.Lock()
_embedded: dict[str, Any] = {}


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or refused a statement."""


def default_dsn(data_dir: Path) -> str:
    """The embedded warehouse DSN for a data directory (``chdb:///<data dir>/warehouse``)."""
    return f"chdb://{(data_dir / 'warehouse').resolve()}"


def resolve_dsn(dsn: str, data_dir: Path) -> str:
    """Turn an empty DSN into the embedded default and make a chdb path absolute.

    Args:
        dsn: The configured DSN (may be empty).
        data_dir: Directory holding local state.

    Returns:
        A DSN clickhouse-connect accepts.
    """
    if not dsn:
        return default_dsn(data_dir)
    if dsn.startswith("chdb://") and not dsn.startswith("chdb:///") and dsn != "chdb://memory":
        return f"chdb://{Path(dsn[len('chdb://'):]).resolve()}"
    return dsn


def read_secret(path: str, what: str) -> str:
    """A credential from a file: its first line, without the line break.

    Errors name the file, never its content.

    Raises:
        WarehouseError: When the file cannot be read.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise WarehouseError(f"cannot read {what} file {path}: {exc.strerror}") from None
    return lines[0] if lines else ""


def server_options(password_file: str = "", secure: bool = False, verify: bool = True, ca_cert: str = "",
                   client_cert: str = "", client_cert_key: str = "") -> dict[str, Any]:
    """The clickhouse-connect arguments of a server connection besides its DSN: password from a file, TLS.

    Args:
        password_file: File holding the password (overrides a password in the DSN; keeps it out of the DSN).
        secure: Use TLS (also implied by an ``https://`` DSN).
        verify: Verify the server certificate.
        ca_cert: CA bundle (PEM) to verify the server against (``certifi`` for certifi's bundle).
        client_cert: Client certificate (PEM) for mutual TLS.
        client_cert_key: The client certificate's private key (PEM), when not inside ``client_cert``.

    Returns:
        Keyword arguments for ``clickhouse_connect.get_client`` (only the ones set).
    """
    opts: dict[str, Any] = {"verify": verify}
    if password_file:
        opts["password"] = read_secret(password_file, "warehouse password")
    if secure:
        opts["secure"] = True
    for name, value in (("ca_cert", ca_cert), ("client_cert", client_cert), ("client_cert_key", client_cert_key)):
        if value:
            opts[name] = value
    return opts


def connect(dsn: str, options: Mapping[str, Any] | None = None) -> Any:
    """A clickhouse-connect client for the DSN.

    chDB allows one engine path per process, so embedded clients are shared per path.

    Args:
        dsn: ``chdb:///abs/path``, ``chdb://memory`` or ``http(s)://user:pass@host:port``.
        options: Further arguments of a server connection (:func:`server_options`); unused by chDB.

    Returns:
        A ``clickhouse_connect`` client.

    Raises:
        WarehouseError: When the warehouse cannot be opened.
    """
    parsed = urlparse(dsn)
    try:
        if parsed.scheme == "chdb":
            with _lock:
                client = _embedded.get(dsn)
                if client is None:
                    if parsed.path and parsed.path != "/":
                        Path(parsed.path).mkdir(parents=True, exist_ok=True)
                    client = clickhouse_connect.get_client(dsn=dsn)
                    _embedded[dsn] = client
                return client
        if parsed.scheme in ("http", "https"):
            return clickhouse_connect.get_client(dsn=dsn, **dict(options or {}))
    except Exception as exc:  # clickhouse-connect raises several unrelated types
        raise WarehouseError(f"cannot open warehouse {redact(dsn)}: {exc}") from exc
    raise WarehouseError(f"unsupported warehouse DSN {redact(dsn)!r}: use chdb:///path or http(s)://host:port")


def redact(dsn: str) -> str:
    """The DSN without its password, for messages and logs."""
    parsed = urlparse(dsn)
    if parsed.password:
        return dsn.replace(f":{parsed.password}@", ":***@")
    return dsn
