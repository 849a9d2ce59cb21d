"""The meters flow end to end on the embedded warehouse: simulated discharge → Bytewax → chDB.

Expected quantities come from the simulator's physical truth (it generates the gross standard volume
first and derives what the instruments show), not from the flow's code path.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.simulate.meters import DischargeScenario, simulate_discharge
from flows.config import Config, load_config
from flows.run import RunOptions, run_flow

pytestmark = pytest.mark.integration

BAD_LINES = [
    "{this is not json",
    json.dumps({"meter_id": "M-77", "ts": "2026-03-01T06:10:00.000Z", "gov_total_m3": 1.0, "flow_m3h": 0,
                "temp_c": 20, "pressure_kpa": 0, "status": "ok"}),
    json.dumps({"meter_id": "M-01", "ts": "2026-03-01T06:10:00.000Z", "gov_total_m3": 1.0, "flow_m3h": "NaN",
                "temp_c": 20, "pressure_kpa": 0, "status": "ok"}),
]


@pytest.fixture(scope="module")
def discharge(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("replay")
    cfg = load_config(environ={})
    scenario = DischargeScenario(start=datetime(2026, 3, 1, 6, 0, tzinfo=UTC), total_gsv_15c_m3=2500.0)
    truth = simulate_discharge(cfg, scenario, out, seed=11)
    with (out / "meter.readings.jsonl").open("a") as fh:
        fh.write("\n".join(BAD_LINES) + "\n")
    return out, truth


def site(db: str) -> Config:
    cfg = load_config(environ={})
    return replace(cfg, warehouse=replace(cfg.warehouse, database=db, batch_rows=5000))


def q(client, sql):
    return client.query(sql, settings={"final": 1}).result_rows


def test_discharge_totals_inventory_and_dead_letters(discharge, warehouse, chdb_dsn, tmp_path):
    replay, truth = discharge
    client, db = warehouse
    run_flow("meters", site(db), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))

    ops = q(client, f"SELECT meter_id, status, opening_index_m3, closing_index_m3, gov_m3, gsv_15c_m3, "
                    f"mass_vacuum_kg, mass_air_kg, bl_no, ship_name FROM {db}.meter_operations "
                    "WHERE status != 'creep' ORDER BY meter_id")
    assert [(r[0], r[1]) for r in ops] == [("M-01", "closed"), ("M-02", "closed")]
    for meter_id, _s, opening, closing, gov, gsv, mvac, mair, bl_no, ship in ops:
        t = truth.per_meter[meter_id]
        assert opening == pytest.approx(t["opening_index_m3"], abs=0.0015)
        assert closing == pytest.approx(t["closing_index_m3"], abs=0.0015)
        assert gov == pytest.approx(t["gov_m3"], abs=0.003)
        # CTPL rounded to 1e-5 and ρ15 to 0.1 kg/m³ per reading, densitometer noise: well inside 0.02 %
        assert gsv == pytest.approx(t["gsv_15c_m3"], rel=2e-4)
        assert mvac == pytest.approx(t["mass_vacuum_kg"], rel=2e-4)
        assert mair == pytest.approx(t["mass_air_kg"], rel=2e-4)
        assert bl_no and ship == "MT Akdeniz Yildizi"

    tanks = dict(q(client, f"SELECT tank_id, gsv_15c_m3 FROM {db}.tank_inventory"))
    for tank_id, t in truth.per_tank.items():
        # 1 mm of gauge resolution is ≈ 0.38 m³ in these tanks
        assert tanks[tank_id] == pytest.approx(t["closing_gsv_15c_m3"], abs=1.0)
    received = sum(t["received_gsv_15c_m3"] for t in truth.per_tank.values())
    delivered = sum(r[5] for r in ops)
    assert received == pytest.approx(delivered, rel=1e-3)

    dead = q(client, f"SELECT source_position, reason FROM {db}.dead_letters ORDER BY source_position")
    reasons = " | ".join(r[1] for r in dead)
    assert len(dead) == len(BAD_LINES)  # the simulator was asked for no faults: only the appended lines
    assert "undecodable JSON" in reasons and "unknown meter_id 'M-77'" in reasons and "flow_m3h" in reasons


def test_replaying_twice_changes_no_total(discharge, warehouse, chdb_dsn, tmp_path):
    replay, _truth = discharge
    client, db = warehouse
    totals = (f"SELECT (SELECT count() FROM {db}.meter_readings), (SELECT sum(delta_gsv_15c_m3) FROM "
              f"{db}.meter_readings), (SELECT sum(gsv_15c_m3) FROM {db}.meter_operations), "
              f"(SELECT count() FROM {db}.meter_operations), (SELECT sum(gsv_15c_m3) FROM {db}.tank_readings), "
              f"(SELECT count() FROM {db}.dead_letters), (SELECT count() FROM {db}.transfers)")
    run_flow("meters", site(db), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    first = q(client, totals)
    run_flow("meters", site(db), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    assert q(client, totals) == first
    assert first[0][0] > 0


def test_stock_of_every_tank_at_any_moment(discharge, warehouse, chdb_dsn, tmp_path):
    replay, truth = discharge
    client, db = warehouse
    run_flow("meters", site(db), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    before = dict(q(client, f"SELECT tank_id, argMax(gsv_15c_m3, ts) FROM {db}.tank_readings "
                            f"WHERE ts <= toDateTime64('{truth.started_at[:19].replace('T', ' ')}', 3, 'UTC') "
                            "GROUP BY tank_id"))
    for tank_id, t in truth.per_tank.items():
        assert before[tank_id] == pytest.approx(t["opening_gsv_15c_m3"], abs=1.0)
