"""Decoding and validation of the fuel-terminal input events (meter and tank readings, transfers, lab density).

Decoding works on whole batches: consecutive readings of one meter become one columnar
:class:`MeterChunk`, so the per-reading cost downstream is NumPy, not Python. Relative order per entity is
kept: a transfer event for a meter closes that meter's pending chunk before it is emitted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from operators.events import (
    STREAM_LAB_DENSITY,
    STREAM_METER_READINGS,
    STREAM_TANK_READINGS,
    STREAM_TRANSFERS,
    DeadLetter,
    EventError,
    RawEvent,
    ms_from_ts,
    parse_ts,
)

METER_STATUSES = frozenset({"ok", "fault", "power_loss"})
TRANSFER_EVENTS = frozenset({"open", "update", "close"})
DIRECTIONS = frozenset({"discharge", "loading"})
KEY_DEAD_LETTERS = "dead_letters"
KEY_TRANSFERS = "transfers"


@dataclass(slots=True)
class MeterChunk:
    """Consecutive readings of one meter, column by column (arrival order).

    Attributes:
        meter_id: The meter.
        ts_ms: Event time, epoch milliseconds UTC.
        gov_total_m3: Totalizer (gross observed volume).
        flow_m3h: Volumetric flow at line conditions.
        temp_c: Line temperature.
        pressure_kpa: Line gauge pressure.
        density_kgm3: Observed density at line conditions (NaN when the reading has none).
        status: Reading status per row.
        positions: Source position per row.
        raws: The raw records, kept so rows rejected downstream can be dead-lettered verbatim.
    """

    meter_id: str
    ts_ms: NDArray[np.int64]
    gov_total_m3: NDArray[np.float64]
    flow_m3h: NDArray[np.float64]
    temp_c: NDArray[np.float64]
    pressure_kpa: NDArray[np.float64]
    density_kgm3: NDArray[np.float64]
    status: list[str]
    positions: list[str]
    raws: list[RawEvent]

    def __len__(self) -> int:
        return int(self.ts_ms.size)


@dataclass(frozen=True, slots=True)
class TankReading:
    """A tank gauge reading."""

    tank_id: str
    ts: datetime
    level_mm: float
    temp_c: float
    water_mm: float
    density_kgm3: float | None
    raw: RawEvent


@dataclass(frozen=True, slots=True)
class Transfer:
    """A transfer (loading/discharge) document event; ``fields`` keeps every contract field."""

    transfer_id: str
    event: str
    ts: datetime
    direction: str
    meter_ids: tuple[str, ...]
    tank_ids: tuple[str, ...]
    fields: Mapping[str, Any]

    def get(self, name: str, default: Any = None) -> Any:
        """A contract field of the transfer document."""
        return self.fields.get(name, default)


@dataclass(frozen=True, slots=True)
class LabDensity:
    """Density at 15 °C entered by a customs officer for a transfer (M1: audited manual input)."""

    transfer_id: str
    ts: datetime
    officer_id: str
    density_15c_kgm3: float
    source: str
    note: str
    position: str


def _num(obj: Mapping[str, Any], name: str, *, optional: bool = False) -> float | None:
    value = obj.get(name)
    if value is None:
        if optional:
            return None
        raise EventError(f"{name}: missing")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventError(f"{name}: expected a number, got {value!r}")
    f = float(value)
    if not math.isfinite(f):
        raise EventError(f"{name}: not a finite number")
    return f


def _req_num(obj: Mapping[str, Any], name: str) -> float:
    value = _num(obj, name)
    assert value is not None
    return value


def _str(obj: Mapping[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise EventError(f"{name}: expected a non-empty string, got {value!r}")
    return value


def _load(raw: RawEvent) -> dict[str, Any]:
    try:
        obj = json.loads(raw.payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventError(f"undecodable JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise EventError(f"expected a JSON object, got {type(obj).__name__}")
    return obj


def decode_tank_reading(raw: RawEvent) -> TankReading:
    """Decode and validate a tank gauge reading.

    Raises:
        EventError: With the reason, when the record breaks the contract.
    """
    obj = _load(raw)
    level = _req_num(obj, "level_mm")
    water = _num(obj, "water_mm", optional=True) or 0.0
    density = _num(obj, "density_kgm3", optional=True)
    if level < 0 or water < 0:
        raise EventError("level_mm/water_mm: negative level")
    if water > level:
        raise EventError(f"water_mm {water} above level_mm {level}")
    if density is not None and not 300.0 <= density <= 1300.0:
        raise EventError(f"density_kgm3: {density} outside 300..1300")
    return TankReading(_str(obj, "tank_id"), parse_ts(obj.get("ts")), level, _req_num(obj, "temp_c"), water,
                       density, raw)


def decode_transfer(raw: RawEvent) -> Transfer:
    """Decode and validate a transfer document event.

    Raises:
        EventError: With the reason, when the record breaks the contract.
    """
    obj = _load(raw)
    event = obj.get("event")
    if event not in TRANSFER_EVENTS:
        raise EventError(f"event: expected one of {sorted(TRANSFER_EVENTS)}, got {event!r}")
    direction = obj.get("direction")
    if direction not in DIRECTIONS:
        raise EventError(f"direction: expected one of {sorted(DIRECTIONS)}, got {direction!r}")
    ids: dict[str, tuple[str, ...]] = {}
    for name in ("meter_ids", "tank_ids"):
        value = obj.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise EventError(f"{name}: expected a list of ids")
        ids[name] = tuple(value)
    for name in ("bl_quantity_kg_air", "bl_quantity_m3_15c", "declaration_quantity_kg",
                 "ship_tank_opening_m3_15c", "ship_tank_closing_m3_15c"):
        _num(obj, name, optional=True)
    return Transfer(_str(obj, "transfer_id"), event, parse_ts(obj.get("ts")), direction, ids["meter_ids"],
                    ids["tank_ids"], obj)


def decode_lab_density(raw: RawEvent) -> LabDensity:
    """Decode and validate a density entered by a customs officer.

    Raises:
        EventError: With the reason, when the record breaks the contract.
    """
    obj = _load(raw)
    rho = _req_num(obj, "density_15c_kgm3")
    if not 300.0 <= rho <= 1300.0:
        raise EventError(f"density_15c_kgm3: {rho} outside 300..1300")
    source = obj.get("source")
    if source not in ("ship_lab_report", "customs_lab"):
        raise EventError(f"source: expected ship_lab_report or customs_lab, got {source!r}")
    return LabDensity(_str(obj, "transfer_id"), parse_ts(obj.get("ts")), _str(obj, "officer_id"), rho,
                      source, str(obj.get("note", "")), raw.position)


@dataclass
class _ChunkBuilder:
    meter_id: str
    ts_ms: list[int] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    flow: list[float] = field(default_factory=list)
    temp: list[float] = field(default_factory=list)
    pressure: list[float] = field(default_factory=list)
    density: list[float] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    positions: list[str] = field(default_factory=list)
    raws: list[RawEvent] = field(default_factory=list)

    def build(self) -> MeterChunk:
        return MeterChunk(
            self.meter_id,
            np.array(self.ts_ms, dtype=np.int64),
            np.array(self.total, dtype=np.float64),
            np.array(self.flow, dtype=np.float64),
            np.array(self.temp, dtype=np.float64),
            np.array(self.pressure, dtype=np.float64),
            np.array(self.density, dtype=np.float64),
            self.status,
            self.positions,
            self.raws,
        )


_READING_FIELDS = ("gov_total_m3", "flow_m3h", "temp_c", "pressure_kpa")


def _reading_values(obj: Mapping[str, Any]) -> tuple[float, float, float, float, float]:
    values = []
    for name in _READING_FIELDS:
        v = obj.get(name)
        if type(v) is not float and type(v) is not int:
            v = _num(obj, name)
        elif not math.isfinite(v):
            raise EventError(f"{name}: not a finite number")
        values.append(float(v))  # type: ignore[arg-type]
    total, flow, temp, pressure = values
    d = obj.get("density_kgm3")
    density = math.nan if d is None else _req_num(obj, "density_kgm3")
    if total < 0:
        raise EventError(f"gov_total_m3: negative totalizer {total}")
    if flow < 0:
        raise EventError(f"flow_m3h: negative flow {flow}")
    if not -50.0 <= temp <= 150.0:
        raise EventError(f"temp_c: {temp} outside -50..150 °C")
    if not -100.0 <= pressure <= 10_342.0:
        raise EventError(f"pressure_kpa: {pressure} outside -100..10342 kPa")
    if density == density and not 300.0 <= density <= 1300.0:
        raise EventError(f"density_kgm3: {density} outside 300..1300")
    return total, flow, temp, pressure, density


class SiteDecoder:
    """Turns batches of raw fuel-terminal events into keyed, validated items.

    Output items are ``(key, value)`` pairs: ``("meter:ID", MeterChunk | Transfer | LabDensity)``,
    ``("tank:ID", TankReading | Transfer)``, ``("transfers", Transfer)``, ``("lab_density", LabDensity)``
    and ``("dead_letters", DeadLetter)``.

    Args:
        flow: Flow name recorded on dead letters.
        meter_ids: Configured meters; readings of other meters are dead-lettered.
        tank_ids: Configured tanks; readings of other tanks are dead-lettered.
    """

    def __init__(self, flow: str, meter_ids: Iterable[str], tank_ids: Iterable[str]) -> None:
        self.flow = flow
        self.meter_ids = frozenset(meter_ids)
        self.tank_ids = frozenset(tank_ids)

    def decode_batch(self, batch: Iterable[RawEvent]) -> list[tuple[str, Any]]:
        """Decode one batch, keeping the relative order of every entity's events."""
        out: list[tuple[str, Any]] = []
        pending: dict[str, _ChunkBuilder] = {}

        def flush(meter_id: str) -> None:
            builder = pending.pop(meter_id, None)
            if builder is not None:
                out.append((f"meter:{meter_id}", builder.build()))

        for raw in batch:
            try:
                if raw.stream == STREAM_METER_READINGS:
                    self._add_reading(raw, pending)
                elif raw.stream == STREAM_TANK_READINGS:
                    tr = decode_tank_reading(raw)
                    if tr.tank_id not in self.tank_ids:
                        raise EventError(f"unknown tank_id {tr.tank_id!r}")
                    out.append((f"tank:{tr.tank_id}", tr))
                elif raw.stream == STREAM_TRANSFERS:
                    t = decode_transfer(raw)
                    unknown = [m for m in t.meter_ids if m not in self.meter_ids]
                    unknown += [k for k in t.tank_ids if k not in self.tank_ids]
                    if unknown:
                        raise EventError(f"transfer names unknown meters/tanks: {', '.join(unknown)}")
                    out.append((KEY_TRANSFERS, t))
                    for m in t.meter_ids:
                        flush(m)
                        out.append((f"meter:{m}", t))
                    out.extend((f"tank:{k}", t) for k in t.tank_ids)
                elif raw.stream == STREAM_LAB_DENSITY:
                    lab = decode_lab_density(raw)
                    out.append(("lab_density", lab))
                    for m in sorted(self.meter_ids):
                        flush(m)
                        out.append((f"meter:{m}", lab))
                else:
                    raise EventError(f"unknown stream {raw.stream!r}")
            except EventError as exc:
                out.append((KEY_DEAD_LETTERS, DeadLetter.of(self.flow, raw, str(exc))))
        for meter_id in list(pending):
            flush(meter_id)
        return out

    def _add_reading(self, raw: RawEvent, pending: dict[str, _ChunkBuilder]) -> None:
        obj = _load(raw)
        meter_id = obj.get("meter_id")
        if meter_id not in self.meter_ids:
            raise EventError(f"unknown meter_id {meter_id!r}")
        assert isinstance(meter_id, str)
        status = obj.get("status", "ok")
        if status not in METER_STATUSES:
            raise EventError(f"status: expected one of {sorted(METER_STATUSES)}, got {status!r}")
        total, flow, temp, pressure, density = _reading_values(obj)
        ts_ms = ms_from_ts(parse_ts(obj.get("ts")))
        b = pending.get(meter_id)
        if b is None:
            b = pending[meter_id] = _ChunkBuilder(meter_id)
        b.ts_ms.append(ts_ms)
        b.total.append(total)
        b.flow.append(flow)
        b.temp.append(temp)
        b.pressure.append(pressure)
        b.density.append(density)
        b.status.append(status)
        b.positions.append(raw.position)
        b.raws.append(raw)
