"""The meter measurement report of one transfer operation (M3: communiqué Art. 4(10) and 9(4)).

Built from warehouse rows only (``meter_operations``, ``transfers``, ``lab_densities``, ``reconciliations``,
``alerts``, ``meter_readings``), so every number can be reproduced with ``quaywatch sql``. Fields follow
Art. 4(10) a–ğ, then the opening and closing index reports of Art. 9(4), then what API MPMS 21.2 asks of a
quantity transaction record (flow-weighted averages, density and its source, calculation edition, flags).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from operators.reports.fields import NONE_TEXT, ReportField, fmt

Row = Mapping[str, Any]

S_OPERATION = "Operation and meter"
S_DOCS = "Documents (Art. 4(10) a, b, ğ)"
S_TIME = "Time and tanks (Art. 4(10) c, ç, d)"
S_QTY = "Quantities of the operation (Art. 4(10) e, f)"
S_CUM = "Cumulative through the meter (Art. 4(10) g)"
S_INDEX = "Opening and closing index reports (Art. 9(4))"
S_FWA = "Flow-weighted averages and density (API MPMS 21.2)"
S_CALC = "Calculation"
S_RECON = "Reconciliation (M9)"
S_ALERTS = "Alerts"

#: Columns of the readings time series CSV.
SERIES_COLUMNS = ("ts", "flow_m3h", "temp_c", "pressure_kpa", "density_obs_kgm3", "density_15c_kgm3",
                  "density_source", "gov_total_m3", "delta_gov_m3", "delta_gsv_15c_m3", "delta_mass_vacuum_kg",
                  "status")

_RECON_FIELDS = (
    ("status", ""), ("ts", ""), ("meter_gsv_15c_m3", "m3"), ("meter_mass_air_kg", "kg"),
    ("meter_mass_vacuum_kg", "kg"), ("bl_quantity_kg_air", "kg"), ("bl_quantity_m3_15c", "m3"),
    ("diff_bl_kg", "kg"), ("diff_bl_pct", "%"), ("declaration_quantity_kg", "kg"), ("diff_declaration_kg", "kg"),
    ("diff_declaration_pct", "%"), ("ship_delivered_m3_15c", "m3"), ("diff_ship_m3", "m3"), ("diff_ship_pct", "%"),
    ("shore_tank_delta_m3_15c", "m3"), ("diff_tank_m3", "m3"), ("diff_tank_pct", "%"),
    ("tank_tolerance_m3", "m3"), ("tolerance_pct", "%"), ("tolerance_source", ""), ("within_tolerance", ""),
    ("decisive_figure", ""),
)


@dataclass(frozen=True)
class MeterReport:
    """A meter measurement report: its fields and the readings behind its plots.

    Attributes:
        operation_id: The operation.
        title: Report title.
        fields: Every field in report order.
        readings: The operation's meter readings (time series), oldest first.
    """

    operation_id: str
    title: str
    fields: list[ReportField]
    readings: list[Row]


def density_source_label(source: str) -> str:
    """Human name of a ``density_source`` value (``meter``, ``config_default``, ``lab:<source>:<officer>``)."""
    parts = [s for s in source.split(",") if s]
    labels = []
    for s in parts:
        if s == "meter":
            labels.append("meter (densitometer)")
        elif s == "config_default":
            labels.append("default (site configuration)")
        elif s.startswith("lab:"):
            _lab, kind, *officer = s.split(":")
            labels.append(f"officer lab entry ({kind}, officer {':'.join(officer)})")
        else:
            labels.append(s)
    return ", ".join(labels) or "missing"


def meter_density_15c(readings: Sequence[Row]) -> float | None:
    """ρ15 of the readings not using an officer's lab density (Σ mass / Σ GSV), None if there are none."""
    gsv = mass = 0.0
    for r in readings:
        if str(r.get("density_source", "")).startswith("lab:"):
            continue
        d_gsv, d_mass = r.get("delta_gsv_15c_m3"), r.get("delta_mass_vacuum_kg")
        if d_gsv is None or d_mass is None:
            continue
        gsv += float(d_gsv)
        mass += float(d_mass)
    return mass / gsv if gsv > 0 else None


