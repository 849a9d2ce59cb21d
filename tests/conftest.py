"""Shared fixtures. chDB allows one engine path per process, so the whole session shares one embedded
warehouse directory and every test gets its own database in it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.warehouse.client import connect
from connectors.warehouse.migrations import migrate


@pytest.fixture(scope="session")
def chdb_dsn(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"chdb://{tmp_path_factory.mktemp('warehouse')}"


@pytest.fixture
def warehouse(chdb_dsn: str) -> Iterator[tuple[Any, str]]:
    """A migrated, empty database in the session's embedded warehouse: ``(client, database)``."""
    client = connect(chdb_dsn)
    db = f"t_{uuid.uuid4().hex[:12]}"
    migrate(client, db)
    yield client, db
    client.command(f"DROP DATABASE IF EXISTS {db}")


@pytest.fixture
def demo_config_path() -> Path:
    from flows.config import default_config_path

    return default_config_path()
