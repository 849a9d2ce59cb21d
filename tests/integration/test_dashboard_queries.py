"""Every panel's SQL runs on chDB, as the ClickHouse plugin would send it, over a warehouse filled by the flows.

The warehouse is filled by the meters flow on the campaign simulator (two discharges, a power loss, a B/L
overstated by 1.2 %, an unreported movement, a calibration certificate about to expire) and by the VGM flow
on its simulator. Every query must execute and return the columns its panel is built for; the key panels
must show what an independent query over the base tables (or the simulators' truth) gives.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.simulate.campaign import simulate_campaign
from connectors.simulate.vgm import VgmScenario, VgmTruth, simulate_vgm
from connectors.warehouse.client import connect
from dashboards.boards import alerts_reconciliation, all_boards, fuel_transfer, vgm
from dashboards.check import context, run_board, run_panel
from dashboards.macros import ALL
from flows.config import load_config
from flows.run import RunOptions, run_flow

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
FROM, TO = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)
EXPIRING = date(2026, 3, 20)  # within the 30-day warning of the campaign's dates


@pytest.fixture(scope="module")
def filled(chdb_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str, Any, VgmTruth]:
    tmp = tmp_path_factory.mktemp("dash")
    db = f"d_{uuid.uuid4().hex[:12]}"
    cfg = load_config(environ={})
    meters = (replace(cfg.meters[0], calibration_expires=EXPIRING), *cfg.meters[1:])
    cfg = replace(cfg, meters=meters, warehouse=replace(cfg.warehouse, database=db, batch_rows=5000))
    truth = simulate_campaign(cfg, tmp / "campaign", START, seed=7, bl_bias_pct=1.2, unreported_flow=True)
    run_flow("meters", cfg, RunOptions(f"file:{tmp / 'campaign'}", chdb_dsn, tmp))
    vgm_truth = simulate_vgm(cfg.vgm, VgmScenario(containers=20), tmp / "vgm", seed=11)
    run_flow("vgm", cfg, RunOptions(f"file:{tmp / 'vgm'}", chdb_dsn, tmp))
    client = connect(chdb_dsn)
    client.database = db  # what the datasource's defaultDatabase does: panels name tables unqualified
    yield client, db, truth, vgm_truth
    client.command(f"DROP DATABASE IF EXISTS {db}")


def rows(client: Any, sql: str) -> list[tuple[Any, ...]]:
    return list(client.query(sql).result_rows)


@pytest.mark.parametrize("board", all_boards(), ids=lambda b: b.uid)
def test_every_panel_runs_and_returns_its_columns(filled, board):
    client, *_ = filled
    ctx = context(client, board, FROM, TO, interval_s=300)
    for title, res in run_board(client, board, ctx).items():
        assert res.rows, f"{board.uid} / {title}: no rows\n{res.sql}"
        assert not res.problems, f"{board.uid} / {title}: {res.problems}\n{res.sql}"


def test_multi_value_tank_selection_and_all(filled):
    client, *_ = filled
    board = fuel_transfer.board()
    panel = next(p for p in board.panels if p.title == "Shore tanks: fill")
    everything = run_panel(client, panel, context(client, board, FROM, TO))
    assert "1=1" in everything.sql and len(everything.rows) == 3
    two = run_panel(client, panel, context(client, board, FROM, TO, chosen={"tank": ["T-101", "T-103"]}))
    assert "tank_id IN ('T-101','T-103')" in two.sql
    assert sorted(r[0].split()[0] for r in two.rows) == ["T-101", "T-103"]


def test_quantities_equal_the_sum_of_the_corrected_intervals(filled):
    client, *_ = filled
    board = fuel_transfer.board()
    for meter in ("M-01", "M-02"):
        ctx = context(client, board, FROM, TO, chosen={"meter": meter})
        op = ctx.variables["operation"]
        res = run_board(client, board, ctx)["Quantities of the operation"]
        gov, gsv, mass_vac = res.rows[0][:3]
        # independent: the readings of the operation, each interval once (latest copy of a reading)
        got = rows(client, "SELECT sum(d_gov), sum(d_gsv), sum(d_mass) FROM (SELECT meter_id, ts, "
                           "any(delta_gov_m3) AS d_gov, any(delta_gsv_15c_m3) AS d_gsv, any(delta_mass_vacuum_kg) "
                           f"AS d_mass FROM meter_readings WHERE operation_id = '{op}' GROUP BY meter_id, ts)")[0]
        assert gov == pytest.approx(got[0], abs=1e-3)
        assert gsv == pytest.approx(got[1], abs=1e-3)
        assert mass_vac == pytest.approx(got[2], rel=1e-9)
        assert gov > 1000


def test_meter_status_idle_then_active_with_direction(filled):
    client, *_ = filled
    board = fuel_transfer.board()
    panel = next(p for p in board.panels if p.title == "Meter status")
    # mid discharge 2: the raw readings of M-02 show flow at that instant
    mid = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    flow = rows(client, "SELECT argMax(flow_m3h, ts) FROM meter_readings WHERE meter_id = 'M-02' "
                        f"AND ts <= '{mid:%Y-%m-%d %H:%M:%S}'")[0][0]
    assert flow > 0
    active = run_panel(client, panel, context(client, board, FROM, mid, chosen={"meter": "M-02"}))
    assert active.rows[0][0] == "ACTIVE ship → shore (discharge)"
    assert active.columns == ["Meter M-02"]
    idle = run_panel(client, panel, context(client, board, FROM, TO, chosen={"meter": "M-02"}))
    assert idle.rows[0][0] == "IDLE"
    colors = dict(panel.text_colors)
    assert colors["IDLE"] == "yellow" and colors["ACTIVE.*"] == "#000080"


def test_tanks_of_the_operation_with_their_latest_state(filled):
    client, *_ = filled
    board = fuel_transfer.board()
    mid = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    ctx = context(client, board, FROM, mid, chosen={"meter": "M-02"})
    transfer = rows(client, f"SELECT transfer_id FROM meter_operations WHERE operation_id = "
                            f"'{ctx.variables['operation']}' LIMIT 1")[0][0]
    tanks = rows(client, f"SELECT tank_ids FROM transfers WHERE transfer_id = '{transfer}' LIMIT 1")[0][0]
    raw = rows(client, "SELECT tank_id, ts, state, fill_pct FROM tank_readings "
                       f"WHERE ts <= '{mid:%Y-%m-%d %H:%M:%S}'")
    latest: dict[str, tuple[Any, ...]] = {}
    for tank_id, ts, state, fill in raw:
        if tank_id in tanks and (tank_id not in latest or ts > latest[tank_id][0]):
            latest[tank_id] = (ts, state, fill)
    res = run_board(client, board, ctx)["Shore tanks: fill"]
    shown = {r[0]: r[1] for r in res.rows}
    assert shown == pytest.approx({f"{t} {s}": f for t, (_ts, s, f) in latest.items()})
    assert any(s == "receiving" for _ts, s, _f in latest.values())  # mid discharge: some tank receives
    panel = next(p for p in board.panels if p.title == "Shore tanks: fill")
    assert dict(panel.name_colors) == {".*receiving": "yellow", ".*delivering": "#000080", ".*idle": "green"}


def test_open_alerts_by_kind_match_the_latest_state_of_each_alert(filled):
    client, *_ = filled
    board = alerts_reconciliation.board()
    res = run_board(client, board, context(client, board, FROM, TO))
    latest: dict[str, tuple[int, str, str, str]] = {}
    for alert_id, revision, kind, severity, status in rows(
            client, "SELECT alert_id, revision, kind, severity, status FROM alerts"):
        if alert_id not in latest or revision > latest[alert_id][0]:
            latest[alert_id] = (revision, kind, severity, status)
    expected = Counter((k, s) for _r, k, s, st in latest.values() if st == "open")
    assert {(r[0], r[1]): r[2] for r in res["Open alerts by kind and severity"].rows} == dict(expected)
    crit, warn = res["Open alerts"].rows[0]
    assert (crit, warn) == (sum(n for (_k, s), n in expected.items() if s == "critical"),
                            sum(n for (_k, s), n in expected.items() if s == "warning"))
    assert ("meter_failure", "critical") in expected and ("bl_tolerance", "critical") in expected


def test_reconciliation_shows_the_planted_bl_overstatement(filled):
    client, *_ = filled
    board = alerts_reconciliation.board()
    res = run_board(client, board, context(client, board, FROM, TO))["Meter vs B/L vs tanks per transfer"]
    by_transfer = {r[0]: dict(zip(res.columns, r, strict=True)) for r in res.rows}
    assert by_transfer["TR-2026-0001"]["tolerance"] == "within"
    bad = by_transfer["TR-2026-0002"]
    assert bad["tolerance"] == "OUTSIDE"
    assert bad["diff_bl_pct"] == pytest.approx(
        (bad["meter_mass_air_kg"] - bad["bl_quantity_kg_air"]) / bad["bl_quantity_kg_air"] * 100, abs=1e-6)
    assert bad["diff_bl_pct"] < -0.5  # the B/L overstates the cargo


def test_calibration_expiry_panel_shows_the_certificate(filled):
    client, *_ = filled
    board = alerts_reconciliation.board()
    res = run_board(client, board, context(client, board, FROM, TO))["Calibration certificates"]
    assert [(r[0], r[2], r[3]) for r in res.rows] == [("M-01", EXPIRING.isoformat(), "expiring")]


def test_vgm_panels_match_the_simulator_truth(filled):
    client, _db, _truth, truth = filled
    board = vgm.board()
    res = run_board(client, board, context(client, board, FROM, TO + timedelta(days=2)))
    certs, violations, blocked = res["Certificates and blocked containers"].rows[0]
    assert certs == len(truth.certificates)
    assert blocked == len(truth.blocked)
    assert violations == len(truth.alerts)
    assert {r[0] for r in res["Block list"].rows} == set(truth.blocked)
    per_instrument = {r[0]: (r[2], r[3]) for r in res["Certificates per instrument"].rows}
    assert sum(n for n, _last in per_instrument.values()) == len(truth.certificates)
    assert all(n == last for n, last in per_instrument.values())  # gapless numbering shows as count == last


def test_time_filter_excludes_data_outside_the_range(filled):
    client, *_ = filled
    board = vgm.board()
    before = datetime(2025, 1, 1, tzinfo=UTC)
    res = run_board(client, board, context(client, board, before, before + timedelta(days=1)))
    assert res["Certificates and blocked containers"].rows[0][:2] == (0, 0)
    assert res["Latest certificates"].rows == []


def test_variable_all_is_the_plugin_all_value():
    board = fuel_transfer.board()
    tank = next(v for v in board.variables if v.name == "tank")
    assert tank.multi and tank.include_all and ALL == "$__all"


def alert_rule_queries() -> dict[str, str]:
    import yaml

    doc = yaml.safe_load((Path(__file__).resolve().parents[2] / "dashboards/provisioning/alerting/quaywatch.yaml")
                         .read_text())
    return {r["title"]: d["model"]["rawSql"] for g in doc["groups"] for r in g["rules"] for d in r["data"]
            if "rawSql" in d["model"]}


def test_alert_rule_queries_fire_for_the_planted_faults(filled):
    from dashboards.macros import QueryContext, expand

    client, *_ = filled
    queries = alert_rule_queries()
    ctx = QueryContext(FROM, TO)
    got = {title: rows(client, expand(sql, ctx)) for title, sql in queries.items()}
    assert got["Meter failure during a transfer"] == [("M-02", 1)]  # the planted power loss
    assert got["Reconciliation outside tolerance"] == [("TR-2026-0002", 1)]  # the overstated B/L
    assert got["Camera tamper"] == []  # no camera flow in this warehouse: runs, finds nothing
