"""Alerts and reconciliation: open alerts, meter vs B/L vs tanks per transfer, meter drift, calibration."""

from __future__ import annotations

from dashboards.spec import GREEN, RED, YELLOW, Board, Panel, Variable

UID = "quaywatch-alerts-reconciliation"
SEVERITY_COLORS = (("critical", RED), ("warning", YELLOW))


def board() -> Board:
    """The alerts and reconciliation board."""
    return Board(
        uid=UID,
        title="Alerts and reconciliation",
        description="Open alerts of every flow; fuel reconciliation (M9), meter drift and calibration (M6).",
        tags=("quaywatch", "alerts", "meters"),
        time_from="now-7d",
        variables=(
            Variable("flow", "Flow", "SELECT DISTINCT flow FROM alerts ORDER BY flow", multi=True, include_all=True),
        ),
        panels=(
            Panel("Open alerts", "stat",
                  "SELECT countIf(severity = 'critical') AS critical, countIf(severity = 'warning') AS warning\n"
                  "FROM alerts FINAL WHERE status = 'open' AND $__conditionalAll(flow IN ($flow), $flow)",
                  ("critical", "warning"), w=6, h=6,
                  name_colors=(("critical", RED), ("warning", YELLOW))),
            Panel("Open alerts by kind and severity", "table",
                  "SELECT kind, severity, count() AS open, min(window_start) AS oldest, max(window_start) AS newest\n"
                  "FROM alerts FINAL WHERE status = 'open' AND $__conditionalAll(flow IN ($flow), $flow)\n"
                  "GROUP BY kind, severity ORDER BY severity = 'critical' DESC, open DESC, kind",
                  ("kind", "severity", "open", "oldest", "newest"), w=18, h=6, text_colors=SEVERITY_COLORS),
            Panel("Alerts raised", "timeseries",
                  "SELECT $__timeInterval(window_start) AS time, severity, count() AS alerts\n"
                  "FROM alerts FINAL WHERE $__timeFilter(window_start) AND $__conditionalAll(flow IN ($flow), $flow)\n"
                  "GROUP BY time, severity ORDER BY time",
                  ("time", "severity", "alerts"), w=24, h=7),
            Panel("Open and acknowledged alerts", "table",
                  "SELECT window_start AS since, severity, kind, flow, entity_type, entity_id, status, status_by,\n"
                  "       message, alert_id\n"
                  "FROM alerts FINAL WHERE status != 'resolved' AND $__conditionalAll(flow IN ($flow), $flow)\n"
                  "ORDER BY severity = 'critical' DESC, since DESC LIMIT 500",
                  ("since", "severity", "kind", "flow", "entity_type", "entity_id", "status", "status_by",
                   "message", "alert_id"), w=24, h=9, text_colors=SEVERITY_COLORS),
            Panel("Meter vs B/L vs tanks per transfer", "table",
                  "SELECT transfer_id, ship_name, product, status, meter_mass_air_kg, bl_quantity_kg_air,\n"
                  "       diff_bl_pct, meter_gsv_15c_m3, shore_tank_delta_m3_15c, diff_tank_pct,\n"
                  "       ship_delivered_m3_15c, diff_ship_pct, tolerance_pct,\n"
                  "       multiIf(within_tolerance = 1, 'within', within_tolerance = 0, 'OUTSIDE', 'pending')\n"
                  "       AS tolerance,\n"
                  "       decisive_figure, ts AS updated\n"
                  "FROM reconciliations FINAL WHERE $__timeFilter(ts)\nORDER BY ts DESC",
                  ("transfer_id", "ship_name", "product", "status", "meter_mass_air_kg", "bl_quantity_kg_air",
                   "diff_bl_pct", "meter_gsv_15c_m3", "shore_tank_delta_m3_15c", "diff_tank_pct",
                   "ship_delivered_m3_15c", "diff_ship_pct", "tolerance_pct", "tolerance", "decisive_figure",
                   "updated"), w=24, h=9, decimals=3,
                  text_colors=(("OUTSIDE", RED), ("within", GREEN))),
            Panel("Meter drift: meter vs shore tanks per transfer", "timeseries",
                  "SELECT ts AS time, arrayJoin(meter_ids) AS meter, diff_tank_pct\n"
                  "FROM reconciliations FINAL\n"
                  "WHERE status = 'closed' AND diff_tank_pct IS NOT NULL AND $__timeFilter(ts)\nORDER BY time",
                  ("time", "meter", "diff_tank_pct"), w=12, h=8, unit="percent", decimals=3,
                  description="Difference meters − shore tanks at each close; the same sign transfer after "
                              "transfer means drift (meter_drift alert)."),
            Panel("Calibration certificates", "table",
                  "SELECT entity_id AS meter, argMax(JSONExtractString(details, 'certificate'), window_start)"
                  " AS certificate,\n"
                  "       argMax(JSONExtractString(details, 'expires'), window_start) AS expires,\n"
                  "       argMax(JSONExtractString(details, 'state'), window_start) AS state,\n"
                  "       argMax(status, window_start) AS alert_status\n"
                  "FROM alerts FINAL WHERE kind = 'calibration_expiry'\nGROUP BY meter ORDER BY expires",
                  ("meter", "certificate", "expires", "state", "alert_status"), w=12, h=8,
                  text_colors=(("expired", RED), ("expiring", YELLOW)),
                  description="Meters whose certificate expires within the warning period or has expired."),
        ),
    )
