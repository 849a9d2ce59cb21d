"""Instrument faults injected into simulated meter readings (only when a scenario asks for them).

A fault changes what is *reported*, never the physics: the truth is computed from the undisturbed
increments. Each fault lands in its own stretch of steady flow so that none hides another:

- ``gap``: one meter is silent for a few minutes (its totalizer keeps counting, so it jumps afterwards);
- ``spike``: one impossible flow value and, on a meter with a densitometer, one impossible density;
- ``stuck``: one meter's temperature is frozen for ten minutes;
- ``totalizer_reset``: one meter's volume and mass totalizers restart at 0 once;
- ``bad_lines``: malformed or invalid lines and readings of an unknown meter mixed into the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from connectors.simulate.meter_physics import MeterTrack
from connectors.simulate.profile import Envelope

UNKNOWN_METER_ID = "M-99"
SPIKE_FLOW_FACTOR = 40.0
SPIKE_DENSITY_KGM3 = 1999.9
GAP_S = (180.0, 300.0)
STUCK_S = 600.0


@dataclass(frozen=True)
class ExtraLine:
    """A line that is not a regular reading, placed after the readings at or before ``after_s``.

    Attributes:
        after_s: Seconds from the scenario start.
        text: The line exactly as written.
    """

    after_s: float
    text: str


MIN_STEADY_S = 2400.0
"""Faults need this much steady flow to land apart from each other."""


@dataclass(frozen=True)
class _Placer:
    """Seeded choice of where (which meter, which reading) a fault lands."""

    tracks: Sequence[MeterTrack]
    env: Envelope
    rng: np.random.Generator
    iso: Callable[[float], str]

    def at(self, fraction: float) -> int:
        """Reading index at a fraction of the steady flow time (with a little seeded jitter)."""
        dt = float(self.tracks[0].t_s[1] - self.tracks[0].t_s[0])
        return round(_steady_time(self.env, fraction + float(self.rng.uniform(-0.03, 0.03))) / dt)

    def steps(self, seconds: float) -> int:
        """Readings in a span of time."""
        return round(seconds / float(self.tracks[0].t_s[1] - self.tracks[0].t_s[0]))

    def pick(self, tracks: Sequence[MeterTrack] | None = None) -> MeterTrack:
        """A seeded choice among the tracks."""
        among = self.tracks if tracks is None else tracks
        return among[int(self.rng.integers(len(among)))]


def inject(
    faults: frozenset[str],
    tracks: Sequence[MeterTrack],
    env: Envelope,
    rng: np.random.Generator,
    iso: Callable[[float], str],
) -> tuple[dict[str, dict[str, Any]], list[ExtraLine]]:
    """Inject the requested faults into the tracks in place.

    Args:
        faults: Fault kinds to inject.
        tracks: The meters' tracks (modified in place).
        env: The pump envelope (faults are placed in steady flow).
        rng: The seeded generator.
        iso: Formats seconds from the scenario start as the files' timestamp.

    Returns:
        What was injected where (for the truth) and the extra lines for ``bad_lines``.

    Raises:
        ValueError: When faults are asked for a discharge too short to hold them apart.
    """
    if not faults:
        return {}, []
    if sum(b - a for a, b in env.steady_windows_s) < MIN_STEADY_S:
        raise ValueError(f"faults need at least {MIN_STEADY_S / 60:.0f} minutes of steady flow; deliver more")
    place = _Placer(tracks, env, rng, iso)
    record: dict[str, dict[str, Any]] = {}
    extra: list[ExtraLine] = []
    if "gap" in faults:
        record["gap"] = _gap(place)
    if "spike" in faults:
        record.update(_spikes(place))
    if "stuck" in faults:
        record["stuck"] = _stuck(place)
    if "totalizer_reset" in faults:
        record["totalizer_reset"] = _reset(place)
    if "bad_lines" in faults:
        extra = _bad_lines(tracks[0], [place.at(f) for f in (0.10, 0.25, 0.45, 0.70, 0.90)], iso)
        unknown = sum(1 for x in extra if UNKNOWN_METER_ID in x.text)
        record["bad_lines"] = {
            "malformed": len(extra) - unknown,
            "unknown_meter_id": UNKNOWN_METER_ID,
            "unknown_meter_readings": unknown,
        }
    return record, extra


def _gap(place: _Placer) -> dict[str, Any]:
    """A meter silent for a few minutes (its totalizer keeps counting)."""
    track, k0 = place.pick(), place.at(0.15)
    k1 = k0 + place.steps(float(place.rng.uniform(*GAP_S)))
    track.keep[k0:k1] = False
    return {
        "meter_id": track.meter_id,
        "from": place.iso(track.t_s[k0]),
        "to": place.iso(track.t_s[k1 - 1]),
        "missing_readings": k1 - k0,
    }


def _spikes(place: _Placer) -> dict[str, dict[str, Any]]:
    """One impossible flow, and one impossible density on a meter with a densitometer."""
    track, k = place.pick(), place.at(0.30)
    track.flow_m3h[k] *= SPIKE_FLOW_FACTOR
    out: dict[str, dict[str, Any]] = {
        "spike": {
            "meter_id": track.meter_id,
            "at": place.iso(track.t_s[k]),
            "field": "flow_m3h",
            "value": round(float(track.flow_m3h[k]), 2),
        }
    }
    with_density = [t for t in place.tracks if t.has_density]
    if with_density:
        track, k = place.pick(with_density), place.at(0.36)
        track.density_kgm3[k] = SPIKE_DENSITY_KGM3
        out["spike_density"] = {
            "meter_id": track.meter_id,
            "at": place.iso(track.t_s[k]),
            "field": "density_kgm3",
            "value": SPIKE_DENSITY_KGM3,
        }
    return out


def _stuck(place: _Placer) -> dict[str, Any]:
    """A meter's temperature frozen at one value for a while."""
    track, k0 = place.pick(), place.at(0.62)
    k1 = k0 + place.steps(STUCK_S)
    track.temp_c[k0:k1] = track.temp_c[k0]
    return {
        "meter_id": track.meter_id,
        "field": "temp_c",
        "from": place.iso(track.t_s[k0]),
        "to": place.iso(track.t_s[k1 - 1]),
        "value": round(float(track.temp_c[k0]), 2),
    }