def build_meter_report(
    op: Row,
    transfer: Row | None,
    lab_densities: Sequence[Row],
    reconciliation: Row | None,
    alerts: Sequence[Row],
    reading_sums: Row,
    readings: Sequence[Row],
) -> MeterReport:
    """Assemble the report of one operation from warehouse rows.

    Args:
        op: The ``meter_operations`` row.
        transfer: The transfer's latest ``transfers`` row (documents), if any.
        lab_densities: Officer density entries for the transfer, oldest first.
        reconciliation: The transfer's ``reconciliations`` row, if any.
        alerts: Alerts on the operation or its meter during it.
        reading_sums: Σ of the operation's readings (``readings``, ``gov_m3``, ``gsv_15c_m3``,
            ``mass_vacuum_kg``, ``mass_air_kg``).
        readings: The operation's readings, oldest first.

    Returns:
        The report.
    """
    tr: Row = transfer or {}
    f: list[ReportField] = []

    def add(section: str, name: str, value: Any, unit: str = "") -> None:
        f.append(ReportField(section, name, value, unit))

    add(S_OPERATION, "operation_id", op["operation_id"])
    add(S_OPERATION, "transfer_id", op.get("transfer_id") or None)
    add(S_OPERATION, "direction", op.get("direction") or tr.get("direction") or None)
    add(S_OPERATION, "status", op.get("status"))
    add(S_OPERATION, "meter_id", op["meter_id"])
    add(S_OPERATION, "meter_serial", op.get("meter_serial"))

    add(S_DOCS, "ship_name", op.get("ship_name") or tr.get("ship_name") or None)
    add(S_DOCS, "bl_no", op.get("bl_no") or tr.get("bl_no") or None)
    add(S_DOCS, "bl_date", op.get("bl_date") or tr.get("bl_date") or None)
    bl_kg = op.get("bl_quantity_kg_air")
    add(S_DOCS, "bl_quantity_kg_air_15c", bl_kg if bl_kg is not None else tr.get("bl_quantity_kg_air"), "kg")
    add(S_DOCS, "bl_quantity_m3_15c", tr.get("bl_quantity_m3_15c"), "m3")
    add(S_DOCS, "summary_declaration_no", op.get("summary_declaration_no") or tr.get("summary_declaration_no")
        or None)
    add(S_DOCS, "summary_declaration_date", op.get("summary_declaration_date")
        or tr.get("summary_declaration_date") or None)
    add(S_DOCS, "declaration_no", op.get("declaration_no") or tr.get("declaration_no") or None)
    add(S_DOCS, "declaration_date", op.get("declaration_date") or tr.get("declaration_date") or None)
    add(S_DOCS, "declaration_quantity_kg", tr.get("declaration_quantity_kg"), "kg")

    add(S_TIME, "started_at", op.get("started_at"))
    add(S_TIME, "ended_at", op.get("ended_at"))
    add(S_TIME, "tank_ids", list(tr.get("tank_ids") or []) or None)
    add(S_TIME, "product", op.get("product") or tr.get("product") or None)
    add(S_TIME, "product_group", op.get("product_group") or None)

    add(S_QTY, "total_gov_m3", op.get("gov_m3"), "m3")
    add(S_QTY, "total_mass_vacuum_kg", op.get("mass_vacuum_kg"), "kg")
    add(S_QTY, "net_gsv_15c_m3", op.get("gsv_15c_m3"), "m3")
    add(S_QTY, "net_mass_air_kg", op.get("mass_air_kg"), "kg")
    add(S_QTY, "net_gsv_15c_l", None if op.get("gsv_15c_m3") is None else round(float(op["gsv_15c_m3"]) * 1000), "L")

    add(S_CUM, "cumulative_gov_m3", op.get("cumulative_gov_m3"), "m3")
    add(S_CUM, "cumulative_mass_vacuum_kg", op.get("cumulative_mass_vacuum_kg"), "kg")
    add(S_CUM, "cumulative_gsv_15c_m3", op.get("cumulative_gsv_15c_m3"), "m3")
    add(S_CUM, "cumulative_mass_air_kg", op.get("cumulative_mass_air_kg"), "kg")

    add(S_INDEX, "opening_index_m3", op.get("opening_index_m3"), "m3")
    add(S_INDEX, "opening_index_time", op.get("started_at"))
    add(S_INDEX, "closing_index_m3", op.get("closing_index_m3"), "m3")
    add(S_INDEX, "closing_index_time", op.get("ended_at"))
    opening, closing = op.get("opening_index_m3"), op.get("closing_index_m3")
    add(S_INDEX, "index_difference_m3",
        None if opening is None or closing is None else float(closing) - float(opening), "m3")

    add(S_FWA, "avg_temp_c", op.get("avg_temp_c"), "degC")
    add(S_FWA, "avg_pressure_kpa", op.get("avg_pressure_kpa"), "kPa")
    add(S_FWA, "avg_density_obs_kgm3", op.get("avg_density_obs_kgm3"), "kg/m3")
    add(S_FWA, "density_15c_kgm3", op.get("density_15c_kgm3"), "kg/m3")
    add(S_FWA, "density_15c_source", density_source_label(str(op.get("density_source") or "")))
    _lab_fields(add, op, lab_densities, readings)

    add(S_CALC, "edition", op.get("edition") or None)
    add(S_CALC, "method", "Σ of per-interval ΔGOV·CTL·CPL (API MPMS 12.2/21.2); mass in air = GSV·(ρ15 − 1.1)")
    add(S_CALC, "flags", list(op.get("flags") or []) or NONE_TEXT)
    add(S_CALC, "reading_count", op.get("reading_count"))
    add(S_CALC, "flow_integrated_gov_m3", op.get("flow_integrated_gov_m3"), "m3")
    add(S_CALC, "readings_sum_gov_m3", reading_sums.get("gov_m3"), "m3")
    add(S_CALC, "readings_sum_gsv_15c_m3", reading_sums.get("gsv_15c_m3"), "m3")
    add(S_CALC, "readings_sum_mass_air_kg", reading_sums.get("mass_air_kg"), "kg")

    if reconciliation is None:
        add(S_RECON, "reconciliation", NONE_TEXT)
    else:
        for name, unit in _RECON_FIELDS:
            add(S_RECON, f"reconciliation_{name}", reconciliation.get(name), unit)

    if not alerts:
        add(S_ALERTS, "alerts", NONE_TEXT)
    for i, a in enumerate(alerts, start=1):
        add(S_ALERTS, f"alert_{i}",
            f"{a.get('kind')} [{a.get('severity')}, {a.get('status')}] {fmt(a.get('window_start'))} – "
            f"{fmt(a.get('window_end'))}: {a.get('message')}")

    title = f"Meter measurement report — {op['operation_id']} ({op['meter_id']})"
    return MeterReport(str(op["operation_id"]), title, f, list(readings))


