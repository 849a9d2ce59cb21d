"""Fault tier, warehouse side: real insert failures on chDB (a missing table, a read-only insert) are retried
with backoff and lose nothing; a failure that lasts gives a clear error and keeps the rows."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from connectors.warehouse.client import WarehouseError
from connectors.warehouse.sink import RetryPolicy, WarehouseWriter
from operators.rows import Rows

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def dead_letters(n: int) -> Rows:
    return Rows.from_dicts("dead_letters", [
        {"dead_letter_id": f"d{i}", "flow": "meters", "stream": "meter.readings", "source_position": f"p@{i}",
         "event_ts": None, "reason": "test", "raw": "{}"} for i in range(n)])


def count(client: Any, db: str) -> int:
    return int(client.query(f"SELECT count() FROM {db}.dead_letters", settings={"final": 1}).result_rows[0][0])


def test_missing_table_is_waited_for_and_nothing_is_lost(warehouse):
    client, db = warehouse
    ddl = client.query(f"SHOW CREATE TABLE {db}.dead_letters").result_rows[0][0]
    client.command(f"DROP TABLE {db}.dead_letters")
    slept: list[float] = []

    def sleep(s: float) -> None:  # the operator restores the table while the sink waits
        slept.append(s)
        if len(slept) == 2:
            client.command(ddl)

    w = WarehouseWriter(client, db, batch_rows=100, retry=RetryPolicy(5, 0.25, 1.0), sleep=sleep)
    w.add(dead_letters(40))
    w.flush_all()
    assert slept == [0.25, 0.5]
    assert count(client, db) == 40 and w.buffered_rows == 0


class ReadOnlyFor:
    """The real client, its first ``n`` inserts sent with ``readonly = 1`` (the server refuses them)."""

    def __init__(self, client: Any, n: int) -> None:
        self.client, self.n = client, n

    def query(self, *args: Any, **kwargs: Any) -> Any:
        return self.client.query(*args, **kwargs)

    def insert_arrow(self, table: str, arrow: pa.Table, settings: dict[str, Any]) -> Any:
        if self.n > 0:
            self.n -= 1
            settings = {**settings, "readonly": 1}
        return self.client.insert_arrow(table, arrow, settings=settings)


def test_read_only_refusals_are_retried_until_the_insert_is_accepted(warehouse):
    client, db = warehouse
    slept: list[float] = []
    w = WarehouseWriter(ReadOnlyFor(client, 3), db, batch_rows=100, retry=RetryPolicy(6, 0.1, 0.2),
                        sleep=slept.append)
    w.add(dead_letters(25))
    w.flush_all()
    assert slept == [0.1, 0.2, 0.2]
    assert count(client, db) == 25


def test_a_lasting_failure_gives_up_with_a_clear_error_and_keeps_the_rows(warehouse):
    client, db = warehouse
    slept: list[float] = []
    w = WarehouseWriter(ReadOnlyFor(client, 10**6), db, batch_rows=100, retry=RetryPolicy(3, 0.1, 1.0),
                        sleep=slept.append)
    w.add(dead_letters(7))
    with pytest.raises(WarehouseError, match=rf"insert into {db}.dead_letters failed 3 time\(s\).*(?i:readonly)"):
        w.flush_all()
    assert slept == [0.1, 0.2] and w.buffered_rows == 7 and count(client, db) == 0
    w.client = client  # the warehouse accepts writes again: the kept rows go in, once
    w.flush_all()
    w.flush_all()
    assert count(client, db) == 7 and w.buffered_rows == 0
