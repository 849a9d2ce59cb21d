"""Bad input through the whole meters flow (replay → Bytewax → chDB), property-based: a meter's readings with
some mutated the ways the contract forbids. The flow never crashes, and every line is accounted for exactly
once by its source position: a meter_readings row or a dead letter with a reason."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.warehouse.client import connect
from connectors.warehouse.migrations import migrate
from flows.config import load_config
from flows.run import RunOptions, run_flow
from operators.events import iso_ms

pytestmark = [pytest.mark.integration, pytest.mark.faults]
T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
MUTATIONS = st.sampled_from(["nan", "inf", "string", "null", "absurd", "negative", "drop", "no_offset",
                             "local_offset", "far_future", "far_past", "broken", "oversize", "list_id", "status"])


def reading(i: int) -> dict[str, Any]:
    flow = 400.0 if 30 <= i < 150 else 0.0
    return {"meter_id": "M-01", "ts": iso_ms(T0 + timedelta(seconds=i)),
            "gov_total_m3": round(1000.0 + sum(400.0 / 3600 for j in range(i) if 30 <= j < 150), 6),
            "flow_m3h": flow, "temp_c": 20.0, "pressure_kpa": 50.0, "density_kgm3": 830.0, "status": "ok"}


def mutate(obj: dict[str, Any], kind: str, i: int) -> str:
    far = timedelta(seconds=i)  # keeps keys (meter, ts) unique, so rows never collapse into each other
    match kind:
        case "nan" | "inf":
            obj["temp_c"] = float(kind)
        case "string":
            obj["gov_total_m3"] = "1000.0"
        case "null":
            obj["pressure_kpa"] = None
        case "absurd":
            obj["flow_m3h"] = 1e300
        case "negative":
            obj["gov_total_m3"] = -5.0
        case "drop":
            del obj["flow_m3h"]
        case "no_offset":
            obj["ts"] = obj["ts"][:-1]
        case "local_offset":
            obj["ts"] = obj["ts"][:-1] + "+03:00"
        case "far_future":
            obj["ts"] = iso_ms(datetime(9999, 1, 1, tzinfo=UTC) + far)
        case "far_past":
            obj["ts"] = iso_ms(datetime(1970, 1, 1, tzinfo=UTC) + far)
        case "broken":
            return json.dumps(obj)[:-7]
        case "oversize":
            obj["note"] = "x" * 200_000
        case "list_id":
            obj["meter_id"] = ["M-01"]
        case "status":
            obj["status"] = {"ok": True}
    return json.dumps(obj)


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.dictionaries(st.integers(0, 179), MUTATIONS, min_size=1, max_size=25))
def test_mutated_readings_never_crash_the_flow_and_every_line_is_accounted_for(chdb_dsn, tmp_path_factory,
                                                                              mutations):
    db = f"t_{uuid.uuid4().hex[:12]}"
    client = connect(chdb_dsn)
    migrate(client, db)
    cfg = load_config(environ={})
    cfg = replace(cfg, warehouse=replace(cfg.warehouse, database=db))
    replay = tmp_path_factory.mktemp("fuzz")
    lines = [mutate(reading(i), mutations[i], i) if i in mutations else json.dumps(reading(i)) for i in range(180)]
    (replay / "meter.readings.jsonl").write_text("\n".join(lines) + "\n")
    try:
        run_flow("meters", cfg, RunOptions(f"file:{replay}", chdb_dsn, Path(replay / "state")))
        kept = {r[0] for r in client.query(f"SELECT source_position FROM {db}.meter_readings",
                                           settings={"final": 1}).result_rows}
        dead = client.query(f"SELECT source_position, reason FROM {db}.dead_letters WHERE stream = 'meter.readings'",
                            settings={"final": 1}).result_rows
    finally:
        client.command(f"DROP DATABASE IF EXISTS {db}")
    dead_positions = {p for p, _r in dead}
    assert all(reason for _p, reason in dead)
    positions = {f"meter.readings.jsonl:{i + 1}" for i in range(180)}
    assert kept | dead_positions == positions and not kept & dead_positions
    # the clean readings are never the ones rejected
    assert {f"meter.readings.jsonl:{i + 1}" for i in range(180) if i not in mutations} <= kept
