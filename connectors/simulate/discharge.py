"""One simulated tanker discharge, end to end: meters, tanks, documents, faults, truth, replay files.

Everything is drawn from one seeded :class:`numpy.random.Generator` in a fixed order, so a seed gives the
same bytes on every run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from connectors.simulate.faults import inject
from connectors.simulate.jsonl import dumps, epoch_ms, iso_ms_one, write_lines
from connectors.simulate.meter_physics import (
    AIR_BUOYANCY_KGM3,
    MILLI,
    SECONDS_PER_HOUR,
    MeterTrack,
    meter_truth,
    plan_line,
    simulate_meters,
    size_envelope,
)
from connectors.simulate.profile import FloatArray
from connectors.simulate.records import meter_lines, tank_lines
from connectors.simulate.scenario import DischargeScenario, Truth
from connectors.simulate.tanks import (
    Dispatch,
    TankPlan,
    TankTrack,
    allocate,
    plan_tanks,
    receiving_order,
    simulate_tanks,
    tank_truth,
)
from connectors.simulate.transfers import PRODUCT, transfer_events
from flows.config import Config

METER_FILE = "meter.readings.jsonl"
TANK_FILE = "tank.readings.jsonl"
TRANSFER_FILE = "transfers.jsonl"
TRUTH_FILE = "truth.json"
DISPATCH_DELAY_S = 600.0


@dataclass(frozen=True)
class DischargeRun:
    """A simulated discharge in memory: the replay lines, the truth and the state it leaves behind.

    Attributes:
        meter_lines: ``meter.readings.jsonl`` lines.
        tank_lines: ``tank.readings.jsonl`` lines.
        transfer_lines: ``transfers.jsonl`` lines.
        truth: The physical truth.
        end_s: Time of the last reading, seconds from the scenario start.
        closing_index_m3: Totalizer shown at the last reading, per meter.
        closing_mass_kg: Mass totalizer shown at the last reading, per meter.
        closing_temp_c: Tank temperature at the end, per tank.
    """

    meter_lines: list[str]
    tank_lines: list[str]
    transfer_lines: list[str]
    truth: Truth
    end_s: float
    closing_index_m3: dict[str, float]
    closing_mass_kg: dict[str, float]
    closing_temp_c: dict[str, float]


def run_discharge(
    config: Config,
    scenario: DischargeScenario,
    rng: np.random.Generator,
    dispatch_rate_m3h: float | None = None,
) -> DischargeRun:
    """Simulate a discharge in memory.

    Args:
        config: The site.
        scenario: The discharge.
        rng: The seeded generator.
        dispatch_rate_m3h: When given, every receiving tank pumps out what it received at this rate,
            starting 10 minutes after the pump stops (back-to-back discharges; the idle tail must be long
            enough).

    Returns:
        The lines, the truth and the closing state.

    Raises:
        ValueError: On an unknown meter or tank, or when the tanks cannot hold the discharge.
    """
    meter_ids = scenario.meter_ids if scenario.meter_ids is not None else tuple(m.meter_id for m in config.meters)
    if not meter_ids:
        raise ValueError("a discharge needs at least one meter")
    line = plan_line(config, scenario, meter_ids, rng)
    tank_plans = plan_tanks(config, scenario, rng)
    env = size_envelope(line, scenario)
    tracks = simulate_meters(line, env, scenario, rng)
    start_ms = epoch_ms(scenario.start)

    def iso(t_s: float) -> str:
        return iso_ms_one(start_ms + round(float(t_s) * MILLI))

    shore = _shore(config, scenario, tracks, tank_plans, env.pump_stop_s + DISPATCH_DELAY_S, dispatch_rate_m3h, rng)
    end_s = float(tracks[0].t_s[-1])
    gsv = sum(float(np.sum(t.d_gsv_m3)) for t in tracks)
    meter = config.meter(meter_ids[0])
    events = transfer_events(
        scenario,
        meter_ids,
        [tid for tid in shore.order if float(np.sum(shore.received[tid])) > 0],
        (meter.product if meter else "") or PRODUCT,
        meter.product_group if meter else "refined",
        gsv * (scenario.density_15c_kgm3 - AIR_BUOYANCY_KGM3),
        iso(0.0),
        iso(end_s),
        rng,
    )
    started, ended = _operation_bounds(tracks, config.operations.start_flow_m3h)
    fault_record, extra = inject(scenario.faults, tracks, env, rng, iso)
    truth = Truth(
        per_meter={t.meter_id: meter_truth(t, scenario.density_15c_kgm3) for t in tracks},
        per_tank={t.tank_id: tank_truth(t) for t in shore.tracks},
        started_at=iso(started),
        ended_at=iso(ended),
        transfer_id=scenario.transfer_id,
        faults=fault_record,
    )
    return DischargeRun(
        meter_lines=meter_lines(tracks, start_ms, extra),
        tank_lines=tank_lines(shore.tracks, start_ms),
        transfer_lines=[dumps(e) for e in events],
        truth=truth,
        end_s=end_s,
        closing_index_m3={t.meter_id: float(t.gov_total_milli[-1]) / MILLI for t in tracks},
        closing_mass_kg={t.meter_id: float(t.mass_total_kg[-1]) for t in tracks},
        closing_temp_c=_closing_temps(tank_plans, shore.received, shore.line_temp_c),
    )


@dataclass(frozen=True)
class _Shore:
    """What the shore tanks did: filling order, GSV received per meter interval, product temperature, gauges."""

    order: tuple[str, ...]
    received: dict[str, FloatArray]
    line_temp_c: FloatArray
    tracks: list[TankTrack]


def _shore(
    config: Config,
    scenario: DischargeScenario,
    meters: Sequence[MeterTrack],
    plans: Sequence[TankPlan],
    dispatch_at_s: float,
    dispatch_rate_m3h: float | None,
    rng: np.random.Generator,
) -> _Shore:
    """Fill the receiving tanks from the meters' delivery and simulate every tank's gauge readings."""
    order = receiving_order(config, scenario)
    line_temp = _mix_temperature([t.d_gsv_m3 for t in meters], [t.temp_c for t in meters])
    received = allocate(
        plans,
        order,
        np.sum([t.d_gsv_m3 for t in meters], axis=0),
        max(float(np.max(line_temp)), *(p.opening_temp_c for p in plans)),
        scenario.density_15c_kgm3,
        scenario.tank_fill_fraction,
    )
    tracks = simulate_tanks(
        plans,
        received,
        line_temp,
        meters[0].t_s,
        scenario.density_15c_kgm3,
        scenario.tank_interval_s,
        rng,
        _dispatch(received, dispatch_at_s, dispatch_rate_m3h),
    )
    return _Shore(order, received, line_temp, tracks)


def _dispatch(received: dict[str, FloatArray], start_s: float, rate_m3h: float | None) -> dict[str, Dispatch] | None:
    """Every receiving tank pumps out what it received, from ``start_s`` at ``rate_m3h`` (None: no dispatch)."""
    if not rate_m3h:
        return None
    out = {}
    for tank_id, inflow in received.items():
        volume = float(np.sum(inflow))
        out[tank_id] = Dispatch(start_s, start_s + volume / rate_m3h * SECONDS_PER_HOUR, volume)
    return out


def simulate_discharge(config: Config, scenario: DischargeScenario, out_dir: Path, seed: int = 7) -> Truth:
    """Simulate a discharge and write it as a replay directory.

    Writes ``meter.readings.jsonl``, ``tank.readings.jsonl``, ``transfers.jsonl`` (each sorted by ``ts``)
    and ``truth.json`` into ``out_dir`` (created if needed; existing files are replaced).

    Args:
        config: The site (meters and tanks must be configured).
        scenario: The discharge.
        out_dir: The replay directory.
        seed: Seed of the generator; the same seed gives the same bytes.

    Returns:
        The physical truth (also in ``truth.json``).

    Raises:
        ValueError: On an unknown meter or tank, or when the tanks cannot hold the discharge.
    """
    run = run_discharge(config, scenario, np.random.default_rng(seed))
    out_dir.mkdir(parents=True, exist_ok=True)
    write_lines(out_dir / METER_FILE, run.meter_lines)
    write_lines(out_dir / TANK_FILE, run.tank_lines)
    write_lines(out_dir / TRANSFER_FILE, run.transfer_lines)
    (out_dir / TRUTH_FILE).write_text(json.dumps(asdict(run.truth), indent=2) + "\n", encoding="utf-8")
    return run.truth


def _mix_temperature(volumes: list[FloatArray], temps: list[FloatArray]) -> FloatArray:
    """Flow-weighted temperature of the product delivered in each interval (plain mean without flow)."""
    vol = np.sum(volumes, axis=0)
    heat = np.sum([v * t for v, t in zip(volumes, temps, strict=True)], axis=0)
    mean = np.mean(temps, axis=0)
    mixed: FloatArray = np.where(vol > 0, heat / np.where(vol > 0, vol, 1.0), mean)
    return mixed


def _operation_bounds(tracks: Sequence[MeterTrack], start_flow_m3h: float) -> tuple[float, float]:
    """First and last reading time with a written flow above the start threshold (any meter)."""
    first, last = np.inf, -np.inf
    for tr in tracks:
        above = tr.t_s[tr.keep & (np.round(tr.flow_m3h, 2) > start_flow_m3h)]
        if above.size:
            first, last = min(first, float(above[0])), max(last, float(above[-1]))
    if not np.isfinite(first):
        raise ValueError("the simulated discharge never rose above the start threshold")
    return first, last


def _closing_temps(
    plans: Sequence[TankPlan], received: dict[str, FloatArray], line_temp: FloatArray
) -> dict[str, float]:
    """True tank temperatures after the discharge (heat-balance mix)."""
    out = {}
    for p in plans:
        r = received[p.tank.tank_id]
        gsv = p.opening_gsv_m3 + float(np.sum(r))
        out[p.tank.tank_id] = (p.opening_gsv_m3 * p.opening_temp_c + float(np.sum(r * line_temp))) / gsv
    return out
