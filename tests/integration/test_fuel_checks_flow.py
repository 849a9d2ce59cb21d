"""The fuel checks end to end: a simulated campaign with planted faults → meters flow → alerts in chDB.

Every expectation comes from what the simulator planted (campaign truth, the transfer documents it wrote)
and from the tolerances the regulation gives (Ek-11 0.5 %, class 0.3), never from the flow's own figures.
Each check is exercised by a stream built to trigger it and by one built not to (discharge 1 / a clean run).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.simulate.campaign import simulate_campaign
from connectors.simulate.meters import DischargeScenario, simulate_discharge
from flows.config import Config, load_config
from flows.run import RunOptions, run_flow

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def site(db: str, **checks: Any) -> Config:
    cfg = load_config(environ={})
    return replace(cfg, warehouse=replace(cfg.warehouse, database=db, batch_rows=5000),
                   checks=replace(cfg.checks, **checks))


def q(client: Any, sql: str) -> list[tuple[Any, ...]]:
    return list(client.query(sql, settings={"final": 1}).result_rows)


def iso(v: datetime) -> str:
    return v.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("campaign")
    truth = simulate_campaign(load_config(environ={}), out, START, seed=7, bl_bias_pct=1.2, unreported_flow=True)
    return out, truth


def test_campaign_raises_exactly_the_planted_alerts(campaign, warehouse, chdb_dsn, tmp_path):
    replay, truth = campaign
    client, db = warehouse
    run_flow("meters", site(db), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    alerts = q(client, f"SELECT kind, severity, entity_type, entity_id, window_start, window_end, details "
                       f"FROM {db}.alerts ORDER BY window_start")
    kinds = sorted((a[0], a[3]) for a in alerts)
    assert kinds == sorted([
        ("flow_without_operation", truth.unreported_flow["meter_id"]),
        ("meter_failure", truth.power_loss["meter_id"]),
        ("bl_tolerance", "TR-2026-0002"),
    ])
    by_kind = {a[0]: a for a in alerts}

    # M7: the power loss, critical, during the operation, from the first power_loss reading
    fail = by_kind["meter_failure"]
    details = json.loads(fail[6])
    assert fail[1] == "critical" and details["cause"] == "power_loss" and details["operation_id"]
    planted = datetime.fromisoformat(truth.power_loss["from"])
    assert 0 <= (fail[4].replace(tzinfo=UTC) - planted).total_seconds() <= 1.0
    assert details["last_good_at"] < truth.power_loss["from"] and details["last_good_index_m3"] > 0

    # M8: the unreported movement alerted at its start; the reported one recorded as phase_change only
    fwo = by_kind["flow_without_operation"]
    planted_from = datetime.fromisoformat(truth.unreported_flow["from"])
    assert abs((fwo[4].replace(tzinfo=UTC) - planted_from).total_seconds()) <= 2
    ops = q(client, f"SELECT status, gov_m3, transfer_id, cumulative_gov_m3, started_at FROM {db}.meter_operations "
                    f"WHERE meter_id = '{truth.phase_change['meter_id']}' ORDER BY started_at")
    pc = [o for o in ops if o[0] == "phase_change"]
    assert len(pc) == 1
    expected_pc = truth.phase_change["flow_m3h"] * truth.phase_change["seconds"] / 3600.0
    assert pc[0][1] == pytest.approx(expected_pc, abs=0.01)
    # excluded from the totals: the next operation's cumulative = previous cumulative + its own volume
    i = ops.index(pc[0])
    before, after = ops[i - 1], ops[i + 1]
    assert after[3] == pytest.approx(before[3] + after[1], abs=1e-6)


def test_reconciliation_against_documents_and_tanks(campaign, warehouse, chdb_dsn, tmp_path):
    replay, truth = campaign
    client, db = warehouse
    run_flow("meters", site(db), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    docs = {}
    for line in (replay / "transfers.jsonl").read_text().splitlines():
        d = json.loads(line)
        docs[d["transfer_id"]] = d
    rows = q(client, f"SELECT transfer_id, status, meter_mass_air_kg, bl_quantity_kg_air, diff_bl_pct, "
                     f"tolerance_pct, within_tolerance, decisive_figure, shore_tank_delta_m3_15c, meter_gsv_15c_m3, "
                     f"ship_delivered_m3_15c FROM {db}.reconciliations ORDER BY transfer_id")
    assert [r[:2] for r in rows] == [("TR-2026-0001", "closed"), ("TR-2026-0002", "closed")]
    for r, t in zip(rows, truth.discharges, strict=True):
        tid, _, m_air, bl, diff_pct, tol, within, decisive, tank_d, gsv, ship = r
        doc = docs[tid]
        assert bl == doc["bl_quantity_kg_air"]
        # the meters' weight in air is the truth within class 0.3; the % difference is recomputed here
        true_air = sum(m["mass_air_kg"] for m in t.per_meter.values())
        assert m_air == pytest.approx(true_air, rel=3e-3)
        assert diff_pct == pytest.approx(100.0 * (m_air - bl) / bl, rel=1e-9)
        assert tol == 0.5  # Ek-11 2710.19.43 sea (A) / customary allowance
        assert within == (1 if abs(diff_pct) <= 0.5 else 0)
        assert decisive == ("meter" if within else "review")
        # shore tanks received what the simulator put in them, and the ship figures are side by side
        received = sum(k["received_gsv_15c_m3"] for k in t.per_tank.values())
        assert tank_d == pytest.approx(received, rel=1e-3)
        assert ship == pytest.approx(doc["ship_tank_opening_m3_15c"] - doc["ship_tank_closing_m3_15c"], abs=1e-6)
        assert abs(tank_d - gsv) <= 0.003 * gsv  # no tank_mismatch expected
    assert [r[6] for r in rows] == [1, 0]  # planted: discharge 2's B/L overstates by 1.2 %


def test_tank_mismatch_when_a_tank_loses_product(tmp_path, warehouse, chdb_dsn):
    """A leak: tank readings of one tank report 1 % less level gain than received → tank_mismatch."""
    client, db = warehouse
    cfg = load_config(environ={})
    replay = tmp_path / "replay"
    scenario = DischargeScenario(start=START, total_gsv_15c_m3=3000.0, tank_ids=("T-101",))
    simulate_discharge(cfg, scenario, replay, seed=3)
    lines = (replay / "tank.readings.jsonl").read_text().splitlines()
    first = json.loads(lines[0])["level_mm"]
    leaky = []
    for line in lines:
        d = json.loads(line)
        d["level_mm"] = first + (d["level_mm"] - first) * 0.97  # 3 % of the rise never shows up
        leaky.append(json.dumps(d))
    (replay / "tank.readings.jsonl").write_text("\n".join(leaky) + "\n")
    run_flow("meters", site(db, reconcile_window_s=1800.0), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    alerts = q(client, f"SELECT kind, entity_id, details FROM {db}.alerts WHERE kind = 'tank_mismatch'")
    scopes = sorted(json.loads(a[2])["scope"] for a in alerts)
    assert "transfer" in scopes and "window" in scopes
    final = next(json.loads(a[2]) for a in alerts if json.loads(a[2])["scope"] == "transfer")
    assert final["diff_pct"] == pytest.approx(-3.0, abs=0.5)
    assert abs(final["diff_m3"]) > final["tolerance_m3"]


def test_silent_meter_is_a_failure_seen_in_event_time(tmp_path, warehouse, chdb_dsn):
    """The simulator's gap fault: the silent meter's alert starts at its last reading, with its index."""
    client, db = warehouse
    cfg = load_config(environ={})
    replay = tmp_path / "replay"
    truth = simulate_discharge(cfg, DischargeScenario(start=START, total_gsv_15c_m3=3000.0,
                                                      faults=frozenset({"gap", "stuck"})), replay, seed=5)
    run_flow("meters", site(db), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    rows = q(client, f"SELECT entity_id, window_start, details FROM {db}.alerts WHERE kind = 'meter_failure' "
                     "ORDER BY window_start")
    causes = {json.loads(r[2])["cause"]: r for r in rows}
    assert set(causes) == {"gap", "stuck"}
    gap = truth.faults["gap"]
    g = causes["gap"]
    assert g[0] == gap["meter_id"]
    # the last reading before the silence is one interval before the first missing one
    assert (datetime.fromisoformat(gap["from"]) - g[1].replace(tzinfo=UTC)).total_seconds() == pytest.approx(1.0)
    st = causes["stuck"]
    assert st[0] == truth.faults["stuck"]["meter_id"]
    assert json.loads(st[2])["signals"] == [truth.faults["stuck"]["field"]]


def test_clean_discharge_raises_nothing(tmp_path, warehouse, chdb_dsn):
    client, db = warehouse
    cfg = load_config(environ={})
    replay = tmp_path / "replay"
    simulate_discharge(cfg, DischargeScenario(start=START, total_gsv_15c_m3=3000.0), replay, seed=9)
    run_flow("meters", site(db), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    assert q(client, f"SELECT kind, message FROM {db}.alerts") == []


def test_replaying_twice_changes_no_alert_nor_reconciliation(campaign, warehouse, chdb_dsn, tmp_path):
    replay, _ = campaign
    client, db = warehouse
    counts = []
    for _ in range(2):
        run_flow("meters", site(db), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
        counts.append(q(client, f"SELECT (SELECT count() FROM {db}.alerts), "
                                f"(SELECT sum(meter_gsv_15c_m3) FROM {db}.reconciliations)"))
    assert counts[0] == counts[1]


def test_tanks_pumped_out_before_the_documents_close_are_not_a_mismatch(tmp_path, warehouse, chdb_dsn):
    """Back-to-back discharges whose close event comes after the shore tanks pumped out to the pipeline:
    the tank side is measured when the meters stopped delivering, so nothing is alerted."""
    from connectors.simulate.bench import simulate_readings_file

    client, db = warehouse
    replay = tmp_path / "replay"
    simulate_readings_file(load_config(environ={}), replay, 90_000, seed=3)
    run_flow("meters", site(db), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    closed = q(client, f"SELECT transfer_id, diff_tank_pct FROM {db}.reconciliations WHERE status = 'closed'")
    assert closed, "the file holds at least one closed transfer"
    assert all(abs(d) < 0.3 for _t, d in closed)
    assert q(client, f"SELECT kind FROM {db}.alerts WHERE kind IN ('tank_mismatch', 'meter_drift')") == []
