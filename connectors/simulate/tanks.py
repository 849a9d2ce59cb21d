"""Shore-tank physics: filling in order, mixing temperature and density, gauge readings.

The product delivered through the meters goes to the receiving tanks in order: the first takes product
until its observed volume would pass ``tank_fill_fraction`` of capacity, then the next, and so on (the
switch-over is split within one interval). A tank's temperature is the heat-balance mix of its opening stock
and every increment received at line temperature; its density at 15 °C is the mass-weighted mix. A radar
gauge reports the level where the strapping table holds the observed volume ``GSV / CTL(tank t)`` on top
of the constant free water, with ±1 mm noise, rounded to 1 mm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from connectors.simulate.corrections import ctl_from_15c
from connectors.simulate.profile import FloatArray, bounded_noise
from connectors.simulate.scenario import DischargeScenario
from flows.config import Config, TankConfig
from operators.strapping import StrappingTable

LEVEL_NOISE_SIGMA_MM, LEVEL_NOISE_BOUND_MM = 0.4, 1.0
TEMP_NOISE_SIGMA_C, TEMP_NOISE_BOUND_C = 0.03, 0.1
DENSITY_NOISE_SIGMA_KGM3, DENSITY_NOISE_BOUND_KGM3 = 0.1, 0.3
FIRST_TANK_FILL, OTHER_TANK_FILL = 0.30, 0.05


@dataclass(frozen=True)
class TankPlan:
    """Seeded state of one shore tank before the discharge.

    Attributes:
        tank: The configured tank.
        table: Its strapping table.
        opening_gsv_m3: Product in the tank at 15 °C.
        opening_temp_c: Product temperature.
        water_mm: Free water level (constant, whole millimetres as the gauge reports it).
        water_m3: Free water volume.
    """

    tank: TankConfig
    table: StrappingTable
    opening_gsv_m3: float
    opening_temp_c: float
    water_mm: float
    water_m3: float


@dataclass(frozen=True)
class Dispatch:
    """Product pumped out of a tank at a constant rate (used between back-to-back discharges).

    Only after the tank has stopped receiving: the tank temperature is unchanged by it.

    Attributes:
        start_s: Start, seconds from the scenario start.
        end_s: End, seconds from the scenario start.
        gsv_m3: Volume at 15 °C pumped out.
    """

    start_s: float
    end_s: float
    gsv_m3: float


@dataclass
class TankTrack:
    """One tank's gauge readings as columns, with the truth behind them.

    Attributes:
        tank_id: The tank.
        t_s: Reading times, seconds from the scenario start.
        level_mm: Reported level.
        temp_c: Reported temperature.
        water_mm: Reported free water.
        density_kgm3: Reported observed density.
        gsv_m3: True product at 15 °C at each reading.
        received_m3: True volume at 15 °C received over the whole discharge.
        opening_gsv_m3: True product at 15 °C before the discharge.
    """

    tank_id: str
    t_s: FloatArray
    level_mm: FloatArray
    temp_c: FloatArray
    water_mm: float
    density_kgm3: FloatArray
    gsv_m3: FloatArray
    received_m3: float
    opening_gsv_m3: float


def plan_tanks(config: Config, scenario: DischargeScenario, rng: np.random.Generator) -> list[TankPlan]:
    """Draw the opening state of every configured tank (scenario values win over drawn ones).

    Args:
        config: The site.
        scenario: The discharge.
        rng: The seeded generator.

    Returns:
        One plan per configured tank, in config order.

    Raises:
        ValueError: When the scenario names a tank that is not configured.
    """
    order = receiving_order(config, scenario)
    plans = []
    for tank in config.tanks:
        table = StrappingTable.from_csv(tank.strapping_table)
        temp = (scenario.tank_opening_temp_c or {}).get(tank.tank_id, float(rng.uniform(16.0, 21.0)))
        water_mm = float(round((scenario.tank_water_mm or {}).get(tank.tank_id, float(rng.integers(3, 16)))))
        water_m3 = float(table.volume_at(water_mm))
        share = FIRST_TANK_FILL if order and tank.tank_id == order[0] else OTHER_TANK_FILL
        share += float(rng.uniform(-0.02, 0.02))
        ctl = float(ctl_from_15c(tank.product_group, np.array([tank.density_15c_kgm3]), np.array([temp]))[0])
        default_gsv = share * tank.capacity_m3 * ctl
        gsv = (scenario.tank_opening_gsv_15c_m3 or {}).get(tank.tank_id, default_gsv)
        plans.append(TankPlan(tank, table, gsv, temp, water_mm, water_m3))
    return plans


def receiving_order(config: Config, scenario: DischargeScenario) -> tuple[str, ...]:
    """The tanks that receive, in filling order (every configured tank by default).

    Raises:
        ValueError: When a named tank is not configured.
    """
    order = scenario.tank_ids if scenario.tank_ids is not None else tuple(t.tank_id for t in config.tanks)
    for tank_id in order:
        if config.tank(tank_id) is None:
            raise ValueError(f"tank {tank_id!r} is not configured")
    return tuple(order)


def allocate(
    plans: Sequence[TankPlan],
    order: Sequence[str],
    delivered_m3: FloatArray,
    max_temp_c: float,
    rho15_kgm3: float,
    fill_fraction: float,
) -> dict[str, FloatArray]:
    """Split the delivered GSV of each interval between the receiving tanks, filling them in order.

    Args:
        plans: Every tank's plan.
        order: Receiving tanks in filling order.
        delivered_m3: GSV delivered through the meters in each interval.
        max_temp_c: Warmest the product can get in the tank (sizes each tank's room conservatively).
        rho15_kgm3: Density at 15 °C of the delivered product.
        fill_fraction: Share of capacity (observed volume) a tank is filled to.

    Returns:
        tank_id → GSV received in each interval (zeros for tanks that do not receive).

    Raises:
        ValueError: When the receiving tanks cannot hold the discharge.
    """
    by_id = {p.tank.tank_id: p for p in plans}
    cumulative = np.cumsum(delivered_m3)
    out = {p.tank.tank_id: np.zeros_like(delivered_m3) for p in plans}
    below = 0.0
    for tank_id in order:
        plan = by_id[tank_id]
        ctl = float(ctl_from_15c(plan.tank.product_group, np.array([rho15_kgm3]), np.array([max_temp_c]))[0])
        room = max((fill_fraction * plan.tank.capacity_m3 - plan.water_m3) * ctl - plan.opening_gsv_m3, 0.0)
        received = np.clip(cumulative - below, 0.0, room)
        out[tank_id] = np.diff(received, prepend=0.0)
        below += room
    if cumulative.size and cumulative[-1] > below * (1 + 1e-12):
        raise ValueError(
            f"the receiving tanks {list(order)} can take {below:.0f} m³ at 15 °C, "
            f"not {cumulative[-1]:.0f} m³: add tanks or lower their opening stock"
        )
    return out


def simulate_tanks(
    plans: Sequence[TankPlan],
    received: Mapping[str, FloatArray],
    line_temp_c: FloatArray,
    meter_t_s: FloatArray,
    rho15_kgm3: float,
    interval_s: float,
    rng: np.random.Generator,
    dispatch: Mapping[str, Dispatch] | None = None,
) -> list[TankTrack]:
    """Gauge readings of every tank over the whole scenario.

    Args:
        plans: Every tank's plan (output order).
        received: tank_id → GSV received in each meter interval.
        line_temp_c: Delivered product temperature in each meter interval.
        meter_t_s: Meter reading times (the intervals' ends), seconds.
        rho15_kgm3: Density at 15 °C of the delivered product.
        interval_s: Gauge reading interval.
        rng: The seeded generator (noise).
        dispatch: Optional outflow per tank after it has stopped receiving.

    Returns:
        One track per tank.
    """
    duration = float(meter_t_s[-1])
    t_s = np.arange(int(np.floor(duration / interval_s + 1e-9)) + 1, dtype=np.float64) * interval_s
    step = meter_t_s[1] - meter_t_s[0] if meter_t_s.size > 1 else 1.0
    idx = np.minimum(np.floor(t_s / step + 1e-9).astype(np.int64), meter_t_s.size - 1)
    tracks = []
    for plan in plans:
        tank = plan.tank
        inflow = received[tank.tank_id]
        cum_in = np.cumsum(inflow)[idx]
        gsv_in = plan.opening_gsv_m3 + cum_in
        heat = plan.opening_gsv_m3 * plan.opening_temp_c + np.cumsum(inflow * line_temp_c)[idx]
        temp = heat / np.maximum(gsv_in, 1e-9)
        rho15 = (plan.opening_gsv_m3 * tank.density_15c_kgm3 + cum_in * rho15_kgm3) / np.maximum(gsv_in, 1e-9)
        gsv = gsv_in - _dispatched(t_s, (dispatch or {}).get(tank.tank_id))
        ctl = ctl_from_15c(tank.product_group, rho15, temp)
        level = plan.table.level_at(gsv / ctl + plan.water_m3)
        n = t_s.size
        tracks.append(
            TankTrack(
                tank_id=tank.tank_id,
                t_s=t_s,
                level_mm=np.rint(level + bounded_noise(rng, n, LEVEL_NOISE_SIGMA_MM, LEVEL_NOISE_BOUND_MM)),
                temp_c=temp + bounded_noise(rng, n, TEMP_NOISE_SIGMA_C, TEMP_NOISE_BOUND_C),
                water_mm=plan.water_mm,
                density_kgm3=rho15 * ctl + bounded_noise(rng, n, DENSITY_NOISE_SIGMA_KGM3, DENSITY_NOISE_BOUND_KGM3),
                gsv_m3=gsv,
                received_m3=float(np.sum(inflow)),
                opening_gsv_m3=plan.opening_gsv_m3,
            )
        )
    return tracks


def _dispatched(t_s: FloatArray, dispatch: Dispatch | None) -> FloatArray:
    """Cumulative volume pumped out by each time (linear ramp over the dispatch window)."""
    if dispatch is None or dispatch.gsv_m3 <= 0:
        return np.zeros_like(t_s)
    span = max(dispatch.end_s - dispatch.start_s, 1e-9)
    return dispatch.gsv_m3 * np.clip((t_s - dispatch.start_s) / span, 0.0, 1.0)


def tank_truth(track: TankTrack) -> dict[str, float]:
    """The ``Truth.per_tank`` entry of one tank (opening, closing after the discharge, received)."""
    return {
        "opening_gsv_15c_m3": track.opening_gsv_m3,
        "closing_gsv_15c_m3": track.opening_gsv_m3 + track.received_m3,
        "received_gsv_15c_m3": track.received_m3,
    }
