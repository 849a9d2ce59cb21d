"""Report sums over meter readings are the same bits however the readings reached the warehouse.

The sink writes readings in batches that depend on the run (Kafka polls, replay chunks, restarts): each batch is
a part of the table, merged later in the background. A float ``sum`` follows that layout; the reports add the
readings one after another in time order instead. Expected values: the same additions done here in Python.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.warehouse.report_queries import ReportQueries

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 6, tzinfo=UTC)
COLUMNS = ["meter_id", "ts", "gov_total_m3", "flow_m3h", "temp_c", "pressure_kpa", "delta_gov_m3",
           "delta_gsv_15c_m3", "delta_mass_vacuum_kg", "operation_id"]


def test_reading_sums_do_not_depend_on_how_the_readings_were_inserted(warehouse):
    client, db = warehouse
    # increments whose float sum depends on the order of additions (1e16 absorbs a single 1.0, not 3.0)
    deltas = [1e16, 1.0, 1.0, 1.0, -1e16, 0.1, 0.2, 0.3] * 4
    ts = [T0 + timedelta(seconds=i) for i in range(len(deltas))]
    expected = 0.0
    for d in deltas:  # one after another, in time order
        expected += d

    def rows(meter: str) -> list[list[object]]:
        return [[meter, t, 0.0, 0.0, 15.0, 100.0, d, d, 2.0 * d, f"OP-{meter}"]
                for t, d in zip(ts, deltas, strict=True)]

    client.insert(f"{db}.meter_readings", rows("M-A"), column_names=COLUMNS)  # one batch, in time order
    for row in reversed(rows("M-B")):  # one batch per reading, newest first
        client.insert(f"{db}.meter_readings", [row], column_names=COLUMNS)
    q = ReportQueries(client, db)
    a, b = q.operation_reading_sums("OP-M-A"), q.operation_reading_sums("OP-M-B")
    assert (a["gov_m3"], a["gsv_15c_m3"], a["mass_vacuum_kg"]) == (expected, expected, 2.0 * expected)
    assert (b["gov_m3"], b["gsv_15c_m3"], b["mass_vacuum_kg"]) == (expected, expected, 2.0 * expected)
    assert a["mass_air_kg"] == b["mass_air_kg"] and a["readings"] == b["readings"] == len(deltas)
    buckets = q.meter_bucket_sums(["M-A", "M-B"], [T0 - timedelta(hours=1), T0 + timedelta(hours=1)])
    assert [(r["meter_id"], r["gov_m3"], r["gsv_15c_m3"]) for r in buckets] == [
        ("M-A", expected, expected), ("M-B", expected, expected)]


def test_reading_sums_skip_missing_quantities_and_are_null_without_any(warehouse):
    client, db = warehouse
    client.insert(f"{db}.meter_readings", [
        ["M-A", T0, 0.0, 0.0, 15.0, 100.0, 1.5, None, None, "OP-1"],
        ["M-A", T0 + timedelta(seconds=1), 0.0, 0.0, 15.0, 100.0, 2.25, 2.0, 1700.0, "OP-1"],
        ["M-A", T0 + timedelta(seconds=2), 0.0, 0.0, 15.0, 100.0, 0.5, None, None, "OP-2"],
    ], column_names=COLUMNS)
    q = ReportQueries(client, db)
    one, two = q.operation_reading_sums("OP-1"), q.operation_reading_sums("OP-2")
    assert (one["readings"], one["gov_m3"], one["gsv_15c_m3"], one["mass_vacuum_kg"]) == (2, 3.75, 2.0, 1700.0)
    assert one["mass_air_kg"] == pytest.approx(1700.0 - 1.1 * 2.0)
    assert (two["gov_m3"], two["gsv_15c_m3"], two["mass_vacuum_kg"], two["mass_air_kg"]) == (0.5, None, None, None)
