"""Reports end to end on the embedded warehouse: a simulated discharge that crosses midnight (Sunday → Monday,
so both a day and an ISO-week boundary), the meters flow into chDB, then the three reports.

Expected values come from the simulator's truth and from the raw replay files (totalizer readings), or from
SQL/numpy sums written in the test; never from the report code.
"""

from __future__ import annotations

import csv
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from connectors.simulate.meters import DischargeScenario, simulate_discharge
from connectors.warehouse.client import connect
from connectors.warehouse.migrations import migrate
from connectors.warehouse.report_queries import ReportQueries
from flows.cli import main
from flows.cli_report import meter_operation_report, no_movement_report, period_report, write_meter_report
from flows.config import Config, load_config
from flows.run import RunOptions, run_flow
from operators.reports.no_movement import INSUFFICIENT, MOVEMENT, NO_MOVEMENT

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 1, 23, 20, tzinfo=UTC)  # a Sunday
MIDNIGHT = datetime(2026, 3, 2, tzinfo=UTC)        # Monday 00:00: day and ISO week boundary


def site(db: str) -> Config:
    cfg = load_config(environ={})
    return replace(cfg, warehouse=replace(cfg.warehouse, database=db, batch_rows=5000))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, chdb_dsn: str):
    replay = tmp_path_factory.mktemp("replay")
    truth = simulate_discharge(load_config(environ={}),
                               DischargeScenario(start=START, total_gsv_15c_m3=2500.0), replay, seed=11)
    client = connect(chdb_dsn)
    db = f"t_{uuid.uuid4().hex[:12]}"
    migrate(client, db)
    cfg = site(db)
    run_flow("meters", cfg, RunOptions(f"file:{replay}", chdb_dsn, tmp_path_factory.mktemp("data")))
    yield {"replay": replay, "truth": truth, "client": client, "db": db, "cfg": cfg,
           "q": ReportQueries(client, db), "dsn": chdb_dsn}
    client.command(f"DROP DATABASE IF EXISTS {db}")


def sql(ctx, query):
    return ctx["client"].query(query, settings={"final": 1}).result_rows


def replay_meter(ctx, meter_id):
    """Raw totalizer readings of one meter from the replay file: (epoch ms, gov_total_m3) arrays."""
    ts, total = [], []
    with (ctx["replay"] / "meter.readings.jsonl").open() as fh:
        for line in fh:
            r = json.loads(line)
            if r["meter_id"] == meter_id:
                ts.append(datetime.fromisoformat(r["ts"].replace("Z", "+00:00")).timestamp())
                total.append(r["gov_total_m3"])
    return np.array(ts), np.array(total)


def operations(ctx):
    return sql(ctx, f"SELECT operation_id, meter_id FROM {ctx['db']}.meter_operations WHERE status = 'closed' "
                    "ORDER BY meter_id")


def test_meter_report_matches_readings_sums_and_the_simulators_truth(loaded, tmp_path):
    ctx = loaded
    for op_id, meter_id in operations(ctx):
        rep = meter_operation_report(ctx["q"], op_id)
        f = {x.field: x.value for x in rep.fields}
        t = ctx["truth"].per_meter[meter_id]
        # independent sums over the readings table
        d_gov, d_gsv, d_mass = (np.array([r[i] for r in sql(
            ctx, f"SELECT delta_gov_m3, delta_gsv_15c_m3, delta_mass_vacuum_kg FROM {ctx['db']}.meter_readings "
                 f"WHERE operation_id = '{op_id}'")]) for i in range(3))
        assert f["total_gov_m3"] == pytest.approx(float(d_gov.sum()), abs=1e-6)
        assert f["net_gsv_15c_m3"] == pytest.approx(float(d_gsv.sum()), abs=1e-6)
        assert f["net_mass_air_kg"] == pytest.approx(float(d_mass.sum() - 1.1 * d_gsv.sum()), abs=1e-3)
        # the simulator's truth: indexes to the displayed 0.001 m³, standard volume and masses within 0.02 %
        assert f["opening_index_m3"] == pytest.approx(t["opening_index_m3"], abs=0.0015)
        assert f["closing_index_m3"] == pytest.approx(t["closing_index_m3"], abs=0.0015)
        assert f["total_gov_m3"] == pytest.approx(t["gov_m3"], abs=0.003)
        assert f["net_gsv_15c_m3"] == pytest.approx(t["gsv_15c_m3"], rel=2e-4)
        assert f["total_mass_vacuum_kg"] == pytest.approx(t["mass_vacuum_kg"], rel=2e-4)
        assert f["net_mass_air_kg"] == pytest.approx(t["mass_air_kg"], rel=2e-4)
        assert f["ship_name"] == "MT Akdeniz Yildizi" and f["tank_ids"] == list(ctx["truth"].per_tank)[:1]
        assert f["declaration_no"] and f["bl_no"] and f["reconciliation_decisive_figure"] in ("meter", "review")
        assert len(rep.readings) == len(d_gov)


