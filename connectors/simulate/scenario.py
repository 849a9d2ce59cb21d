"""What a simulated tanker discharge looks like (:class:`DischargeScenario`) and what really happened (:class:`Truth`).

The scenario holds every knob of the simulator with defaults that give a plausible diesel discharge at the
demo site; the truth holds the physical quantities the tests and later flows compare against. The truth is
never affected by injected faults: a fault changes what the instruments *report*, not what flowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

FAULTS: frozenset[str] = frozenset({"gap", "spike", "stuck", "totalizer_reset", "bad_lines"})
"""Fault kinds the simulator can inject."""


@dataclass(frozen=True)
class DischargeScenario:
    """A ship-to-shore discharge through the site's meters into its shore tanks.

    Mapping fields are keyed by meter or tank id; ``None`` means "drawn from the seed" (or "every
    configured meter/tank" for the id lists). The scenario is not hashable when a mapping is given.

    Attributes:
        start: First reading's time, timezone-aware UTC; the pump starts ``idle_before_s`` later.
        ship_name: Ship name for the transfer documents.
        transfer_id: Transfer id for the transfer documents.
        total_gsv_15c_m3: Volume the ship delivers, at 15 °C (gross standard volume).
        density_15c_kgm3: True product density at 15 °C.
        meter_interval_s: One reading per meter per interval.
        tank_interval_s: One gauge reading per tank per interval.
        faults: Faults to inject, a subset of :data:`FAULTS`.
        meter_ids: Meters in parallel on the discharge line (default: every configured meter).
        tank_ids: Receiving tanks in filling order (default: every configured tank, in config order).
        meter_flow_range_m3h: Allowed steady flow per meter; set-points and wander stay inside it.
        flow_wander_pct: Amplitude of the slow flow wander around each meter's set-point.
        ramp_up_s: Pump start ramp.
        ramp_down_s: Ramp down at the end of the discharge.
        pause_s: Pump stop in the middle of the discharge (0 for none); keep it shorter than the site's
            ``operations.stop_after_s`` so the discharge stays one operation.
        idle_before_s: Idle readings (flow 0) before the pump starts.
        idle_after_s: Idle readings after the pump stops.
        line_temp_range_c: The line temperature drifts inside this range.
        line_pressure_range_kpa: Gauge pressure range while flowing at full rate.
        idle_pressure_kpa: Gauge pressure with the pump stopped.
        meter_opening_index_m3: Totalizer (GOV) at the first reading, per meter.
        meter_opening_mass_kg: Mass totalizer at the first reading, per meter.
        tank_opening_gsv_15c_m3: Product in each tank before the discharge, at 15 °C.
        tank_opening_temp_c: Tank temperature before the discharge.
        tank_water_mm: Free water at the bottom of each tank (constant).
        tank_fill_fraction: A tank stops receiving when its observed volume reaches this share of capacity.
    """

    start: datetime
    ship_name: str = "MT Akdeniz Yildizi"
    transfer_id: str = "TR-2026-0001"
    total_gsv_15c_m3: float = 9000.0
    density_15c_kgm3: float = 836.5
    meter_interval_s: float = 1.0
    tank_interval_s: float = 30.0
    faults: frozenset[str] = frozenset()
    meter_ids: tuple[str, ...] | None = None
    tank_ids: tuple[str, ...] | None = None
    meter_flow_range_m3h: tuple[float, float] = (600.0, 1200.0)
    flow_wander_pct: float = 6.0
    ramp_up_s: float = 600.0
    ramp_down_s: float = 300.0
    pause_s: float = 60.0
    idle_before_s: float = 300.0
    idle_after_s: float = 300.0
    line_temp_range_c: tuple[float, float] = (18.0, 26.0)
    line_pressure_range_kpa: tuple[float, float] = (250.0, 700.0)
    idle_pressure_kpa: float = 50.0
    meter_opening_index_m3: Mapping[str, float] | None = None
    meter_opening_mass_kg: Mapping[str, float] | None = None
    tank_opening_gsv_15c_m3: Mapping[str, float] | None = None
    tank_opening_temp_c: Mapping[str, float] | None = None
    tank_water_mm: Mapping[str, float] | None = None
    tank_fill_fraction: float = 0.95

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() != timedelta(0):
            raise ValueError("scenario start must be timezone-aware UTC")
        unknown = set(self.faults) - FAULTS
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; expected a subset of {sorted(FAULTS)}")
        lo, hi = self.meter_flow_range_m3h
        if not 0 < lo < hi:
            raise ValueError("meter_flow_range_m3h must be 0 < low < high")
        if self.total_gsv_15c_m3 <= 0 or self.density_15c_kgm3 <= 0:
            raise ValueError("total volume and density must be positive")
        if self.meter_interval_s <= 0 or self.tank_interval_s <= 0:
            raise ValueError("reading intervals must be positive")
        if not 0 < self.tank_fill_fraction <= 1:
            raise ValueError("tank_fill_fraction must be in (0, 1]")
        if min(self.ramp_up_s, self.ramp_down_s, self.pause_s, self.idle_before_s, self.idle_after_s) < 0:
            raise ValueError("durations must not be negative")


@dataclass(frozen=True)
class Truth:
    """The physical truth of one simulated discharge (also written as ``truth.json``).

    Attributes:
        per_meter: meter_id → ``gov_m3``, ``gsv_15c_m3``, ``mass_vacuum_kg``, ``mass_air_kg`` (what flowed
            through the meter), ``opening_index_m3`` / ``closing_index_m3`` (totalizer as displayed at the
            first and last reading; after a ``totalizer_reset`` fault the closing index is the reset one)
            and ``readings`` (meter readings written for that meter).
        per_tank: tank_id → ``opening_gsv_15c_m3``, ``closing_gsv_15c_m3``, ``received_gsv_15c_m3``.
        started_at: First reading with flow above the site's start threshold (ISO 8601, ms, ``Z``).
        ended_at: Last reading with flow above the site's start threshold.
        transfer_id: The transfer.
        faults: Injected faults, kind → where (meter, time window, counts); empty without faults.
    """

    per_meter: dict[str, dict[str, float]]
    per_tank: dict[str, dict[str, float]]
    started_at: str
    ended_at: str
    transfer_id: str = ""
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
