"""Periodic general reports (Ek-80 IV.C: during a discharge, weekly, monthly, any date range), per meter and tank.

A period is cut into buckets ``(b_k, b_k+1]`` at midnight UTC (``day``), Monday 00:00 UTC (``week``, ISO
weeks) or the first of the month 00:00 UTC (``month``). A meter's quantities in a bucket are the Σ of the
interval quantities (ΔGOV, ΔGSV, Δmass) of its operation readings with ``b_k < ts <= b_k+1``, so an operation
that crosses a boundary is split exactly and the buckets add up to the whole. The state at a boundary
(totalizer index, tank stock) is the last reading with ``ts <= boundary``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from operators.reports.fields import fmt

Row = Mapping[str, Any]
EVERY = ("day", "week", "month", "none")

METER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("bucket", ""), ("bucket_start", ""), ("bucket_end", ""), ("meter_id", ""), ("operations", ""),
    ("operation_ids", ""), ("readings", ""), ("gov_m3", "m3"), ("gsv_15c_m3", "m3"), ("mass_vacuum_kg", "kg"),
    ("mass_air_kg", "kg"), ("index_start_m3", "m3"), ("index_end_m3", "m3"), ("index_change_m3", "m3"),
    ("outside_operations_m3", "m3"),
)
TANK_COLUMNS: tuple[tuple[str, str], ...] = (
    ("bucket", ""), ("bucket_start", ""), ("bucket_end", ""), ("tank_id", ""), ("readings", ""),
    ("opening_gsv_15c_m3", "m3"), ("closing_gsv_15c_m3", "m3"), ("net_change_m3", "m3"), ("receipts_m3", "m3"),
    ("deliveries_m3", "m3"), ("other_m3", "m3"), ("opening_mass_air_kg", "kg"), ("closing_mass_air_kg", "kg"),
    ("net_change_mass_air_kg", "kg"), ("opening_level_mm", "mm"), ("closing_level_mm", "mm"),
)
_METER_SUMS = ("gov_m3", "gsv_15c_m3", "mass_vacuum_kg", "mass_air_kg")


@dataclass(frozen=True)
class PeriodReport:
    """The periodic report.

    Attributes:
        start: Period start (exclusive for movements, the opening state is taken at it).
        end: Period end (inclusive).
        every: Bucket size: ``day``, ``week``, ``month`` or ``none``.
        meter_rows: One row per meter and bucket, then one ``total`` row per meter when there are buckets.
        tank_rows: One row per tank and bucket, then one ``total`` row per tank when there are buckets.
    """

    start: datetime
    end: datetime
    every: str
    meter_rows: list[dict[str, Any]]
    tank_rows: list[dict[str, Any]]


def _utc(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        raise ValueError("period bounds must be timezone-aware")
    return ts.astimezone(UTC)


def next_boundary(ts: datetime, every: str) -> datetime:
    """The first bucket boundary strictly after ``ts``.

    Raises:
        ValueError: For an unknown bucket size (or ``none``, which has no boundaries).
    """
    ts = _utc(ts)
    midnight = ts.replace(hour=0, minute=0, second=0, microsecond=0)
    if every == "day":
        return midnight + timedelta(days=1)
    if every == "week":
        return midnight - timedelta(days=midnight.weekday()) + timedelta(days=7)
    if every == "month":
        first = midnight.replace(day=1)
        if first.month == 12:
            return first.replace(year=first.year + 1, month=1)
        return first.replace(month=first.month + 1)
    raise ValueError(f"unknown bucket size {every!r}: use one of {', '.join(EVERY)}")


def bucket_bounds(start: datetime, end: datetime, every: str) -> list[datetime]:
    """Bucket boundaries from ``start`` to ``end``: ``[start, b1, ..., end]``.

    Raises:
        ValueError: When ``end`` is not after ``start`` or the bucket size is unknown.
    """
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise ValueError("the period end must be after its start")
    if every not in EVERY:
        raise ValueError(f"unknown bucket size {every!r}: use one of {', '.join(EVERY)}")
    bounds = [start]
    if every != "none":
        b = next_boundary(start, every)
        while b < end:
            bounds.append(b)
            b = next_boundary(b, every)
    bounds.append(end)
    return bounds


def _overlaps(op: Row, start: datetime, end: datetime) -> bool:
    ended = op.get("ended_at")
    return bool(op["started_at"] <= end and (ended is None or ended > start))


def meter_rows(
    bounds: Sequence[datetime],
    meter_ids: Sequence[str],
    sums: Sequence[Row],
    index_at: Sequence[Mapping[str, Row]],
    operations: Sequence[Row],
) -> list[dict[str, Any]]:
    """Per meter and bucket: operations, Σ quantities of operation readings, totalizer index at both ends.

    Args:
        bounds: Bucket boundaries (:func:`bucket_bounds`).
        meter_ids: Meters to report.
        sums: Rows ``meter_id, bucket, readings, gov_m3, gsv_15c_m3, mass_vacuum_kg, mass_air_kg`` (buckets
            without operation readings may be missing).
        index_at: For each boundary, meter_id → row with ``index_m3`` (last reading at or before it).
        operations: Operations of the meters overlapping the whole period.

    Returns:
        Rows keyed by :data:`METER_COLUMNS` names; a ``total`` row per meter follows its buckets when there
        is more than one bucket.
    """
    by_key = {(str(s["meter_id"]), int(s["bucket"])): s for s in sums}
    out: list[dict[str, Any]] = []
    for meter_id in meter_ids:
        rows = []
        for k in range(len(bounds) - 1):
            s = by_key.get((meter_id, k), {})
            ops = [o for o in operations if o["meter_id"] == meter_id and _overlaps(o, bounds[k], bounds[k + 1])]
            row: dict[str, Any] = {"bucket": str(k + 1), "bucket_start": bounds[k], "bucket_end": bounds[k + 1],
                                   "meter_id": meter_id}
            row |= _ops_and_sums(ops, s, index_at[k].get(meter_id), index_at[k + 1].get(meter_id))
            rows.append(row)
        out.extend(rows)
        if len(rows) > 1:
            ops = [o for o in operations if o["meter_id"] == meter_id and _overlaps(o, bounds[0], bounds[-1])]
            total = {c: sum(float(r[c]) for r in rows) for c in _METER_SUMS}
            total["readings"] = sum(int(r["readings"]) for r in rows)
            row = {"bucket": "total", "bucket_start": bounds[0], "bucket_end": bounds[-1], "meter_id": meter_id}
            row |= _ops_and_sums(ops, total, index_at[0].get(meter_id), index_at[-1].get(meter_id))
            out.append(row)
    return out


def _ops_and_sums(ops: Sequence[Row], s: Mapping[str, Any], i0: Row | None, i1: Row | None) -> dict[str, Any]:
    gov = float(s.get("gov_m3") or 0.0)
    start = None if i0 is None else float(i0["index_m3"])
    end = None if i1 is None else float(i1["index_m3"])
    change = None if start is None or end is None else end - start
    return {
        "operations": len(ops),
        "operation_ids": [str(o["operation_id"]) for o in ops],
        "readings": int(s.get("readings") or 0),
        "gov_m3": gov,
        "gsv_15c_m3": float(s.get("gsv_15c_m3") or 0.0),
        "mass_vacuum_kg": float(s.get("mass_vacuum_kg") or 0.0),
        "mass_air_kg": float(s.get("mass_air_kg") or 0.0),
        "index_start_m3": start,
        "index_end_m3": end,
        "index_change_m3": change,
        "outside_operations_m3": None if change is None else change - gov,
    }


def tank_rows(bounds: Sequence[datetime], tank_id: str, opening: Row | None,
              readings: Sequence[Row]) -> list[dict[str, Any]]:
    """Per bucket: opening/closing stock, net change, receipts and deliveries of one tank.

    Receipts are the GSV increases between consecutive readings the flow classified ``receiving``,
    deliveries the decreases it classified ``delivering``; ``other`` is the rest (gauge noise, thermal
    residue), so ``net = receipts − deliveries + other`` exactly.

    Args:
        bounds: Bucket boundaries.
        tank_id: The tank.
        opening: The last reading at or before ``bounds[0]`` (None when there is none).
        readings: The readings with ``bounds[0] < ts <= bounds[-1]``, oldest first.

    Returns:
        Rows keyed by :data:`TANK_COLUMNS` names; a ``total`` row follows when there is more than one bucket.
    """
    out: list[dict[str, Any]] = []
    prev = opening
    i = 0
    for k in range(len(bounds) - 1):
        first = prev
        rec = dlv = other = 0.0
        n = 0
        while i < len(readings) and readings[i]["ts"] <= bounds[k + 1]:
            r = readings[i]
            if prev is not None:
                d = float(r["gsv_15c_m3"]) - float(prev["gsv_15c_m3"])
                if r.get("state") == "receiving" and d > 0:
                    rec += d
                elif r.get("state") == "delivering" and d < 0:
                    dlv -= d
                else:
                    other += d
            prev = r
            n += 1
            i += 1
        out.append(_tank_row(str(k + 1), bounds[k], bounds[k + 1], tank_id, n, first, prev, rec, dlv, other))
    if len(out) > 1:
        rec, dlv, other = (sum(float(r[c]) for r in out) for c in ("receipts_m3", "deliveries_m3", "other_m3"))
        out.append(_tank_row("total", bounds[0], bounds[-1], tank_id, sum(int(r["readings"]) for r in out),
                             opening, prev, rec, dlv, other))
    return out


def _tank_row(bucket: str, start: datetime, end: datetime, tank_id: str, n: int, first: Row | None,
              last: Row | None, rec: float, dlv: float, other: float) -> dict[str, Any]:
    def val(r: Row | None, c: str) -> float | None:
        return None if r is None else float(r[c])

    def diff(c: str) -> float | None:
        a, b = val(first, c), val(last, c)
        if b is None:
            return None
        return b - (a if a is not None else b)

    # with no opening reading the first reading in the period is the base: its own stock is not a movement
    return {
        "bucket": bucket, "bucket_start": start, "bucket_end": end, "tank_id": tank_id, "readings": n,
        "opening_gsv_15c_m3": val(first, "gsv_15c_m3"), "closing_gsv_15c_m3": val(last, "gsv_15c_m3"),
        "net_change_m3": diff("gsv_15c_m3") if first is not None else (rec - dlv + other if last else None),
        "receipts_m3": rec, "deliveries_m3": dlv, "other_m3": other,
        "opening_mass_air_kg": val(first, "mass_air_kg"), "closing_mass_air_kg": val(last, "mass_air_kg"),
        "net_change_mass_air_kg": diff("mass_air_kg") if first is not None else None,
        "opening_level_mm": val(first, "level_mm"), "closing_level_mm": val(last, "level_mm"),
    }


def build_period_report(start: datetime, end: datetime, every: str, meters: list[dict[str, Any]],
                        tanks: list[dict[str, Any]]) -> PeriodReport:
    """Wrap computed rows into a :class:`PeriodReport`."""
    return PeriodReport(_utc(start), _utc(end), every, meters, tanks)


def formatted(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> list[list[str]]:
    """Rows as text cells in column order."""
    return [[fmt(r.get(c), unit) for c, unit in columns] for r in rows]


def headers(columns: Sequence[tuple[str, str]]) -> list[str]:
    """Column names of a table."""
    return [c for c, _unit in columns]
