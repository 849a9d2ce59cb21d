"""Simulated tracks → contract JSON lines (meter and tank readings), sorted by event time.

Numbers are written at the instrument's resolution: totalizer 0.001 m³, flow 0.01 m³/h, temperature
0.01 °C, pressure 0.1 kPa, density 0.1 kg/m³, mass totalizer 1 kg, mass flow 1 kg/h, level and water 1 mm.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from connectors.simulate.faults import ExtraLine
from connectors.simulate.jsonl import fixed, iso_ms
from connectors.simulate.meter_physics import MILLI, MeterTrack
from connectors.simulate.profile import FloatArray
from connectors.simulate.tanks import TankTrack


def timestamps(start_ms: int, t_s: FloatArray) -> list[str]:
    """Timestamp strings of times given in seconds from ``start_ms``."""
    return iso_ms(start_ms + np.rint(t_s * MILLI).astype(np.int64))


def meter_lines(tracks: Sequence[MeterTrack], start_ms: int, extra: Sequence[ExtraLine] = ()) -> list[str]:
    """Meter readings of every track as JSON lines, sorted by time then track order.

    Args:
        tracks: Meter tracks sharing one time grid.
        start_ms: Epoch milliseconds of the scenario start.
        extra: Irregular lines (bad input) placed after the readings at or before their time.

    Returns:
        The lines, without newlines.
    """
    if not tracks:
        return [x.text for x in extra]
    ts_all = timestamps(start_ms, tracks[0].t_s)
    per_track: list[list[str]] = []
    keys: list[np.ndarray] = []
    for i, tr in enumerate(tracks):
        rows = np.flatnonzero(tr.keep)
        per_track.append(_meter_track_lines(tr, rows, ts_all))
        keys.append(rows * len(tracks) + i)
    lines = [line for chunk in per_track for line in chunk]
    key = np.concatenate(keys)
    order = np.argsort(key, kind="stable")
    ordered = [lines[j] for j in order.tolist()]
    if extra:
        times = tracks[0].t_s[key[order] // len(tracks)]
        ordered = _insert(ordered, times, extra)
    return ordered


def _meter_track_lines(tr: MeterTrack, rows: np.ndarray, ts_all: list[str]) -> list[str]:
    meter = json.dumps(tr.meter_id)
    ts = [ts_all[k] for k in rows.tolist()]
    gov = fixed(tr.gov_total_milli[rows] / MILLI, 3)
    flow = fixed(tr.flow_m3h[rows], 2)
    temp = fixed(tr.temp_c[rows], 2)
    pres = fixed(tr.pressure_kpa[rows], 1)
    mass = [str(v) for v in tr.mass_total_kg[rows].tolist()]
    mflow = fixed(tr.mass_flow_kgh[rows], 0)
    if tr.has_density:
        dens = fixed(tr.density_kgm3[rows], 1)
        return [
            f'{{"meter_id": {meter}, "ts": "{a}", "gov_total_m3": {b}, "flow_m3h": {c}, "temp_c": {d}, '
            f'"pressure_kpa": {e}, "density_kgm3": {f}, "mass_total_kg": {g}, "mass_flow_kgh": {h}, '
            f'"status": "ok"}}'
            for a, b, c, d, e, f, g, h in zip(ts, gov, flow, temp, pres, dens, mass, mflow, strict=True)
        ]
    return [
        f'{{"meter_id": {meter}, "ts": "{a}", "gov_total_m3": {b}, "flow_m3h": {c}, "temp_c": {d}, '
        f'"pressure_kpa": {e}, "mass_total_kg": {g}, "mass_flow_kgh": {h}, "status": "ok"}}'
        for a, b, c, d, e, g, h in zip(ts, gov, flow, temp, pres, mass, mflow, strict=True)
    ]


def _insert(lines: list[str], times: FloatArray, extra: Sequence[ExtraLine]) -> list[str]:
    """Insert irregular lines after the last line at or before their time (order among them kept)."""
    positions = np.searchsorted(times, np.array([x.after_s for x in extra]), side="right").tolist()
    out: list[str] = []
    prev = 0
    for pos, x in sorted(zip(positions, extra, strict=True), key=lambda p: p[0]):
        out.extend(lines[prev:pos])
        out.append(x.text)
        prev = pos
    out.extend(lines[prev:])
    return out


def tank_lines(tracks: Sequence[TankTrack], start_ms: int) -> list[str]:
    """Gauge readings of every tank as JSON lines, sorted by time then track order.

    Args:
        tracks: Tank tracks sharing one time grid.
        start_ms: Epoch milliseconds of the scenario start.

    Returns:
        The lines, without newlines.
    """
    if not tracks:
        return []
    ts = timestamps(start_ms, tracks[0].t_s)
    columns = []
    for tr in tracks:
        tank = json.dumps(tr.tank_id)
        water = f"{tr.water_mm:.0f}"
        columns.append(
            [
                f'{{"tank_id": {tank}, "ts": "{a}", "level_mm": {b}, "temp_c": {c}, "water_mm": {water}, '
                f'"density_kgm3": {d}}}'
                for a, b, c, d in zip(
                    ts,
                    fixed(tr.level_mm, 0),
                    fixed(tr.temp_c, 2),
                    fixed(tr.density_kgm3, 1),
                    strict=True,
                )
            ]
        )
    return [line for row in zip(*columns, strict=True) for line in row]