def test_meter_report_files_pdf_and_csv_parse_back(loaded, tmp_path):
    ctx = loaded
    op_id, _meter = operations(ctx)[0]
    rep = meter_operation_report(ctx["q"], op_id)
    files = write_meter_report(rep, tmp_path, {"pdf", "csv"})
    pdf = next(p for p in files if p.suffix == ".pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    assert pages >= 3  # two field pages and the plot page

    fields_csv = next(p for p in files if p.name.endswith(f"{op_id}.csv"))
    with fields_csv.open() as fh:
        back = {r["field"]: r for r in csv.DictReader(fh)}
    want = {x.field: x.value for x in rep.fields}
    for name in ("total_gov_m3", "net_gsv_15c_m3", "opening_index_m3", "closing_index_m3", "cumulative_gsv_15c_m3"):
        assert back[name]["unit"] == "m3"
        assert float(back[name]["value"]) == pytest.approx(want[name], abs=0.0005)
    for name in ("total_mass_vacuum_kg", "net_mass_air_kg"):
        assert float(back[name]["value"]) == pytest.approx(want[name], abs=0.05)

    series_csv = next(p for p in files if p.name.endswith("_readings.csv"))
    with series_csv.open() as fh:
        rows = list(csv.DictReader(fh))
    n, gov = sql(ctx, f"SELECT count(), sum(delta_gov_m3) FROM {ctx['db']}.meter_readings "
                      f"WHERE operation_id = '{op_id}'")[0]
    assert len(rows) == n
    assert sum(float(r["delta_gov_m3"]) for r in rows) == pytest.approx(gov, abs=1e-9)


def test_period_report_splits_a_discharge_across_midnight(loaded):
    ctx = loaded
    end = datetime(2026, 3, 2, 3, tzinfo=UTC)
    whole = period_report(ctx["q"], START, end, "none", [], [])
    daily = period_report(ctx["q"], START, end, "day", [], [])
    weekly = period_report(ctx["q"], START, end, "week", [], [])
    ops = dict(sql(ctx, f"SELECT meter_id, gov_m3 FROM {ctx['db']}.meter_operations WHERE status = 'closed'"))
    for meter_id, op_gov in ops.items():
        w = next(r for r in whole.meter_rows if r["meter_id"] == meter_id)
        assert w["gov_m3"] == pytest.approx(op_gov, abs=1e-6)
        for rep in (daily, weekly):
            b1, b2, total = (r for r in rep.meter_rows if r["meter_id"] == meter_id)
            assert b1["bucket_end"] == MIDNIGHT and b2["bucket_start"] == MIDNIGHT
            assert b1["gov_m3"] > 100 and b2["gov_m3"] > 100  # the operation really is split
            for col in ("gov_m3", "gsv_15c_m3", "mass_vacuum_kg", "mass_air_kg"):
                assert b1[col] + b2[col] == pytest.approx(w[col], rel=1e-12)
                assert total[col] == pytest.approx(w[col], rel=1e-12)
            # independent: the totalizer in the raw replay at midnight minus the operation's opening index
            ts, total_idx = replay_meter(ctx, meter_id)
            at_midnight = total_idx[ts <= MIDNIGHT.timestamp()][-1]
            opening = ctx["truth"].per_meter[meter_id]["opening_index_m3"]
            assert b1["gov_m3"] == pytest.approx(at_midnight - opening, abs=0.002)
            assert b1["index_end_m3"] == pytest.approx(at_midnight, abs=1e-9)
            assert b1["operation_ids"] == b2["operation_ids"] and len(b1["operation_ids"]) == 1

    for tank_id, t in ctx["truth"].per_tank.items():
        w = next(r for r in whole.tank_rows if r["tank_id"] == tank_id)
        # 1 mm of gauge resolution ≈ 0.38 m³ in these tanks
        assert w["opening_gsv_15c_m3"] == pytest.approx(t["opening_gsv_15c_m3"], abs=1.0)
        assert w["closing_gsv_15c_m3"] == pytest.approx(t["closing_gsv_15c_m3"], abs=1.0)
        assert w["net_change_m3"] == pytest.approx(t["received_gsv_15c_m3"], abs=2.0)
        b1, b2, _total = (r for r in daily.tank_rows if r["tank_id"] == tank_id)
        assert b1["closing_gsv_15c_m3"] == b2["opening_gsv_15c_m3"]
        assert b1["net_change_m3"] + b2["net_change_m3"] == pytest.approx(w["net_change_m3"], abs=1e-9)
        if t["received_gsv_15c_m3"] > 0:
            assert w["receipts_m3"] == pytest.approx(t["received_gsv_15c_m3"], rel=0.01)
            assert b1["receipts_m3"] > 100 and b2["receipts_m3"] > 100


def test_no_movement_for_idle_and_receiving_tanks(loaded):
    ctx = loaded
    truth = ctx["truth"]
    start, end = START, datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    idle = [k for k, v in truth.per_tank.items() if v["received_gsv_15c_m3"] == 0]
    busy = [k for k, v in truth.per_tank.items() if v["received_gsv_15c_m3"] > 0]
    assert idle and busy
    for tank_id in idle:
        r = no_movement_report(ctx["q"], ctx["cfg"], tank_id, start, end)
        assert r.verdict == NO_MOVEMENT, r.reason
        # a period running past the last gauge reading by hours cannot be proven
        late = no_movement_report(ctx["q"], ctx["cfg"], tank_id, start, datetime(2026, 3, 3, tzinfo=UTC))
        assert late.verdict == INSUFFICIENT
    for tank_id in busy:
        r = no_movement_report(ctx["q"], ctx["cfg"], tank_id, start, end)
        f = {x.field: x.value for x in r.fields}
        assert r.verdict == MOVEMENT
        assert f["meter_M-01_unchanged"] is False and len(f["operations_overlapping"]) == 2


def test_report_commands(loaded, tmp_path, capsys, monkeypatch):
    ctx = loaded
    monkeypatch.setenv("QUAYWATCH__WAREHOUSE__DATABASE", ctx["db"])
    common = ["--warehouse", ctx["dsn"], "--data-dir", str(tmp_path)]
    op_id, _ = operations(ctx)[0]
    assert main(["report", "meter-operation", op_id, *common, "--out", str(tmp_path / "op")]) == 0
    assert sorted(p.suffix for p in (tmp_path / "op").iterdir()) == [".csv", ".csv", ".pdf"]

    assert main(["report", "period", "--from", "transfer:TR-2026-0001", "--to", "2026-03-02T03:00:00Z",
                 "--every", "week", *common, "--format", "table,csv,pdf", "--out", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "== Meters" in out and "M-01" in out and "total" in out
    pdf = next((tmp_path / "p").glob("*.pdf")).read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 2  # meters, tanks
    meters_csv = next((tmp_path / "p").glob("*_meters.csv"))
    with meters_csv.open() as fh:
        rows = [r for r in csv.DictReader(fh) if r["bucket"] != "total"]
    ops = dict(sql(ctx, f"SELECT meter_id, gov_m3 FROM {ctx['db']}.meter_operations WHERE status = 'closed'"))
    for meter_id, gov in ops.items():
        assert sum(float(r["gov_m3"]) for r in rows if r["meter_id"] == meter_id) == pytest.approx(gov, abs=0.002)

    idle = next(k for k, v in ctx["truth"].per_tank.items() if v["received_gsv_15c_m3"] == 0)
    assert main(["report", "no-movement", "--tank", idle, "--from", "2026-03-01T23:20:00Z",
                 "--to", "2026-03-02T01:00:00Z", *common, "--out", str(tmp_path / "nm")]) == 0
    assert "VERDICT: NO MOVEMENT" in capsys.readouterr().out
    assert len(list(Path(tmp_path / "nm").glob("*.csv"))) == 1

    assert main(["report", "meter-operation", "no-such-op", *common]) == 2


def test_meter_report_shows_lab_density_reconciliation_and_alerts_when_rows_exist(warehouse):
    client, db = warehouse
    t0, t1 = datetime(2026, 3, 1, 6, 5, tzinfo=UTC), datetime(2026, 3, 1, 7, 35, tzinfo=UTC)
    client.insert(f"{db}.meter_operations", [[
        "M-01-X", "TR-9", "M-01", "SN", "MT Lab", "Diesel", "refined", "discharge", t0, t1, 10.0, 110.0, 100.0,
        99.6, 83_316.0, 83_206.44, 20.0, 300.0, 832.0, 836.5, "lab:customs_lab:officer-2", "closed", ["late_data"],
        1]], column_names=[
        "operation_id", "transfer_id", "meter_id", "meter_serial", "ship_name", "product", "product_group",
        "direction", "started_at", "ended_at", "opening_index_m3", "closing_index_m3", "gov_m3", "gsv_15c_m3",
        "mass_vacuum_kg", "mass_air_kg", "avg_temp_c", "avg_pressure_kpa", "avg_density_obs_kgm3",
        "density_15c_kgm3", "density_source", "status", "flags", "revision"])
    client.insert(f"{db}.lab_densities", [["TR-9", t0, "officer-1", 835.0, "ship_lab_report", ""],
                                          ["TR-9", t1, "officer-2", 836.5, "customs_lab", "recheck"]],
                  column_names=["transfer_id", "ts", "officer_id", "density_15c_kgm3", "source", "note"])
    client.insert(f"{db}.transfers", [["TR-9", "open", t0, ["T-7", "T-8"], 83_000.0],
                                      ["TR-9", "close", t1, ["T-7", "T-8"], 83_000.0]],
                  column_names=["transfer_id", "event", "ts", "tank_ids", "declaration_quantity_kg"])
    client.insert(f"{db}.reconciliations", [["TR-9", t1, "closed", 0.25, 1, "meter", 1]],
                  column_names=["transfer_id", "ts", "status", "diff_bl_pct", "within_tolerance", "decisive_figure",
                                "revision"])
    client.insert(f"{db}.alerts", [
        ["a1", t1, "bl_tolerance", "warning", "operation", "M-01-X", t0, t1, "meter vs B/L 0.25 %", "open", 1],
        ["a2", t0, "meter_failure", "critical", "meter", "M-01", t0, t0, "fault", "resolved", 2],
        ["a3", t0, "meter_failure", "critical", "meter", "M-01", datetime(2026, 3, 2, tzinfo=UTC),
         datetime(2026, 3, 2, 0, 1, tzinfo=UTC), "other day", "open", 3]],
        column_names=["alert_id", "ts", "kind", "severity", "entity_type", "entity_id", "window_start", "window_end",
                      "message", "status", "revision"])
    f = {x.field: x.value for x in meter_operation_report(ReportQueries(client, db), "M-01-X").fields}
    assert f["tank_ids"] == ["T-7", "T-8"] and f["declaration_quantity_kg"] == 83_000.0
    assert f["lab_density_15c_kgm3"] == 836.5 and f["lab_density_officer"] == "officer-2"
    assert f["lab_density_previous_kgm3"] == 835.0 and "officer-1" in f["lab_density_previous_by"]
    assert f["reconciliation_diff_bl_pct"] == 0.25 and f["reconciliation_decisive_figure"] == "meter"
    alerts = [v for k, v in f.items() if k.startswith("alert_")]
    assert len(alerts) == 2  # the operation's alert and the meter's alert during it, not the other day's
    assert alerts[0].startswith("meter_failure [critical, resolved]") and alerts[1].startswith("bl_tolerance")
    assert f["flags"] == ["late_data"]
