"""Connecting to the warehouse: chDB in-process (``chdb:///path``) or a ClickHouse server (``http(s)://``).

Both go through clickhouse-connect, so the same insert and query code runs on either.
"""

from __future__ import annotations

import threading
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


def connect(dsn: str) -> Any:
    """A clickhouse-connect client for the DSN.

    chDB allows one engine path per process, so embedded clients are shared per path.

    Args:
        dsn: ``chdb:///abs/path``, ``chdb://memory`` or ``http(s)://user:pass@host:port``.

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
            return clickhouse_connect.get_client(dsn=dsn)
    except Exception as exc:  # clickhouse-connect raises several unrelated types
        raise WarehouseError(f"cannot open warehouse {redact(dsn)}: {exc}") from exc
    raise WarehouseError(f"unsupported warehouse DSN {redact(dsn)!r}: use chdb:///path or http(s)://host:port")


def redact(dsn: str) -> str:
    """The DSN without its password, for messages and logs."""
    parsed = urlparse(dsn)
    if parsed.password:
        return dsn.replace(f":{parsed.password}@", ":***@")
    return dsn