def _lab_fields(add: Any, op: Row, labs: Sequence[Row], readings: Sequence[Row]) -> None:
    """Officer lab densities: the one applied (latest), who entered it, and the value it replaced."""
    if not labs:
        add(S_FWA, "lab_density", NONE_TEXT)
        return
    latest = labs[-1]
    applied = str(op.get("density_source") or "").find("lab:") >= 0
    add(S_FWA, "lab_density_15c_kgm3", latest.get("density_15c_kgm3"), "kg/m3")
    add(S_FWA, "lab_density_officer", latest.get("officer_id"))
    add(S_FWA, "lab_density_entered_at", latest.get("ts"))
    add(S_FWA, "lab_density_source", latest.get("source"))
    add(S_FWA, "lab_density_applied", applied)
    if len(labs) > 1:
        prev = labs[-2]
        add(S_FWA, "lab_density_previous_kgm3", prev.get("density_15c_kgm3"), "kg/m3")
        add(S_FWA, "lab_density_previous_by", f"officer {prev.get('officer_id')} at {fmt(prev.get('ts'))}")
    else:
        add(S_FWA, "lab_density_previous_kgm3", meter_density_15c(readings), "kg/m3")
        add(S_FWA, "lab_density_previous_by", "meter / default density of the readings")
    for i, lab in enumerate(labs[:-1], start=1):
        add(S_FWA, f"lab_density_entry_{i}",
            f"{fmt(lab.get('density_15c_kgm3'), 'kg/m3')} kg/m3 by officer {lab.get('officer_id')} at "
            f"{fmt(lab.get('ts'))} ({lab.get('source')})")


def series_rows(readings: Sequence[Row]) -> list[list[str]]:
    """The readings as CSV rows in :data:`SERIES_COLUMNS` order (numbers at full precision)."""
    out = []
    for r in readings:
        row = []
        for c in SERIES_COLUMNS:
            v = r.get(c)
            if isinstance(v, float):
                row.append(repr(v) if math.isfinite(v) else "")
            else:
                row.append(fmt(v))
        out.append(row)
    return out
