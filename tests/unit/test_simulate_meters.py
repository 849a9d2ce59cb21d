"""The tanker-discharge simulator: reproducible, physically consistent, contract-shaped, faults on request."""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from connectors.simulate.meters import (
    FAULTS,
    DischargeScenario,
    Truth,
    simulate_discharge,
    simulate_readings_file,
)
from flows.config import Config, load_config
from operators.strapping import StrappingTable
from operators.vcf import correct, correct_batch

START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FILES = ("meter.readings.jsonl", "tank.readings.jsonl", "transfers.jsonl", "truth.json")
METER_FIELDS = ("meter_id", "ts", "gov_total_m3", "flow_m3h", "temp_c", "pressure_kpa", "status")
METER_NUMBERS = ("gov_total_m3", "flow_m3h", "temp_c", "pressure_kpa")
TANK_FIELDS = ("tank_id", "ts", "level_mm", "temp_c")
TRANSFER_FIELDS = (
    "transfer_id", "event", "ts", "direction", "ship_name", "meter_ids", "tank_ids", "product",
    "product_group", "bl_no", "bl_date", "bl_quantity_kg_air", "summary_declaration_no",
    "summary_declaration_date", "declaration_no", "declaration_date", "ship_tank_opening_m3_15c",
    "ship_tank_closing_m3_15c",
)  # fmt: skip


@dataclass
class Replay:
    """A simulated replay directory, parsed."""

    path: Path
    truth: Truth
    meters: dict[str, list[dict[str, Any]]]  # valid readings of configured meters, per meter
    bad: list[str]  # lines that are not valid readings of a configured meter
    tanks: dict[str, list[dict[str, Any]]]
    transfers: list[dict[str, Any]]


def _valid_reading(line: str, meter_ids: set[str]) -> dict[str, Any] | None:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or any(k not in obj for k in METER_FIELDS):
        return None
    if obj["meter_id"] not in meter_ids or not TS_RE.match(str(obj["ts"])) or obj["status"] != "ok":
        return None
    numbers = [obj[k] for k in METER_NUMBERS]
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in numbers):
        return None
    return obj


def _load(path: Path, truth: Truth, config: Config) -> Replay:
    meter_ids = {m.meter_id for m in config.meters}
    meters: dict[str, list[dict[str, Any]]] = {m: [] for m in meter_ids}
    bad = []
    for line in (path / "meter.readings.jsonl").read_text(encoding="utf-8").splitlines():
        obj = _valid_reading(line, meter_ids)
        if obj is None:
            bad.append(line)
        else:
            meters[obj["meter_id"]].append(obj)
    tanks: dict[str, list[dict[str, Any]]] = {t.tank_id: [] for t in config.tanks}
    for line in (path / "tank.readings.jsonl").read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        tanks[obj["tank_id"]].append(obj)
    transfers = [json.loads(x) for x in (path / "transfers.jsonl").read_text(encoding="utf-8").splitlines()]
    return Replay(path, truth, meters, bad, tanks, transfers)


def _simulate(config: Config, out: Path, seed: int = 7, **kwargs: Any) -> Replay:
    truth = simulate_discharge(config, DischargeScenario(start=START, **kwargs), out, seed=seed)
    return _load(out, truth, config)


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


@pytest.fixture(scope="module")
def clean(config: Config, tmp_path_factory: pytest.TempPathFactory) -> Replay:
    return _simulate(config, tmp_path_factory.mktemp("clean"))


