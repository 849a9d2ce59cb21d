"""Meter physics: parallel meters on one discharge line, reading by reading.

Every reading ``k`` reports the interval that ends at it, as a flow computer does: ``flow_m3h`` is the
gross observed volume of the interval divided by its length, and the totalizer ``gov_total_m3`` has grown by
exactly that volume (shown with 0.001 m³ resolution, truncated like a pulse counter). The volume at 15 °C
of the interval is ``ΔGSV = ΔGOV · CTPL(line t, P)``, and the in-vacuo mass ``ΔGOV · ρ_line`` with
``ρ_line = ρ15 · CTPL``. Temperature, pressure and density are the true line values plus bounded sensor
noise; flow carries physical turbulence only (it *is* the volume that passed).

The discharge length is not a parameter: it follows from the volume to deliver. A coarse noise-free pass
sizes the steady phase, the fine pass computes every reading, and a final scale factor (within about
1e-4 of 1) makes the delivered GSV equal the scenario's total exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from connectors.simulate.corrections import ctpl_from_15c
from connectors.simulate.profile import Envelope, FloatArray, Wander, bounded_noise
from connectors.simulate.scenario import DischargeScenario
from flows.config import Config

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

SECONDS_PER_HOUR = 3600.0
MILLI = 1000.0
TEMP_NOISE_SIGMA_C, TEMP_NOISE_BOUND_C = 0.02, 0.05
PRESSURE_NOISE_SIGMA_KPA, PRESSURE_NOISE_BOUND_KPA = 1.0, 3.0
DENSITY_NOISE_SIGMA_KGM3, DENSITY_NOISE_BOUND_KGM3 = 0.08, 0.2
FLOW_JITTER_SIGMA, FLOW_JITTER_BOUND = 0.0015, 0.005
COARSE_STEP_S = 10.0
AIR_BUOYANCY_KGM3 = 1.1
"""Weight in air at 15 °C = GSV · (ρ15 − 1.1 kg/m³) (ASTM/IP Table 56 convention)."""


@dataclass(frozen=True)
class MeterPlan:
    """Seeded parameters of one meter run.

    Attributes:
        meter_id: The meter.
        product_group: Correction group of the product it measures.
        has_densitometer: Whether readings carry ``density_kgm3``.
        setpoint_m3h: Steady flow through this meter at full pump rate.
        flow_wander: Relative flow wander around the set-point.
        temp_offset_c: Physical temperature offset of this meter run from the line.
        pressure_offset_kpa: Physical pressure offset of this meter run from the line.
        opening_gov_milli: Totalizer at the first reading, in 0.001 m³.
        opening_mass_kg: Mass totalizer at the first reading, kg.
    """

    meter_id: str
    product_group: str
    has_densitometer: bool
    setpoint_m3h: float
    flow_wander: Wander
    temp_offset_c: float
    pressure_offset_kpa: float
    opening_gov_milli: int
    opening_mass_kg: int


@dataclass(frozen=True)
class LinePlan:
    """Seeded parameters of the discharge line shared by the meters.

    Attributes:
        meters: The meter runs, in output order.
        temp_base_c: Mean line temperature.
        temp_wander: Line temperature drift.
        pressure_base_kpa: Mean gauge pressure at full rate.
        pressure_wander: Full-rate pressure wander.
        idle_pressure_kpa: Gauge pressure with the pump stopped.
        flow_range_m3h: Allowed steady flow per meter.
        rho15_kgm3: True density at 15 °C.
    """

    meters: tuple[MeterPlan, ...]
    temp_base_c: float
    temp_wander: Wander
    pressure_base_kpa: float
    pressure_wander: Wander
    idle_pressure_kpa: float
    flow_range_m3h: tuple[float, float]
    rho15_kgm3: float


@dataclass
class MeterTrack:
    """One meter's readings as columns (mutable, so faults can be injected), with the physics behind them.

    Attributes:
        meter_id: The meter.
        has_density: Whether readings carry ``density_kgm3``.
        t_s: Seconds from the scenario start.
        flow_m3h: Reported flow (true interval flow, unrounded).
        temp_c: Reported line temperature.
        pressure_kpa: Reported gauge pressure.
        density_kgm3: Reported observed density.
        gov_total_milli: Reported totalizer, 0.001 m³.
        mass_total_kg: Reported mass totalizer, kg.
        mass_flow_kgh: Reported mass flow.
        keep: Rows that are written (a ``gap`` fault clears some).
        d_gov_m3: True gross observed volume of each interval.
        d_gsv_m3: True volume at 15 °C of each interval.
        d_mass_kg: True in-vacuo mass of each interval.
    """

    meter_id: str
    has_density: bool
    t_s: FloatArray
    flow_m3h: FloatArray
    temp_c: FloatArray
    pressure_kpa: FloatArray
    density_kgm3: FloatArray
    gov_total_milli: IntArray
    mass_total_kg: IntArray
    mass_flow_kgh: FloatArray
    keep: BoolArray
    d_gov_m3: FloatArray
    d_gsv_m3: FloatArray
    d_mass_kg: FloatArray


def plan_line(
    config: Config, scenario: DischargeScenario, meter_ids: Sequence[str], rng: np.random.Generator
) -> LinePlan:
    """Draw the line and meter parameters of a discharge.

    Args:
        config: The site (meters must be configured).
        scenario: The discharge.
        meter_ids: Meters in parallel on the line, in output order.
        rng: The seeded generator.

    Returns:
        The line plan.

    Raises:
        ValueError: When a meter id is not configured.
    """
    lo, hi = scenario.meter_flow_range_m3h
    band = (hi - lo) / 4
    t_lo, t_hi = scenario.line_temp_range_c
    t_amp = min(1.5, 0.3 * (t_hi - t_lo))
    p_lo, p_hi = scenario.line_pressure_range_kpa
    p_band = (p_hi - p_lo) / 4
    meters = []
    for meter_id in meter_ids:
        meter = config.meter(meter_id)
        if meter is None:
            raise ValueError(f"meter {meter_id!r} is not configured")
        opening = scenario.meter_opening_index_m3 or {}
        opening_m3 = opening.get(meter_id, float(rng.uniform(400_000.0, 2_500_000.0)))
        mass = scenario.meter_opening_mass_kg or {}
        opening_kg = mass.get(meter_id, opening_m3 * float(rng.uniform(820.0, 850.0)))
        meters.append(
            MeterPlan(
                meter_id=meter_id,
                product_group=meter.product_group,
                has_densitometer=meter.has_densitometer,
                setpoint_m3h=float(rng.uniform(lo + band, hi - band)),
                flow_wander=Wander.draw(rng, scenario.flow_wander_pct / 100, (900.0, 7200.0)),
                temp_offset_c=float(rng.uniform(-0.03, 0.03)),
                pressure_offset_kpa=float(rng.uniform(-5.0, 5.0)),
                opening_gov_milli=round(opening_m3 * MILLI),
                opening_mass_kg=round(opening_kg),
            )
        )
    return LinePlan(
        meters=tuple(meters),
        temp_base_c=float(rng.uniform(t_lo + t_amp, t_hi - t_amp)),
        temp_wander=Wander.draw(rng, t_amp, (3600.0, 6 * 3600.0)),
        pressure_base_kpa=float(rng.uniform(p_lo + p_band, p_hi - p_band)),
        pressure_wander=Wander.draw(rng, 0.4 * p_band, (1200.0, 7200.0)),
        idle_pressure_kpa=scenario.idle_pressure_kpa,
        flow_range_m3h=(lo, hi),
        rho15_kgm3=scenario.density_15c_kgm3,
    )


def _conditions(
    line: LinePlan, meter: MeterPlan, env: FloatArray, t_s: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """True flow (before jitter and scaling), temperature and pressure of one meter run."""
    lo, hi = line.flow_range_m3h
    flow = np.clip(meter.setpoint_m3h * (1.0 + meter.flow_wander.at(t_s)), lo, hi) * env
    temp = line.temp_base_c + line.temp_wander.at(t_s) + meter.temp_offset_c
    full = line.pressure_base_kpa + line.pressure_wander.at(t_s) + meter.pressure_offset_kpa
    pressure = line.idle_pressure_kpa + (full - line.idle_pressure_kpa) * env**2
    return flow, temp, pressure


def size_envelope(line: LinePlan, scenario: DischargeScenario) -> Envelope:
    """Choose the steady phase so the discharge delivers about the scenario's GSV (noise-free, coarse).

    Args:
        line: The line plan.
        scenario: The discharge.

    Returns:
        The envelope; the fine pass corrects the remaining small difference by scaling.
    """

    def envelope(steady_s: float) -> Envelope:
        return Envelope(
            pump_start_s=scenario.idle_before_s,
            ramp_up_s=scenario.ramp_up_s,
            steady_s=max(steady_s, 0.0),
            pause_s=scenario.pause_s,
            ramp_down_s=scenario.ramp_down_s,
            idle_after_s=scenario.idle_after_s,
        )

    def delivered(env: Envelope) -> tuple[float, float]:
        t = np.arange(0.0, env.duration_s + COARSE_STEP_S, COARSE_STEP_S)
        e = env.at(t)
        total, full_rate = 0.0, 0.0
        for meter in line.meters:
            flow, temp, pressure = _conditions(line, meter, e, t)
            ctpl = ctpl_from_15c(meter.product_group, line.rho15_kgm3, temp, pressure)
            gsv_rate = flow * ctpl / SECONDS_PER_HOUR
            total += float(np.sum(gsv_rate) * COARSE_STEP_S)
            full_rate += float(np.mean(gsv_rate[e >= 1.0])) if np.any(e >= 1.0) else 0.0
        return total, full_rate

    nominal = sum(m.setpoint_m3h for m in line.meters) / SECONDS_PER_HOUR
    first = envelope(0.0)
    steady = scenario.total_gsv_15c_m3 / nominal - first.full_rate_equivalent_s()
    for _ in range(2):
        env = envelope(steady)
        total, full_rate = delivered(env)
        if full_rate <= 0:
            break
        steady += (scenario.total_gsv_15c_m3 - total) / full_rate
    if steady <= 0:
        raise ValueError("total_gsv_15c_m3 is too small for the pump ramps; shorten ramp_up_s/ramp_down_s")
    return envelope(steady)


def simulate_meters(
    line: LinePlan, env: Envelope, scenario: DischargeScenario, rng: np.random.Generator
) -> list[MeterTrack]:
    """Simulate every reading of every meter of the line.

    Args:
        line: The line plan.
        env: The pump envelope.
        scenario: The discharge (interval and total volume).
        rng: The seeded generator (noise).

    Returns:
        One track per meter, in plan order; the GSV of all tracks sums to the scenario's total.
    """
    dt = scenario.meter_interval_s
    n = int(np.floor(env.duration_s / dt + 1e-9)) + 1
    t_s = np.arange(n, dtype=np.float64) * dt
    e = env.at(t_s)
    raw = []
    for meter in line.meters:
        flow, temp, pressure = _conditions(line, meter, e, t_s)
        flow = flow * (1.0 + bounded_noise(rng, n, FLOW_JITTER_SIGMA, FLOW_JITTER_BOUND))
        flow[0] = 0.0  # the first reading opens the record: nothing before it is counted
        ctpl = ctpl_from_15c(meter.product_group, line.rho15_kgm3, temp, pressure)
        raw.append((meter, flow, temp, pressure, ctpl))
    total = sum(float(np.sum(flow * ctpl)) for _, flow, _, _, ctpl in raw) * dt / SECONDS_PER_HOUR
    scale = scenario.total_gsv_15c_m3 / total
    return [_track(line, meter, t_s, flow * scale, temp, p, ctpl, rng) for meter, flow, temp, p, ctpl in raw]


def _track(
    line: LinePlan,
    meter: MeterPlan,
    t_s: FloatArray,
    flow: FloatArray,
    temp: FloatArray,
    pressure: FloatArray,
    ctpl: FloatArray,
    rng: np.random.Generator,
) -> MeterTrack:
    n = t_s.size
    dt = float(t_s[1] - t_s[0]) if n > 1 else 1.0
    rho_line = line.rho15_kgm3 * ctpl
    d_gov = flow * dt / SECONDS_PER_HOUR
    d_gsv = d_gov * ctpl
    d_mass = d_gov * rho_line
    gov_milli = meter.opening_gov_milli + np.floor(np.cumsum(d_gov) * MILLI + 1e-6).astype(np.int64)
    mass_kg = meter.opening_mass_kg + np.floor(np.cumsum(d_mass) + 1e-6).astype(np.int64)
    return MeterTrack(
        meter_id=meter.meter_id,
        has_density=meter.has_densitometer,
        t_s=t_s,
        flow_m3h=flow,
        temp_c=temp + bounded_noise(rng, n, TEMP_NOISE_SIGMA_C, TEMP_NOISE_BOUND_C),
        pressure_kpa=np.maximum(
            pressure + bounded_noise(rng, n, PRESSURE_NOISE_SIGMA_KPA, PRESSURE_NOISE_BOUND_KPA), 0.0
        ),
        density_kgm3=rho_line + bounded_noise(rng, n, DENSITY_NOISE_SIGMA_KGM3, DENSITY_NOISE_BOUND_KGM3),
        gov_total_milli=gov_milli,
        mass_total_kg=mass_kg,
        mass_flow_kgh=flow * rho_line,
        keep=np.ones(n, dtype=np.bool_),
        d_gov_m3=d_gov,
        d_gsv_m3=d_gsv,
        d_mass_kg=d_mass,
    )


def meter_truth(track: MeterTrack, rho15_kgm3: float) -> dict[str, float]:
    """Physical totals of one meter and its displayed opening/closing index.

    Args:
        track: The meter's track (after fault injection, so the indices are what the meter shows).
        rho15_kgm3: True density at 15 °C.

    Returns:
        The ``Truth.per_meter`` entry.
    """
    gsv = float(np.sum(track.d_gsv_m3))
    shown = track.gov_total_milli[track.keep]
    return {
        "gov_m3": float(np.sum(track.d_gov_m3)),
        "gsv_15c_m3": gsv,
        "mass_vacuum_kg": float(np.sum(track.d_mass_kg)),
        "mass_air_kg": gsv * (rho15_kgm3 - AIR_BUOYANCY_KGM3),
        "opening_index_m3": float(shown[0]) / MILLI,
        "closing_index_m3": float(shown[-1]) / MILLI,
        "readings": int(np.count_nonzero(track.keep)),
    }
