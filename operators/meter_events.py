"""Decoding and validation of the fuel-terminal input events (meter and tank readings, transfers, lab density).

Decoding works on whole batches: consecutive readings of one meter become one columnar
:class:`MeterChunk`, so the per-reading cost downstream is NumPy, not Python. Relative order per entity is
kept: a transfer event for a meter closes that meter's pending chunk before it is emitted.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.json as pa_json
from numpy.typing import NDArray

from operators.event_fields import number_field, optional_number, text_field
from operators.events import (
    STREAM_LAB_DENSITY,
    STREAM_METER_READINGS,
    STREAM_TANK_READINGS,
    STREAM_TRANSFERS,
    DeadLetter,
    EventError,
    RawEvent,
    iso_ms,
    load_object,
    ms_from_ts,
    parse_ts,
)
from operators.vcf import PRODUCT_GROUPS

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
    phase_change_windows: tuple[tuple[int, int], ...] = ()

    def get(self, name: str, default: Any = None) -> Any:
        """A contract field of the transfer document."""
        return self.fields.get(name, default)


@dataclass(frozen=True, slots=True)
class Tick:
    """The site's event time (latest reading time of a decoded batch), sent to every meter.

    A meter that stops reporting gets no items of its own; ticks let it notice its silence in event
    time, so a replay finds the same gaps as the live run.
    """

    ts_ms: int


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


def decode_tank_reading(raw: RawEvent) -> TankReading:
    """Decode and validate a tank gauge reading.

    Raises:
        EventError: With the reason, when the record breaks the contract.
    """
    obj = load_object(raw)
    level = number_field(obj, "level_mm")
    water = optional_number(obj, "water_mm") or 0.0
    density = optional_number(obj, "density_kgm3")
    if level < 0 or water < 0:
        raise EventError("level_mm/water_mm: negative level")
    if water > level:
        raise EventError(f"water_mm {water} above level_mm {level}")
    if density is not None and not 300.0 <= density <= 1300.0:
        raise EventError(f"density_kgm3: {density} outside 300..1300")
    return TankReading(text_field(obj, "tank_id"), parse_ts(obj.get("ts")), level, number_field(obj, "temp_c"), water,
                       density, raw)


def decode_transfer(raw: RawEvent) -> Transfer:
    """Decode and validate a transfer document event.

    Raises:
        EventError: With the reason, when the record breaks the contract.
    """
    obj = load_object(raw)
    event = obj.get("event")
    if not isinstance(event, str) or event not in TRANSFER_EVENTS:
        raise EventError(f"event: expected one of {sorted(TRANSFER_EVENTS)}, got {event!r}")
    direction = obj.get("direction")
    if not isinstance(direction, str) or direction not in DIRECTIONS:
        raise EventError(f"direction: expected one of {sorted(DIRECTIONS)}, got {direction!r}")
    ids: dict[str, tuple[str, ...]] = {}
    for name in ("meter_ids", "tank_ids"):
        value = obj.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise EventError(f"{name}: expected a list of ids")
        ids[name] = tuple(value)
    group = obj.get("product_group")
    if group is not None and (not isinstance(group, str) or group not in PRODUCT_GROUPS):
        raise EventError(f"product_group: expected one of {sorted(PRODUCT_GROUPS)}, got {group!r}")
    for name in ("bl_quantity_kg_air", "bl_quantity_m3_15c", "declaration_quantity_kg",
                 "ship_tank_opening_m3_15c", "ship_tank_closing_m3_15c"):
        optional_number(obj, name)
    windows = obj.get("phase_change_reported", [])
    if not isinstance(windows, list) or not all(isinstance(w, dict) for w in windows):
        raise EventError("phase_change_reported: expected a list of {from, to} windows")
    spans = []
    for w in windows:
        a, b = parse_ts(w.get("from"), "phase_change_reported.from"), parse_ts(w.get("to"), "phase_change_reported.to")
        if b < a:
            raise EventError("phase_change_reported: a window ends before it starts")
        spans.append((ms_from_ts(a), ms_from_ts(b)))
    return Transfer(text_field(obj, "transfer_id"), event, parse_ts(obj.get("ts")), direction, ids["meter_ids"],
                    ids["tank_ids"], obj, tuple(spans))


def decode_lab_density(raw: RawEvent) -> LabDensity:
    """Decode and validate a density entered by a customs officer.

    Raises:
        EventError: With the reason, when the record breaks the contract.
    """
    obj = load_object(raw)
    rho = number_field(obj, "density_15c_kgm3")
    if not 300.0 <= rho <= 1300.0:
        raise EventError(f"density_15c_kgm3: {rho} outside 300..1300")
    source = obj.get("source")
    if source not in ("ship_lab_report", "customs_lab"):
        raise EventError(f"source: expected ship_lab_report or customs_lab, got {source!r}")
    return LabDensity(text_field(obj, "transfer_id"), parse_ts(obj.get("ts")), text_field(obj, "officer_id"), rho,
                      source, str(obj.get("note", "")), raw.position)


_READING_SCHEMA = pa.schema([
    ("meter_id", pa.string()), ("ts", pa.string()), ("gov_total_m3", pa.float64()), ("flow_m3h", pa.float64()),
    ("temp_c", pa.float64()), ("pressure_kpa", pa.float64()), ("density_kgm3", pa.float64()),
    ("status", pa.string()),
])
_PARSE = pa_json.ParseOptions(explicit_schema=_READING_SCHEMA, unexpected_field_behavior="ignore")
_READ = pa_json.ReadOptions(use_threads=False, block_size=1 << 26)


class _ReadingBlock:
    """The meter readings of one batch, parsed column-wise.

    The fast path parses every line at once with Arrow's JSON reader and validates with NumPy; a row it
    cannot vouch for (wrong type, out of range, unknown meter, timestamp not in canonical form) is parsed
    again by the per-record path, which either fills the row or names the reason for the dead letter.
    """

    def __init__(self, raws: Sequence[RawEvent], meter_ids: frozenset[str]) -> None:
        n = len(raws)
        self.raws = raws
        self.ok = np.zeros(n, dtype=bool)
        self.meter: list[str] = [""] * n
        self.status: list[str] = ["ok"] * n
        self.ts_ms = np.zeros(n, dtype=np.int64)
        self.cols = np.full((5, n), np.nan)  # total, flow, temp, pressure, density
        if n:
            self._fast(meter_ids)

    def _fast(self, meter_ids: frozenset[str]) -> None:
        lines = [r.payload.decode("utf-8", "replace") if isinstance(r.payload, bytes) else r.payload
                 for r in self.raws]
        if any("\n" in line for line in lines):
            return
        try:
            table = pa_json.read_json(io.BytesIO("\n".join(lines).encode("utf-8")), read_options=_READ,
                                      parse_options=_PARSE)
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
            return  # some line is not valid JSON of the right shape: every row takes the per-record path
        if table.num_rows != len(lines):
            return
        try:
            ts = table.column("ts").cast(pa.timestamp("ms", tz="UTC"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return
        ts_null = np.asarray(ts.is_null())
        self.ts_ms = ts.cast(pa.int64()).fill_null(0).to_numpy().astype(np.int64, copy=True)
        for k, name in enumerate(("gov_total_m3", "flow_m3h", "temp_c", "pressure_kpa", "density_kgm3")):
            self.cols[k] = np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)
        self.meter = [m or "" for m in table.column("meter_id").to_pylist()]
        # a missing or null status is left to the per-record path, which tells the two apart
        self.status = [s if s is not None else "" for s in table.column("status").to_pylist()]
        total, flow, temp, pres, dens = self.cols
        with np.errstate(invalid="ignore"):
            ok = (~ts_null & ~np.isnan(total) & ~np.isnan(flow) & ~np.isnan(temp) & ~np.isnan(pres)
                  & (total >= 0) & (flow >= 0) & (temp >= -50.0) & (temp <= 150.0)
                  & (pres >= -100.0) & (pres <= 10_342.0)
                  & (np.isnan(dens) | ((dens >= 300.0) & (dens <= 1300.0))))
        known = np.fromiter((m in meter_ids for m in self.meter), dtype=bool, count=len(self.meter))
        status_ok = np.fromiter((st in METER_STATUSES for st in self.status), dtype=bool, count=len(self.status))
        self.ok = ok & known & status_ok

    def slow(self, j: int, meter_ids: frozenset[str]) -> str:
        """Parse row ``j`` record by record; returns its meter id or raises :class:`EventError`."""
        raw = self.raws[j]
        obj = load_object(raw)
        meter_id = obj.get("meter_id")
        if not isinstance(meter_id, str) or meter_id not in meter_ids:
            raise EventError(f"unknown meter_id {meter_id!r}")
        status = obj.get("status", "ok")
        if not isinstance(status, str) or status not in METER_STATUSES:
            raise EventError(f"status: expected one of {sorted(METER_STATUSES)}, got {status!r}")
        values = _reading_values(obj)
        self.ts_ms[j] = ms_from_ts(parse_ts(obj.get("ts")))
        self.cols[:, j] = values
        self.meter[j] = str(meter_id)
        self.status[j] = str(status)
        self.ok[j] = True
        return str(meter_id)

    def chunk(self, meter_id: str, idx: list[int]) -> MeterChunk:
        """The rows ``idx`` (all of one meter) as a chunk."""
        ix = np.asarray(idx, dtype=np.intp)
        cols = self.cols[:, ix]
        raws = [self.raws[j] for j in idx]
        return MeterChunk(meter_id, self.ts_ms[ix], cols[0], cols[1], cols[2], cols[3], cols[4],
                          [self.status[j] for j in idx], [r.position for r in raws], raws)


_READING_FIELDS = ("gov_total_m3", "flow_m3h", "temp_c", "pressure_kpa")


def _reading_values(obj: Mapping[str, Any]) -> tuple[float, float, float, float, float]:
    total, flow, temp, pressure = (number_field(obj, name) for name in _READING_FIELDS)
    density = math.nan if obj.get("density_kgm3") is None else number_field(obj, "density_kgm3")
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
        ticks: After each batch, send every meter a :class:`Tick` with the batch's latest event time.
        clock: Wall clock (epoch seconds) at decoding; with it, an event dated more than ``max_future_s`` after
            it is dead-lettered ("in the future"): a reading cannot be processed before it happened, and one
            far-future timestamp would otherwise make every later reading of its meter late. Live and replay
            decide alike for every real event (both run after it). ``None``: no check.
        max_future_s: Allowed clock skew of the site's devices.
    """

    def __init__(self, flow: str, meter_ids: Iterable[str], tank_ids: Iterable[str], ticks: bool = False,
                 clock: Callable[[], float] | None = None, max_future_s: float = 86_400.0) -> None:
        self.flow = flow
        self.ticks = ticks
        self.clock = clock
        self.max_future_s = max_future_s
        self.meter_ids = frozenset(meter_ids)
        self.tank_ids = frozenset(tank_ids)
        self.last_tick_ms: int | None = None
        self.source_max: dict[str, int] = {}
        self.partition_idle_s = 300.0

    def decode_batch(self, batch: Iterable[RawEvent]) -> list[tuple[str, Any]]:
        """Decode one batch, keeping the relative order of every entity's events."""
        raws = list(batch)
        block = _ReadingBlock([r for r in raws if r.stream == STREAM_METER_READINGS], self.meter_ids)
        out: list[tuple[str, Any]] = []
        pending: dict[str, list[int]] = {}

        def flush(meter_id: str) -> None:
            idx = pending.pop(meter_id, None)
            if idx:
                out.append((f"meter:{meter_id}", block.chunk(meter_id, idx)))

        j = -1
        other_ms: int | None = None
        limit_ms = None if self.clock is None else int((self.clock() + self.max_future_s) * 1000)

        def not_future(ts_ms: int) -> None:
            if limit_ms is not None and ts_ms > limit_ms:
                raise EventError(f"ts {iso_ms(datetime.fromtimestamp(ts_ms / 1000, UTC))} is in the future "
                                 f"(more than {self.max_future_s:g} s after the time of decoding)")

        for raw in raws:
            try:
                if raw.stream == STREAM_METER_READINGS:
                    j += 1
                    meter_id = block.meter[j] if block.ok[j] else block.slow(j, self.meter_ids)
                    if limit_ms is not None and block.ts_ms[j] > limit_ms:
                        block.ok[j] = False
                        not_future(int(block.ts_ms[j]))
                    idx = pending.get(meter_id)
                    if idx is None:
                        pending[meter_id] = [j]
                    else:
                        idx.append(j)
                elif raw.stream == STREAM_TANK_READINGS:
                    tr = decode_tank_reading(raw)
                    if tr.tank_id not in self.tank_ids:
                        raise EventError(f"unknown tank_id {tr.tank_id!r}")
                    not_future(ms_from_ts(tr.ts))
                    out.append((f"tank:{tr.tank_id}", tr))
                    other_ms = max(other_ms or 0, ms_from_ts(tr.ts))
                elif raw.stream == STREAM_TRANSFERS:
                    t = decode_transfer(raw)
                    not_future(ms_from_ts(t.ts))
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
                    not_future(ms_from_ts(lab.ts))
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
        now = self._site_time(block, other_ms) if self.ticks else None
        if now is not None and (self.last_tick_ms is None or now > self.last_tick_ms):
            self.last_tick_ms = now
            out.extend((f"meter:{m}", Tick(now)) for m in sorted(self.meter_ids))
        return out

    def _site_time(self, block: _ReadingBlock, other_ms: int | None) -> int | None:
        """The site's event time: the slowest source of meter readings that is still live.

        Sources (a replay file, or each Kafka partition) are consumed at their own pace, so the latest
        time of one batch may be ahead of a partition that lags; a silent meter is only judged against the
        slowest partition. A partition more than ``partition_idle_s`` behind the fastest counts as idle and
        is ignored, so one dead partition cannot stop the clock. Tank readings advance it when there are
        no meter readings at all.
        """
        ok = np.flatnonzero(block.ok)
        for j in ok.tolist():
            pos = block.raws[j].position
            src = pos.rsplit("@", 1)[0] if "@" in pos else pos.split(":", 1)[0]
            t = int(block.ts_ms[j])
            if t > self.source_max.get(src, -1):
                self.source_max[src] = t
        if not self.source_max:
            return other_ms
        fastest = max(self.source_max.values())
        live = [t for t in self.source_max.values() if fastest - t <= self.partition_idle_s * 1000]
        return min(live)