def _col(rows: list[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([r[key] for r in rows], dtype=np.float64)


def _seconds(rows: list[dict[str, Any]]) -> np.ndarray:
    return np.array([datetime.fromisoformat(r["ts"]).timestamp() for r in rows])


# ------------------------------------------------------------------------------------------------
# reproducibility and shape
# ------------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes_other_seed_differs(config: Config, tmp_path: Path) -> None:
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        simulate_discharge(config, DischargeScenario(start=START, faults=FAULTS), tmp_path / name, seed=seed)
    for f in FILES:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
        assert (tmp_path / "a" / f).read_bytes() != (tmp_path / "c" / f).read_bytes(), f


def test_every_line_parses_with_contract_fields_and_files_sorted_by_ts(clean: Replay, config: Config) -> None:
    assert clean.bad == []
    for meter_id, rows in clean.meters.items():
        assert rows, meter_id
        for r in rows:
            assert isinstance(r["density_kgm3"], float) and isinstance(r["mass_total_kg"], int)
            assert isinstance(r["mass_flow_kgh"], int)
    for tank_id, rows in clean.tanks.items():
        assert rows, tank_id
        for r in rows:
            assert all(k in r for k in TANK_FIELDS) and TS_RE.match(r["ts"])
            assert isinstance(r["level_mm"], int) and isinstance(r["water_mm"], int)
    for name in ("meter.readings.jsonl", "tank.readings.jsonl", "transfers.jsonl"):
        stamps = [json.loads(x)["ts"] for x in (clean.path / name).read_text(encoding="utf-8").splitlines()]
        assert stamps == sorted(stamps), name
    assert [t["event"] for t in clean.transfers] == ["open", "close"]
    for event in clean.transfers:
        assert all(k in event for k in TRANSFER_FIELDS)
        assert event["direction"] == "discharge" and event["product_group"] == "refined"
        assert event["meter_ids"] == [m.meter_id for m in config.meters]
    truth_file = json.loads((clean.path / "truth.json").read_text(encoding="utf-8"))
    assert truth_file["per_meter"] == clean.truth.per_meter
    assert truth_file["started_at"] == clean.truth.started_at


def test_instrument_resolution_in_the_text(clean: Replay) -> None:
    line = (clean.path / "meter.readings.jsonl").read_text(encoding="utf-8").splitlines()[1000]
    assert re.search(r'"gov_total_m3": \d+\.\d{3},', line)
    assert re.search(r'"flow_m3h": \d+\.\d{2},', line)
    assert re.search(r'"temp_c": \d+\.\d{2},', line)
    assert re.search(r'"pressure_kpa": \d+\.\d,', line)
    assert re.search(r'"density_kgm3": \d+\.\d,', line)
    assert re.search(r'"ts": "2026-03-01T06:\d\d:\d\d\.000Z"', line)


# ------------------------------------------------------------------------------------------------
# meter physics
# ------------------------------------------------------------------------------------------------


def test_totalizer_matches_integrated_flow_within_quantisation(clean: Replay) -> None:
    for rows in clean.meters.values():
        gov, flow = _col(rows, "gov_total_m3"), _col(rows, "flow_m3h")
        dt = np.diff(_seconds(rows))
        assert np.all(dt == 1.0)
        step = np.diff(gov)
        assert np.all(step >= 0)
        # each interval: quantisation 0.001 m³ of the totalizer, 0.005 m³/h of the flow
        assert np.max(np.abs(step - flow[1:] * dt / 3600)) < 0.001 + 0.005 / 3600 + 1e-9
        assert abs((gov[-1] - gov[0]) - np.sum(flow[1:] * dt) / 3600) < 0.001 + len(rows) * 0.005 / 3600


def test_gsv_recomputed_from_the_file_matches_truth(clean: Replay) -> None:
    rho15 = DischargeScenario(start=START).density_15c_kgm3
    total = 0.0
    for meter_id, rows in clean.meters.items():
        truth = clean.truth.per_meter[meter_id]
        d_gov = np.diff(_col(rows, "gov_total_m3"))
        temp, pres, dens = (_col(rows, k)[1:] for k in ("temp_c", "pressure_kpa", "density_kgm3"))
        # mass balance with the observed density: ΔGSV = ΔGOV · ρ_obs / ρ15
        by_density = float(np.sum(d_gov * dens / rho15))
        # the standard's CTPL at the reported line conditions: ΔGSV = ΔGOV · CTPL
        ctpl = correct_batch("refined", rho15, False, temp, pres, round_inputs=False).ctpl_raw
        by_ctpl = float(np.sum(d_gov * ctpl))
        for value in (by_density, by_ctpl):
            assert value == pytest.approx(truth["gsv_15c_m3"], rel=1e-4)
        assert d_gov.sum() == pytest.approx(truth["gov_m3"], abs=0.002)
        assert truth["mass_vacuum_kg"] == pytest.approx(truth["gsv_15c_m3"] * rho15, rel=1e-9)
        assert truth["mass_air_kg"] == pytest.approx(truth["gsv_15c_m3"] * (rho15 - 1.1), rel=1e-9)
        assert truth["opening_index_m3"] == rows[0]["gov_total_m3"]
        assert truth["closing_index_m3"] == rows[-1]["gov_total_m3"]
        assert truth["readings"] == len(rows)
        mass = _col(rows, "mass_total_kg")
        assert mass[-1] - mass[0] == pytest.approx(truth["mass_vacuum_kg"], abs=2.0)
        total += truth["gsv_15c_m3"]
    assert total == pytest.approx(9000.0, rel=1e-12)


def test_flow_pressure_temperature_in_plausible_ranges(clean: Replay, config: Config) -> None:
    for rows in clean.meters.values():
        flow, pres, temp = _col(rows, "flow_m3h"), _col(rows, "pressure_kpa"), _col(rows, "temp_c")
        full = flow >= 0.95 * np.median(flow[flow > 0])
        assert full.mean() > 0.8  # most of the time at full rate
        assert flow.max() <= 1200 and flow[full].min() >= 600
        assert pres[full].min() >= 250 and pres.max() <= 700
        assert 45 <= pres[flow == 0].mean() <= 55
        assert temp.min() >= 18 and temp.max() <= 26
        assert np.abs(np.diff(temp)).max() < 0.2  # slow drift plus ±0.05 °C noise
        dens = _col(rows, "density_kgm3")
        assert dens.min() > 825 and dens.max() < 836.5  # diesel warmer than 15 °C, slightly compressed


def test_idle_before_and_after_and_operation_bounds(clean: Replay, config: Config) -> None:
    start_flow = config.operations.start_flow_m3h
    first, last = [], []
    for rows in clean.meters.values():
        flow, t = _col(rows, "flow_m3h"), _seconds(rows)
        moving = np.flatnonzero(flow > 0)
        assert t[moving[0]] - t[0] >= 2 * config.operations.stop_after_s
        assert t[-1] - t[moving[-1]] >= 2 * config.operations.stop_after_s
        above = np.flatnonzero(flow > start_flow)
        first.append(rows[above[0]]["ts"])
        last.append(rows[above[-1]]["ts"])
        # the mid-discharge pause is shorter than the stop debounce: one operation
        below = np.flatnonzero(flow[above[0] : above[-1]] <= config.operations.stop_flow_m3h)
        assert below.size < config.operations.stop_after_s
    assert clean.truth.started_at == min(first) and clean.truth.ended_at == max(last)
    assert clean.transfers[0]["ts"] < clean.truth.started_at < clean.truth.ended_at < clean.transfers[1]["ts"]


def test_bl_quantity_is_near_the_true_weight_in_air(clean: Replay) -> None:
    air = sum(m["mass_air_kg"] for m in clean.truth.per_meter.values())
    ratio = clean.transfers[0]["bl_quantity_kg_air"] / air
    assert 0.001 <= abs(ratio - 1) <= 0.003
    opening, closing = clean.transfers[0]["ship_tank_opening_m3_15c"], clean.transfers[0]["ship_tank_closing_m3_15c"]
    assert opening - closing == pytest.approx(9000.0, rel=0.003)


# ------------------------------------------------------------------------------------------------
# shore tanks
# ------------------------------------------------------------------------------------------------


def _tank_gsv(row: dict[str, Any], table: StrappingTable, rho15: float) -> tuple[float, float]:
    """GSV from one gauge reading, and the volume of 1 mm at that level."""
    level = float(row["level_mm"])
    product = float(table.volume_at(level)) - float(table.volume_at(row["water_mm"]))
    ctl = correct("refined", rho15, "15c", row["temp_c"], 0.0, round_inputs=False).ctl_raw
    per_mm = float(table.volume_at(level + 1) - table.volume_at(level))
    return product * ctl, per_mm


def test_tank_gsv_change_matches_delivery_within_gauge_resolution(clean: Replay, config: Config) -> None:
    received = {k: v["received_gsv_15c_m3"] for k, v in clean.truth.per_tank.items()}
    assert sum(received.values()) == pytest.approx(9000.0, rel=1e-9)
    assert clean.transfers[0]["tank_ids"] == [k for k, v in received.items() if v > 0]
    assert received["T-101"] > 0 and received["T-102"] > 0
    for tank in config.tanks:
        rows, truth = clean.tanks[tank.tank_id], clean.truth.per_tank[tank.tank_id]
        table = StrappingTable.from_csv(tank.strapping_table)
        opening, mm0 = _tank_gsv(rows[0], table, tank.density_15c_kgm3)
        closing, mm1 = _tank_gsv(rows[-1], table, tank.density_15c_kgm3)
        # ±1 mm noise + 0.5 mm rounding per reading, 0.1 °C temperature noise
        assert opening == pytest.approx(truth["opening_gsv_15c_m3"], abs=1.5 * mm0 + 1e-4 * opening + 0.01)
        assert closing == pytest.approx(truth["closing_gsv_15c_m3"], abs=1.5 * mm1 + 1e-4 * closing + 0.01)
        assert closing - opening == pytest.approx(received[tank.tank_id], abs=1.5 * (mm0 + mm1) + 1.0)
        levels = _col(rows, "level_mm")
        assert levels.min() >= 0 and levels.max() <= table.max_level_mm
        assert float(table.volume_at(levels.max())) <= 0.96 * tank.capacity_m3


def test_tanks_fill_in_order_and_the_partly_full_one_first(clean: Replay) -> None:
    per_tank = clean.truth.per_tank
    assert per_tank["T-101"]["opening_gsv_15c_m3"] > 3 * per_tank["T-102"]["opening_gsv_15c_m3"]
    t101, t102 = (_col(clean.tanks[t], "level_mm") for t in ("T-101", "T-102"))
    rising_101 = np.flatnonzero(np.diff(t101) > 3)
    rising_102 = np.flatnonzero(np.diff(t102) > 3)
    assert rising_101[-1] <= rising_102[0] + 1  # T-102 starts when T-101 stops


def test_tank_temperature_tends_to_line_temperature(clean: Replay) -> None:
    line = np.mean([_col(rows, "temp_c").mean() for rows in clean.meters.values()])
    for tank_id in ("T-101", "T-102"):
        temp = _col(clean.tanks[tank_id], "temp_c")
        assert abs(temp[-1] - line) < abs(temp[0] - line)


# ------------------------------------------------------------------------------------------------
# faults
# ------------------------------------------------------------------------------------------------


def _found_faults(replay: Replay) -> set[str]:
    found = set()
    for rows in replay.meters.values():
        t = _seconds(rows)
        flow, temp, gov = _col(rows, "flow_m3h"), _col(rows, "temp_c"), _col(rows, "gov_total_m3")
        if np.any(np.diff(t) > 60):
            found.add("gap")
        if flow.max() > 5000 or _col(rows, "density_kgm3").max() > 1500:
            found.add("spike")
        if np.any(np.diff(gov) < 0):
            found.add("totalizer_reset")
        same = np.diff(temp) == 0
        longest, run = 0, 0
        for s in same.tolist():
            run = run + 1 if s else 0
            longest = max(longest, run)
        if longest >= 120:
            found.add("stuck")
    if replay.bad:
        found.add("bad_lines")
    return found


def test_no_faults_unless_asked(clean: Replay) -> None:
    assert _found_faults(clean) == set()
    assert clean.truth.faults == {}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_appears_alone_when_asked(fault: str, config: Config, clean: Replay, tmp_path: Path) -> None:
    replay = _simulate(config, tmp_path, faults=frozenset({fault}))
    assert _found_faults(replay) == {fault}
    assert fault in replay.truth.faults
    # the truth stays the physical truth
    for meter_id, values in replay.truth.per_meter.items():
        for key in ("gov_m3", "gsv_15c_m3", "mass_vacuum_kg", "opening_index_m3"):
            assert values[key] == clean.truth.per_meter[meter_id][key]
    assert replay.truth.per_tank == clean.truth.per_tank
    assert replay.transfers == clean.transfers


def test_all_faults_together(config: Config, clean: Replay, tmp_path: Path) -> None:
    replay = _simulate(config, tmp_path, faults=FAULTS)
    assert _found_faults(replay) == set(FAULTS)
    bad = replay.bad
    assert any(_is_unknown_meter(x) for x in bad)
    unparsable = [x for x in bad if not _parses(x)]
    assert len(unparsable) >= 2
    gap = replay.truth.faults["gap"]
    assert replay.truth.per_meter[gap["meter_id"]]["readings"] == (
        clean.truth.per_meter[gap["meter_id"]]["readings"] - gap["missing_readings"]
    )
    reset = replay.truth.faults["totalizer_reset"]
    assert replay.truth.per_meter[reset["meter_id"]]["closing_index_m3"] < 10_000


def _parses(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False


def _is_unknown_meter(line: str) -> bool:
    return _parses(line) and json.loads(line).get("meter_id") == "M-99"


def test_scenario_validation(config: Config, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown faults"):
        DischargeScenario(start=START, faults=frozenset({"flood"}))
    with pytest.raises(ValueError, match="UTC"):
        DischargeScenario(start=datetime(2026, 3, 1, 6))
    with pytest.raises(ValueError, match="can take"):
        simulate_discharge(config, DischargeScenario(start=START, total_gsv_15c_m3=40_000.0), tmp_path)
    with pytest.raises(ValueError, match="not configured"):
        simulate_discharge(config, DischargeScenario(start=START, meter_ids=("M-77",)), tmp_path)


# ------------------------------------------------------------------------------------------------
# benchmark files
# ------------------------------------------------------------------------------------------------


def test_readings_file_has_exactly_n_back_to_back_discharges(config: Config, tmp_path: Path) -> None:
    n = 130_000
    out = simulate_readings_file(config, tmp_path / "bench", n, seed=3)
    lines = (out / "meter.readings.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == n
    rows = [json.loads(x) for x in lines]
    stamps = [r["ts"] for r in rows]
    assert stamps == sorted(stamps)
    for meter_id in ("M-01", "M-02"):
        gov = np.array([r["gov_total_m3"] for r in rows if r["meter_id"] == meter_id])
        assert np.all(np.diff(gov) >= 0)  # totalizers carry over from one discharge to the next
    truths = [json.loads(x) for x in (out / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(truths) >= 2
    events = [json.loads(x) for x in (out / "transfers.jsonl").read_text(encoding="utf-8").splitlines()]
    opened = [e["transfer_id"] for e in events if e["event"] == "open"]
    assert len(opened) == len(set(opened)) >= 3
    tanks = [json.loads(x) for x in (out / "tank.readings.jsonl").read_text(encoding="utf-8").splitlines()]
    for tank in config.tanks:
        table = StrappingTable.from_csv(tank.strapping_table)
        levels = np.array([r["level_mm"] for r in tanks if r["tank_id"] == tank.tank_id])
        assert levels.min() >= 0 and float(table.volume_at(levels.max())) <= 0.96 * tank.capacity_m3
    again = simulate_readings_file(config, tmp_path / "again", n, seed=3)
    assert (again / "meter.readings.jsonl").read_bytes() == (out / "meter.readings.jsonl").read_bytes()


@pytest.mark.slow
def test_a_million_readings_in_well_under_a_minute(config: Config, tmp_path: Path) -> None:
    t0 = time.perf_counter()
    simulate_readings_file(config, tmp_path, 1_000_000)
    assert time.perf_counter() - t0 < 30
