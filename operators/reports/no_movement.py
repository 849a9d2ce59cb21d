"""No-movement evidence for a tank and a period (M10, communiqué Art. 9(7)).

The proof rests on the tank's own gauge readings: the standard volume (GSV at 15 °C, so thermal expansion
is not mistaken for movement) stays within the band one gauge reading cannot resolve — ± the gauge
uncertainty in millimetres, converted to volume through the strapping table at the tank's level. The period
is proven only if the gauge reported often enough (no gap longer than the configured maximum). The meters
that could feed the tank (totalizer index at both ends) and the operations overlapping the period are listed
as corroborating evidence; they do not decide, because a meter may feed another tank of the same transfer.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from operators.reports.fields import NONE_TEXT, ReportField
from operators.strapping import StrappingTable

Row = Mapping[str, Any]
NO_MOVEMENT, MOVEMENT, INSUFFICIENT = "NO MOVEMENT", "MOVEMENT", "INSUFFICIENT DATA"
SECTION = "No-movement evidence (M10)"


@dataclass(frozen=True)
class NoMovementReport:
    """The evidence and the verdict.

    Attributes:
        tank_id: The tank.
        verdict: :data:`NO_MOVEMENT`, :data:`MOVEMENT` or :data:`INSUFFICIENT`.
        reason: One sentence saying why.
        fields: The evidence, in report order.
    """

    tank_id: str
    verdict: str
    reason: str
    fields: list[ReportField]


def gauge_band_m3(level_mm: float, uncertainty_mm: float, ctl: float, strapping: StrappingTable | None,
                  tov_m3: float) -> tuple[float, str]:
    """GSV change a gauge cannot resolve at a level: the volume between ``level ± uncertainty``, × CTL.

    Args:
        level_mm: Tank level the band is evaluated at.
        uncertainty_mm: One reading's uncertainty.
        ctl: Volume correction of the product in the tank (GSV / GOV).
        strapping: The tank's strapping table; without one the band uses the mean cross-section
            ``tov_m3 / level_mm`` (exact for an upright cylinder).
        tov_m3: Total observed volume at ``level_mm`` (for the fallback).

    Returns:
        ``(band_m3, method)``.
    """
    if strapping is not None:
        lo = max(level_mm - uncertainty_mm, float(strapping.level_mm[0]))
        hi = min(level_mm + uncertainty_mm, strapping.max_level_mm)
        vol = strapping.volume_at_level(hi) - strapping.volume_at_level(lo)
        return vol * ctl, f"strapping table volume between {lo:.1f} and {hi:.1f} mm × CTL {ctl:.5f}"
    per_mm = tov_m3 / level_mm if level_mm > 0 else 0.0
    return 2 * uncertainty_mm * per_mm * ctl, f"2 × {uncertainty_mm} mm × mean cross-section {per_mm:.4f} m3/mm × CTL"


def assess(
    tank_id: str,
    start: datetime,
    end: datetime,
    baseline: Row | None,
    readings: Sequence[Row],
    uncertainty_mm: float,
    max_gap_s: float,
    strapping: StrappingTable | None,
    meter_index: Mapping[str, tuple[Row | None, Row | None]],
    operations: Sequence[Row],
    meters_basis: str = "",
) -> NoMovementReport:
    """Decide whether the tank moved in ``(start, end]`` and list the evidence.

    Args:
        tank_id: The tank.
        start: Period start.
        end: Period end.
        baseline: The last gauge reading at or before ``start`` (None when there is none).
        readings: Gauge readings with ``start < ts <= end``, oldest first.
        uncertainty_mm: Gauge uncertainty of one reading.
        max_gap_s: Longest gap between readings (and from the last one to ``end``) that still proves.
        strapping: The tank's strapping table, if configured.
        meter_index: meter_id → (index row at ``start``, index row at ``end``), rows with ``index_m3``.
        operations: Operations of those meters overlapping the period.
        meters_basis: Why these meters are listed (shown in the report).

    Returns:
        The report.
    """
    points = ([baseline] if baseline is not None else []) + list(readings)
    f: list[ReportField] = []

    def add(name: str, value: Any, unit: str = "") -> None:
        f.append(ReportField(SECTION, name, value, unit))

    add("tank_id", tank_id)
    add("period_start", start)
    add("period_end", end)
    add("gauge_readings", len(readings))
    add("baseline_reading_at", None if baseline is None else baseline["ts"])
    if not points:
        add("verdict", INSUFFICIENT)
        return NoMovementReport(tank_id, INSUFFICIENT, "no gauge reading at or before the period end", f)

    times = [p["ts"] for p in points]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    gaps.append((end - times[-1]).total_seconds())
    if baseline is None:
        gaps.append((times[0] - start).total_seconds())
    largest_gap = max(gaps)
    levels = [float(p["level_mm"]) for p in points]
    gsv = [float(p["gsv_15c_m3"]) for p in points]
    gsv_range = max(gsv) - min(gsv)
    last = points[-1]
    mid_level = (max(levels) + min(levels)) / 2
    ctl = float(last["gsv_15c_m3"]) / float(last["gov_m3"]) if float(last["gov_m3"]) > 0 else 1.0
    tov_at = float(last.get("tov_m3") or last["gov_m3"])
    band, method = gauge_band_m3(mid_level, uncertainty_mm, ctl, strapping, tov_at)
    moving_states = sum(1 for r in readings if r.get("state") in ("receiving", "delivering"))

    add("largest_gap_s", largest_gap, "s")
    add("max_gap_allowed_s", max_gap_s, "s")
    add("level_min_mm", min(levels), "mm")
    add("level_max_mm", max(levels), "mm")
    add("gsv_15c_min_m3", min(gsv), "m3")
    add("gsv_15c_max_m3", max(gsv), "m3")
    add("gsv_15c_range_m3", gsv_range, "m3")
    add("gsv_15c_net_change_m3", gsv[-1] - gsv[0], "m3")
    add("gauge_uncertainty_mm", uncertainty_mm, "mm")
    add("no_movement_threshold_m3", band, "m3")
    add("threshold_method", method)
    add("readings_classified_moving", moving_states)
    add("meters_basis", meters_basis or None)
    if not meter_index:
        add("meters", NONE_TEXT)
    for meter_id, (i0, i1) in sorted(meter_index.items()):
        v0 = None if i0 is None else float(i0["index_m3"])
        v1 = None if i1 is None else float(i1["index_m3"])
        add(f"meter_{meter_id}_index_start_m3", v0, "m3")
        add(f"meter_{meter_id}_index_end_m3", v1, "m3")
        add(f"meter_{meter_id}_unchanged", None if v0 is None or v1 is None else v0 == v1)
    add("operations_overlapping", [str(o["operation_id"]) for o in operations] or NONE_TEXT)

    if gsv_range > band:
        verdict = MOVEMENT
        reason = f"GSV at 15 °C varied by {gsv_range:.3f} m3, more than the gauge band of {band:.3f} m3"
    elif largest_gap > max_gap_s:
        verdict = INSUFFICIENT
        reason = f"a gap of {largest_gap:.0f} s without gauge readings exceeds the allowed {max_gap_s:.0f} s"
    else:
        verdict = NO_MOVEMENT
        reason = (f"GSV at 15 °C stayed within {gsv_range:.3f} m3 (gauge band {band:.3f} m3) over "
                  f"{len(readings)} readings, largest gap {largest_gap:.0f} s")
    add("verdict", verdict)
    add("reason", reason)
    return NoMovementReport(tank_id, verdict, reason, f)
