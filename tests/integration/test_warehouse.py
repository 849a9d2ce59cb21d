from datetime import UTC, datetime

import numpy as np
import pytest

from connectors.warehouse.client import WarehouseError, redact, resolve_dsn
from connectors.warehouse.migrations import available, migrate
from connectors.warehouse.sink import WarehouseWriter
from operators.rows import Rows

pytestmark = pytest.mark.integration


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def dead_rows(ids: list[str]) -> Rows:
    return Rows("dead_letters", {
        "dead_letter_id": ids, "flow": ["meters"] * len(ids), "stream": ["meter.readings"] * len(ids),
        "source_position": [f"f:{i}" for i in range(len(ids))],
        "event_ts": np.array(["2026-03-01T06:00:00"] * len(ids), dtype="datetime64[ms]"),
        "reason": ["r"] * len(ids), "raw": ["{}"] * len(ids),
    })


def count(client, db, table, final=False):
    return client.query(f"SELECT count() FROM {db}.{table}" + (" FINAL" if final else "")).result_rows[0][0]


def test_migrations_are_recorded_and_idempotent(warehouse):
    client, db = warehouse
    assert migrate(client, db) == []  # the fixture already applied everything
    versions = [r[0] for r in client.query(f"SELECT version FROM {db}.schema_migrations FINAL ORDER BY version")
                .result_rows]
    assert versions == [m.version for m in available()]
    tables = {r[0] for r in client.query(f"SHOW TABLES FROM {db}").result_rows}
    assert {"meter_readings", "meter_operations", "tank_readings", "tank_inventory", "dead_letters",
            "transfers", "lab_densities"} <= tables


def test_an_edited_applied_migration_is_refused(warehouse):
    client, db = warehouse
    client.command(f"ALTER TABLE {db}.schema_migrations UPDATE checksum = 'x' WHERE version = 1 "
                   "SETTINGS mutations_sync = 1")
    with pytest.raises(WarehouseError, match="another checksum"):
        migrate(client, db)


def test_writer_flushes_per_batch_size_and_per_interval(warehouse):
    client, db = warehouse
    clock = FakeClock()
    w = WarehouseWriter(client, db, batch_rows=5, flush_seconds=1.0, clock=clock)
    w.add(dead_rows(["a", "b"]))
    w.flush_due()
    assert count(client, db, "dead_letters") == 0 and w.inserts == 0  # neither full nor old yet
    clock.t = 1.5
    w.flush_due()
    assert count(client, db, "dead_letters") == 2 and w.inserts == 1
    w.add(dead_rows(["c", "d", "e"]))
    w.add(dead_rows(["f", "g"]))  # 5 rows buffered: flushed at once as one insert
    assert count(client, db, "dead_letters") == 7 and w.inserts == 2


def test_replayed_batches_do_not_change_totals(warehouse):
    client, db = warehouse
    for _ in range(2):  # an identical retried batch is dropped by its deduplication token
        w = WarehouseWriter(client, db, batch_rows=100)
        w.add(dead_rows(["a", "b", "c"]))
        w.flush_all()
    assert count(client, db, "dead_letters") == 3
    w = WarehouseWriter(client, db, batch_rows=100)  # same rows, other batch boundaries: keys collapse them
    w.add(dead_rows(["b", "c"]))
    w.flush_all()
    assert count(client, db, "dead_letters", final=True) == 3


def test_rows_with_nulls_and_aware_datetimes(warehouse):
    client, db = warehouse
    w = WarehouseWriter(client, db)
    w.add(Rows.from_dicts("dead_letters", [
        {"dead_letter_id": "x", "flow": "f", "stream": "s", "source_position": "p",
         "event_ts": None, "reason": "r", "raw": "ü"},
        {"dead_letter_id": "y", "flow": "f", "stream": "s", "source_position": "p",
         "event_ts": datetime(2026, 3, 1, 9, 0, tzinfo=UTC), "reason": "r", "raw": ""},
    ]))
    w.flush_all()
    rows = client.query(f"SELECT dead_letter_id, event_ts, raw FROM {db}.dead_letters ORDER BY 1").result_rows
    assert rows[0][1] is None and rows[0][2] == "ü"
    assert rows[1][1].replace(tzinfo=None) == datetime(2026, 3, 1, 9, 0)


def test_unknown_column_is_a_clear_error(warehouse):
    client, db = warehouse
    w = WarehouseWriter(client, db)
    w.add(Rows.from_dicts("dead_letters", [{"nope": 1}]))
    with pytest.raises(WarehouseError, match="has no column 'nope'"):
        w.flush_all()


def test_dsn_helpers(tmp_path):
    assert resolve_dsn("", tmp_path) == f"chdb://{tmp_path.resolve()}/warehouse"
    assert resolve_dsn("http://u:p@h:8123", tmp_path) == "http://u:p@h:8123"
    assert redact("http://u:secret@h:8123") == "http://u:***@h:8123"
