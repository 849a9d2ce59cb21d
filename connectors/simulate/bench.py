"""Large replay directories for benchmarks: back-to-back discharges with the same physics.

Each discharge is followed by an idle stretch in which the shore tanks pump out what they received (to the
inland pipeline), so the next ship finds the same opening stocks; the meters keep reporting while idle and
their totalizers carry over. The meter file is cut at exactly ``n_readings`` lines, which may leave the last
transfer open (as a live feed would).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from connectors.simulate.discharge import (
    DISPATCH_DELAY_S,
    METER_FILE,
    TANK_FILE,
    TRANSFER_FILE,
    run_discharge,
)
from connectors.simulate.jsonl import write_lines
from connectors.simulate.scenario import DischargeScenario
from flows.config import Config

TRUTH_LINES_FILE = "truth.jsonl"
BENCH_START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
DISPATCH_RATE_M3H = 2500.0
SHIPS = ("MT Akdeniz Yildizi", "MT Karadeniz", "MT Ege Gunesi", "MT Toros", "MT Marmara Star")
_TS_KEY = '"ts": "'
_TS_LEN = len("2026-03-01T06:00:00.000Z")


def simulate_readings_file(config: Config, out_dir: Path, n_readings: int, seed: int = 7) -> Path:
    """Write a replay directory with exactly ``n_readings`` meter readings of back-to-back discharges.

    Besides the replay files, ``truth.jsonl`` holds one :class:`~connectors.simulate.Truth` per discharge
    that ended inside the file.

    Args:
        config: The site (every configured meter and tank takes part).
        out_dir: The replay directory (created if needed; existing files are replaced).
        n_readings: Meter readings to write (all meters together).
        seed: Seed of the generator; the same seed gives the same bytes.

    Returns:
        ``out_dir``.
    """
    if n_readings <= 0:
        raise ValueError("n_readings must be positive")
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (METER_FILE, TANK_FILE, TRANSFER_FILE, TRUTH_LINES_FILE):
        (out_dir / name).write_text("", encoding="utf-8")
    largest = max((t.capacity_m3 for t in config.tanks), default=0.0)
    idle_after = 2 * DISPATCH_DELAY_S + largest / DISPATCH_RATE_M3H * 3600.0
    start = BENCH_START
    tank_opening: dict[str, float] | None = None
    tank_temp: dict[str, float] | None = None
    meter_index: dict[str, float] | None = None
    meter_mass: dict[str, float] | None = None
    written, cycle = 0, 0
    while written < n_readings:
        cycle += 1
        scenario = DischargeScenario(
            start=start,
            ship_name=SHIPS[(cycle - 1) % len(SHIPS)],
            transfer_id=f"TR-{start:%Y}-{cycle:04d}",
            idle_after_s=idle_after,
            meter_opening_index_m3=meter_index,
            meter_opening_mass_kg=meter_mass,
            tank_opening_gsv_15c_m3=tank_opening,
            tank_opening_temp_c=tank_temp,
        )
        run = run_discharge(config, scenario, rng, dispatch_rate_m3h=DISPATCH_RATE_M3H)
        meters, tanks, transfers = run.meter_lines, run.tank_lines, run.transfer_lines
        complete = written + len(meters) <= n_readings
        if not complete:
            meters = meters[: n_readings - written]
            last = _ts(meters[-1])
            tanks = [line for line in tanks if _ts(line) <= last]
            transfers = [line for line in transfers if _ts(line) <= last]
        write_lines(out_dir / METER_FILE, meters, append=True)
        write_lines(out_dir / TANK_FILE, tanks, append=True)
        write_lines(out_dir / TRANSFER_FILE, transfers, append=True)
        if complete:
            write_lines(out_dir / TRUTH_LINES_FILE, [json.dumps(asdict(run.truth))], append=True)
        written += len(meters)
        tank_opening = {tid: v["opening_gsv_15c_m3"] for tid, v in run.truth.per_tank.items()}
        tank_temp = run.closing_temp_c
        meter_index, meter_mass = run.closing_index_m3, run.closing_mass_kg
        start = start + timedelta(seconds=run.end_s + scenario.meter_interval_s)
    return out_dir


def _ts(line: str) -> str:
    """The ``ts`` value of a line written by the simulator."""
    at = line.index(_TS_KEY) + len(_TS_KEY)
    return line[at : at + _TS_LEN]
