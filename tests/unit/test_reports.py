"""Report models on hand-built warehouse rows: buckets, per-meter and per-tank sums, no-movement verdicts,
the meter report's fields and the CSV/table forms. Expected values are worked out by hand in each test."""

import csv
import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from operators.reports.fields import FIELD_HEADERS, ReportField, field_rows, fmt, text_table, write_csv
from operators.reports.meter_report import build_meter_report, density_source_label, series_rows
from operators.reports.no_movement import INSUFFICIENT, MOVEMENT, NO_MOVEMENT, assess, gauge_band_m3
from operators.reports.period import bucket_bounds, meter_rows, tank_rows
from operators.strapping import StrappingTable


def t(day: int, hour: int = 0, minute: int = 0, month: int = 3, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ---------------------------------------------------------------- buckets
def test_day_buckets_cut_at_midnight_utc_with_partial_ends():
    assert bucket_bounds(t(1, 23), t(3, 6), "day") == [t(1, 23), t(2), t(3), t(3, 6)]


def test_week_buckets_start_on_monday():
    # 2026-03-01 is a Sunday: ISO weeks start Monday 2 March and Monday 9 March
    assert bucket_bounds(t(1, 12), t(10), "week") == [t(1, 12), t(2), t(9), t(10)]
    assert t(2).isoweekday() == 1 and t(9).isoweekday() == 1


def test_month_buckets_cross_the_year():
    b = bucket_bounds(t(15, month=11, year=2026), t(10, month=2, year=2027), "month")
    assert b == [t(15, month=11, year=2026), t(1, month=12, year=2026), t(1, month=1, year=2027),
                 t(1, month=2, year=2027), t(10, month=2, year=2027)]


def test_none_is_one_bucket_and_bad_periods_are_refused():
    assert bucket_bounds(t(1), t(2), "none") == [t(1), t(2)]
    with pytest.raises(ValueError):
        bucket_bounds(t(2), t(1), "day")
    with pytest.raises(ValueError):
        bucket_bounds(t(1), t(2), "fortnight")
    with pytest.raises(ValueError):
        bucket_bounds(datetime(2026, 3, 1), t(2), "day")  # naive time


# ---------------------------------------------------------------- meters
def test_meter_rows_split_an_operation_and_total_the_buckets():
    bounds = [t(1, 20), t(2), t(2, 6)]
    sums = [
        {"meter_id": "M-01", "bucket": 0, "readings": 100, "gov_m3": 400.0, "gsv_15c_m3": 398.0,
         "mass_vacuum_kg": 332_000.0, "mass_air_kg": 331_562.2},
        {"meter_id": "M-01", "bucket": 1, "readings": 50, "gov_m3": 100.0, "gsv_15c_m3": 99.5,
         "mass_vacuum_kg": 83_000.0, "mass_air_kg": 82_890.55},
    ]
    index_at = [{"M-01": {"index_m3": 1000.0}}, {"M-01": {"index_m3": 1400.5}}, {"M-01": {"index_m3": 1500.5}}]
    ops = [{"operation_id": "op-a", "meter_id": "M-01", "started_at": t(1, 23), "ended_at": t(2, 1)},
           {"operation_id": "op-b", "meter_id": "M-01", "started_at": t(1, 20, 30), "ended_at": t(1, 21)}]
    rows = meter_rows(bounds, ["M-01"], sums, index_at, ops)
    assert [r["bucket"] for r in rows] == ["1", "2", "total"]
    first, second, total = rows
    assert first["operation_ids"] == ["op-a", "op-b"] and second["operation_ids"] == ["op-a"]
    assert total["operations"] == 2
    assert total["gov_m3"] == pytest.approx(500.0) and total["mass_air_kg"] == pytest.approx(414_452.75)
    assert total["readings"] == 150
    # index change 400.5 of which 400 in operations: 0.5 m³ moved outside operations
    assert first["index_change_m3"] == pytest.approx(400.5)
    assert first["outside_operations_m3"] == pytest.approx(0.5)
    assert total["index_change_m3"] == pytest.approx(500.5)


def test_meter_without_readings_in_a_bucket_reports_zero_not_missing():
    rows = meter_rows([t(1), t(2)], ["M-09"], [], [{}, {}], [])
    assert rows[0]["gov_m3"] == 0.0 and rows[0]["readings"] == 0
    assert rows[0]["index_start_m3"] is None and rows[0]["outside_operations_m3"] is None


# ---------------------------------------------------------------- tanks
def reading(ts, gsv, state, level=1000.0, mass_air=None):
    return {"ts": ts, "gsv_15c_m3": gsv, "state": state, "level_mm": level,
            "mass_air_kg": gsv * 835.4 if mass_air is None else mass_air, "gov_m3": gsv, "tov_m3": gsv}


def test_tank_rows_receipts_deliveries_and_boundary_stock():
    bounds = [t(1, 22), t(2), t(2, 4)]
    opening = reading(t(1, 21, 59), 100.0, "idle")
    readings = [
        reading(t(1, 23), 150.0, "receiving"),   # +50 receipt
        reading(t(2), 149.8, "idle"),            # -0.2 other, on the boundary: belongs to bucket 1
        reading(t(2, 1), 180.0, "receiving"),    # +30.2 receipt
        reading(t(2, 2), 170.0, "delivering"),   # -10 delivery
        reading(t(2, 3), 170.3, "delivering"),   # +0.3 while delivering: other
    ]
    rows = tank_rows(bounds, "T-1", opening, readings)
    b1, b2, total = rows
    assert (b1["opening_gsv_15c_m3"], b1["closing_gsv_15c_m3"]) == (100.0, 149.8)
    assert b1["receipts_m3"] == pytest.approx(50.0) and b1["other_m3"] == pytest.approx(-0.2)
    assert b2["opening_gsv_15c_m3"] == 149.8 and b2["closing_gsv_15c_m3"] == 170.3
    assert b2["receipts_m3"] == pytest.approx(30.2) and b2["deliveries_m3"] == pytest.approx(10.0)
    assert b2["other_m3"] == pytest.approx(0.3)
    for r in rows:
        assert r["net_change_m3"] == pytest.approx(r["receipts_m3"] - r["deliveries_m3"] + r["other_m3"])
    assert total["net_change_m3"] == pytest.approx(70.3)
    assert total["readings"] == 5
    assert total["net_change_mass_air_kg"] == pytest.approx(70.3 * 835.4)


def test_tank_bucket_without_readings_keeps_the_stock():
    rows = tank_rows([t(1), t(2)], "T-1", reading(t(1) - timedelta(hours=3), 42.0, "idle"), [])
    assert rows[0]["closing_gsv_15c_m3"] == 42.0 and rows[0]["net_change_m3"] == 0.0 and rows[0]["readings"] == 0


# ---------------------------------------------------------------- no movement
STRAP = StrappingTable(np.array([0.0, 10_000.0]), np.array([0.0, 4_000.0]))  # 0.4 m³/mm


def test_gauge_band_is_the_strapped_volume_of_plus_minus_the_uncertainty():
    band, method = gauge_band_m3(5000.0, 3.0, 0.998, STRAP, 2000.0)
    assert band == pytest.approx(6 * 0.4 * 0.998)
    assert "strapping" in method
    band_fallback, _ = gauge_band_m3(5000.0, 3.0, 1.0, None, 2000.0)  # cross-section 2000/5000 = 0.4 m³/mm
    assert band_fallback == pytest.approx(2.4)


def idle_series(start, n, gsv=2000.0, jitter=(0.0, 0.5, -0.4, 0.3), step_s=60):
    return [reading(start + timedelta(seconds=step_s * (i + 1)), gsv + jitter[i % len(jitter)], "idle", 5000.0)
            for i in range(n)]


def nm(readings, baseline=None, start=None, end=None, max_gap_s=900.0):
    start = start or t(1)
    end = end or t(1, 1)
    index = {"M-01": ({"index_m3": 10.0}, {"index_m3": 10.0})}
    return assess("T-1", start, end, baseline, readings, 3.0, max_gap_s, STRAP, index, [], "test")


def test_noise_inside_the_gauge_band_is_no_movement():
    r = nm(idle_series(t(1), 60), baseline=reading(t(1), 2000.0, "idle", 5000.0))
    fields = {f.field: f.value for f in r.fields}
    assert r.verdict == NO_MOVEMENT
    assert fields["gsv_15c_range_m3"] == pytest.approx(0.9)  # 2000.5 − 1999.6
    assert fields["meter_M-01_unchanged"] is True
    assert fields["largest_gap_s"] == 60


def test_a_change_beyond_the_band_is_movement():
    readings = [*idle_series(t(1), 30), reading(t(1, 0, 45), 2003.0, "receiving", 5007.5)]
    assert nm(readings, baseline=reading(t(1), 2000.0, "idle", 5000.0)).verdict == MOVEMENT


def test_a_gap_longer_than_allowed_leaves_the_period_unproven():
    # readings stop after 30 min of a 2 h period
    r = nm(idle_series(t(1), 30), baseline=reading(t(1), 2000.0, "idle", 5000.0), end=t(1, 2))
    fields = {f.field: f.value for f in r.fields}
    assert r.verdict == INSUFFICIENT
    assert fields["largest_gap_s"] == pytest.approx(5400.0)
    assert nm([], baseline=None).verdict == INSUFFICIENT


def test_without_a_baseline_the_start_of_the_period_counts_as_a_gap():
    late = [reading(t(1, 0, 20) + timedelta(minutes=i), 2000.0, "idle", 5000.0) for i in range(41)]
    r = nm(late, baseline=None)
    assert r.verdict == INSUFFICIENT and "1200 s" in r.reason


# ---------------------------------------------------------------- meter report
OP = {
    "operation_id": "M-01-20260301T060500Z", "transfer_id": "TR-1", "meter_id": "M-01", "meter_serial": "SN-1",
    "ship_name": "MT Test", "product": "Diesel", "product_group": "refined", "direction": "discharge",
    "started_at": t(1, 6, 5), "ended_at": t(1, 7, 35), "opening_index_m3": 1000.0, "closing_index_m3": 2271.6049,
    "gov_m3": 1271.6049, "gsv_15c_m3": 1264.5361, "mass_vacuum_kg": 1_057_788.6, "mass_air_kg": 1_056_397.6,
    "avg_temp_c": 21.86, "avg_pressure_kpa": 357.4, "avg_density_obs_kgm3": 831.85, "density_15c_kgm3": 836.5,
    "density_source": "lab:ship_lab_report:officer-7", "flow_integrated_gov_m3": 1271.6, "reading_count": 5539,
    "bl_no": "BL1", "bl_date": "2026-02-22", "bl_quantity_kg_air": 2_092_307.0, "summary_declaration_no": "SD1",
    "summary_declaration_date": "2026-02-28", "declaration_no": "DEC1", "declaration_date": "2026-03-01",
    "edition": "API MPMS 11.1-2004", "status": "closed", "flags": [], "cumulative_gov_m3": 5000.0,
    "cumulative_gsv_15c_m3": 4980.0, "cumulative_mass_vacuum_kg": 4_165_770.0, "cumulative_mass_air_kg": 4_160_292.0,
}
TRANSFER = {"transfer_id": "TR-1", "tank_ids": ["T-101", "T-102"], "declaration_quantity_kg": 2_092_000.0,
            "bl_quantity_m3_15c": 2504.557}


def meter_report(labs=(), recon=None, alerts=()):
    readings = [{"ts": t(1, 6, 5), "flow_m3h": 93.29, "temp_c": 22.8, "pressure_kpa": 53.9,
                 "density_obs_kgm3": float("nan"), "density_15c_kgm3": 836.5, "density_source": "meter",
                 "gov_total_m3": 1000.025, "delta_gov_m3": 0.025, "delta_gsv_15c_m3": 0.02,
                 "delta_mass_vacuum_kg": 16.7, "status": "ok"}]
    sums = {"readings": 1, "gov_m3": 1271.6049, "gsv_15c_m3": 1264.5361, "mass_air_kg": 1_056_397.6}
    return build_meter_report(OP, TRANSFER, list(labs), recon, list(alerts), sums, readings)


def test_meter_report_has_every_field_of_art_4_10_and_9_4():
    f = {x.field: x for x in meter_report().fields}
    required = ["ship_name", "bl_no", "bl_date", "bl_quantity_kg_air_15c", "summary_declaration_no",
                "summary_declaration_date", "started_at", "ended_at", "tank_ids", "product", "total_gov_m3",
                "total_mass_vacuum_kg", "net_gsv_15c_m3", "net_mass_air_kg", "cumulative_gov_m3",
                "cumulative_gsv_15c_m3", "cumulative_mass_vacuum_kg", "cumulative_mass_air_kg", "declaration_no",
                "declaration_date", "declaration_quantity_kg", "opening_index_m3", "opening_index_time",
                "closing_index_m3", "closing_index_time", "meter_id", "meter_serial", "avg_temp_c",
                "avg_pressure_kpa", "avg_density_obs_kgm3", "density_15c_kgm3", "density_15c_source", "edition",
                "flags"]
    assert [name for name in required if name not in f] == []
    assert f["tank_ids"].value == ["T-101", "T-102"]
    assert fmt(f["tank_ids"].value) == "T-101; T-102"
    assert f["net_gsv_15c_l"].value == 1_264_536
    assert f["index_difference_m3"].value == pytest.approx(1271.6049)
    assert f["reconciliation"].value == "none" and f["alerts"].value == "none" and f["flags"].value == "none"
    assert f["density_15c_source"].value == "officer lab entry (ship_lab_report, officer officer-7)"


def test_lab_density_shows_the_officer_and_the_value_it_replaced():
    labs = [{"ts": t(1, 6, 30), "officer_id": "officer-3", "density_15c_kgm3": 835.9, "source": "ship_lab_report"},
            {"ts": t(1, 7), "officer_id": "officer-7", "density_15c_kgm3": 836.5, "source": "customs_lab"}]
    f = {x.field: x.value for x in meter_report(labs=labs).fields}
    assert f["lab_density_15c_kgm3"] == 836.5 and f["lab_density_officer"] == "officer-7"
    assert f["lab_density_previous_kgm3"] == 835.9 and "officer-3" in f["lab_density_previous_by"]
    assert f["lab_density_applied"] is True
    one = {x.field: x.value for x in meter_report(labs=labs[:1]).fields}
    # one entry: the value replaced is the readings' own ρ15 = Σ mass / Σ GSV = 16.7 / 0.02
    assert one["lab_density_previous_kgm3"] == pytest.approx(835.0)


def test_reconciliation_and_alerts_are_listed_when_present():
    recon = {"status": "closed", "diff_bl_pct": -0.21, "within_tolerance": 1, "decisive_figure": "meter"}
    alert = {"kind": "meter_failure", "severity": "critical", "status": "open", "window_start": t(1, 7),
             "window_end": t(1, 7, 1), "message": "no readings for 60 s"}
    f = {x.field: x.value for x in meter_report(recon=recon, alerts=[alert]).fields}
    assert f["reconciliation_diff_bl_pct"] == -0.21 and f["reconciliation_decisive_figure"] == "meter"
    assert f["alert_1"].startswith("meter_failure [critical, open] 2026-03-01T07:00:00.000Z")
    assert "reconciliation" not in f and "alerts" not in f


def test_field_csv_round_trips_and_is_rounded_per_unit():
    rep = meter_report()
    buf = io.StringIO()
    write_csv(buf, FIELD_HEADERS, field_rows(rep.fields))
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    by = {r["field"]: r for r in rows}
    assert list(rows[0]) == ["field", "value", "unit"]
    assert by["total_gov_m3"] == {"field": "total_gov_m3", "value": "1271.605", "unit": "m3"}
    assert by["net_mass_air_kg"]["value"] == "1056397.6"
    assert by["started_at"]["value"] == "2026-03-01T06:05:00.000Z"
    assert by["avg_temp_c"]["value"] == "21.86"


def test_series_rows_keep_full_precision_and_blank_missing_values():
    rows = series_rows(meter_report().readings)
    assert rows[0][0] == "2026-03-01T06:05:00.000Z"
    assert rows[0][4] == ""          # NaN observed density
    assert rows[0][8] == "0.025"


def test_formatting_helpers():
    assert fmt(None) == "" and fmt(float("nan"), "m3") == "" and fmt(-0.0001, "m3") == "0.000"
    assert fmt(True) == "yes" and fmt(3, "s") == "3"
    assert density_source_label("config_default,meter") == "default (site configuration), meter (densitometer)"
    assert text_table(["a", "bb"], [["1", "2"]]) == "a  bb\n-  --\n1  2\n"
    assert text_table(["a"], []) == "(no rows)\n"
    assert field_rows([ReportField("s", "x", 1.23456, "kg")]) == [["x", "1.2", "kg"]]