def _reset(place: _Placer) -> dict[str, Any]:
    """A meter's volume and mass totalizers restart at 0 once."""
    track, k = place.pick(), place.at(0.80)
    before = int(track.gov_total_milli[k - 1])
    track.gov_total_milli[k:] -= before
    track.mass_total_kg[k:] -= track.mass_total_kg[k - 1]
    return {"meter_id": track.meter_id, "at": place.iso(track.t_s[k]), "index_before_m3": before / 1000.0}


def _steady_time(env: Envelope, fraction: float) -> float:
    """Time at a fraction (0…1) of the steady-flow time, skipping the pause."""
    windows = env.steady_windows_s
    total = sum(b - a for a, b in windows)
    left = min(max(fraction, 0.02), 0.9) * total
    for a, b in windows:
        if left <= b - a:
            return a + left
        left -= b - a
    return windows[-1][1]


def _bad_lines(track: MeterTrack, where: Sequence[int], iso: Callable[[float], str]) -> list[ExtraLine]:
    """Malformed lines, contract violations and readings of an unknown meter."""

    def reading(k: int, **changes: Any) -> dict[str, Any]:
        row = {
            "meter_id": track.meter_id,
            "ts": iso(track.t_s[k]),
            "gov_total_m3": round(float(track.gov_total_milli[k]) / 1000.0, 3),
            "flow_m3h": round(float(track.flow_m3h[k]), 2),
            "temp_c": round(float(track.temp_c[k]), 2),
            "pressure_kpa": round(float(track.pressure_kpa[k]), 1),
            "status": "ok",
        }
        return row | changes

    k0, k1, k2, k3, k4 = where
    truncated = json.dumps(reading(k0))
    missing = reading(k2)
    del missing["gov_total_m3"]
    lines = [
        ExtraLine(track.t_s[k0], truncated[: len(truncated) // 2]),
        ExtraLine(track.t_s[k1], "<html><body>502 Bad Gateway</body></html>"),
        ExtraLine(track.t_s[k1], "[1, 2, 3]"),
        ExtraLine(track.t_s[k2], json.dumps(missing)),
        ExtraLine(track.t_s[k3], json.dumps(reading(k3, flow_m3h="fast", status="maybe"))),
        ExtraLine(track.t_s[k3], json.dumps(reading(k3)).replace('"temp_c": ', '"temp_c": NaN, "x": ', 1)),
    ]
    for k in (k1, k2, k4):
        lines.append(ExtraLine(track.t_s[k], json.dumps(reading(k, meter_id=UNKNOWN_METER_ID))))
    return sorted(lines, key=lambda x: x.after_s)
