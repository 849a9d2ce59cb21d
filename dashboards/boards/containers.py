"""Containers and port tracking (circular 2017/3): the port now, discharge lists, holds, storage periods, exits.

State panels (containers in the port, holds, exit blocks, storage deadlines) show the latest state whatever the
time range; event panels (port events, discharge reconciliations, port alerts) follow the time range.
"""

from __future__ import annotations

from dashboards.spec import GREEN, ORANGE, RED, YELLOW, Board, Panel

UID = "quaywatch-containers"

#: Containers physically in the port (not yet exited nor loaded on a ship).
IN_PORT = "status NOT IN ('exited', 'loaded', 'unknown')"


def board() -> Board:
    """The containers board."""
    return Board(
        uid=UID,
        title="Containers and port tracking",
        description="Per-container customs state and the gate's may-exit answer, discharge lists against summary "
                    "declarations (G10), inspection holds (A.2.21), temporary-storage deadlines (Customs Law 4458 "
                    "Art. 48), exit blocks (A.5).",
        tags=("quaywatch", "containers", "port"),
        time_from="now-7d",
        panels=(
            Panel("Containers in the port", "stat",
                  "SELECT countIf(" + IN_PORT + ") AS in_port,\n"
                  "       countIf(" + IN_PORT + " AND length(holds) > 0) AS on_hold,\n"
                  "       countIf(" + IN_PORT + " AND NOT may_exit) AS may_not_exit,\n"
                  "       countIf(status = 'in_storage') AS in_temporary_storage\n"
                  "FROM container_state FINAL",
                  ("in_port", "on_hold", "may_not_exit", "in_temporary_storage"), w=10, h=6,
                  name_colors=(("on_hold", ORANGE), ("may_not_exit", RED))),
            Panel("Port events", "timeseries",
                  "SELECT $__timeInterval(ts) AS time, event, count() AS events\n"
                  "FROM container_events FINAL WHERE $__timeFilter(ts)\nGROUP BY time, event ORDER BY time",
                  ("time", "event", "events"), w=14, h=6),
            Panel("Containers by status", "table",
                  "SELECT status, customs_status, count() AS containers,\n"
                  "       countIf(" + IN_PORT + " AND NOT may_exit) AS may_not_exit\n"
                  "FROM container_state FINAL\nGROUP BY status, customs_status ORDER BY containers DESC",
                  ("status", "customs_status", "containers", "may_not_exit"), w=10, h=8),
            Panel("Discharge list vs summary declarations", "table",
                  "SELECT vessel_call_id, summary_declaration_no, bl_no, level, declared, discharged,\n"
                  "       missing_count, surplus_count, missing, surplus,\n"
                  "       if(missing_count + surplus_count = 0, 'agrees', 'DIFFERS') AS result, status\n"
                  "FROM discharge_reconciliation FINAL WHERE $__timeFilter(ts)\n"
                  "ORDER BY missing_count + surplus_count > 0 DESC, vessel_call_id, summary_declaration_no, bl_no",
                  ("vessel_call_id", "summary_declaration_no", "bl_no", "level", "declared", "discharged",
                   "missing_count", "surplus_count", "missing", "surplus", "result", "status"), w=14, h=8,
                  text_colors=(("agrees", GREEN), ("DIFFERS", RED))),
            Panel("Inspection holds", "table",
                  "SELECT container_no, status, customs_status, holds, hold_reason, ts AS since\n"
                  "FROM container_state FINAL\nWHERE length(holds) > 0 AND status NOT IN ('exited', 'loaded')\n"
                  "ORDER BY since",
                  ("container_no", "status", "customs_status", "holds", "hold_reason", "since"), w=12, h=8),
            Panel("Temporary storage deadlines", "table",
                  "SELECT container_no,\n"
                  "       parseDateTime64BestEffortOrNull(JSONExtractString(d, 'entered_at'), 3, 'UTC')"
                  " AS entered_at,\n"
                  "       parseDateTime64BestEffortOrNull(JSONExtractString(d, 'deadline'), 3, 'UTC') AS deadline,\n"
                  "       JSONExtractFloat(d, 'extension_days') AS extension_days,\n"
                  "       if(k = 'storage_overdue', 'OVERDUE', 'ending soon') AS state, alert_status\n"
                  "FROM (SELECT entity_id AS container_no, argMax(details, window_start) AS d,\n"
                  "             argMax(kind, window_start) AS k, argMax(status, window_start) AS alert_status\n"
                  "      FROM alerts FINAL\n"
                  "      WHERE kind IN ('storage_expiry_warning', 'storage_overdue') AND status != 'resolved'\n"
                  "      GROUP BY container_no)\n"
                  "ORDER BY deadline",
                  ("container_no", "entered_at", "deadline", "extension_days", "state", "alert_status"), w=12, h=8,
                  text_colors=(("OVERDUE", RED), ("ending soon", YELLOW))),
            Panel("Exit blocks", "table",
                  "SELECT container_no, status, customs_status, tracking_form_status, declaration_no, exit_codes,\n"
                  "       hold_reason\n"
                  "FROM container_state FINAL\nWHERE " + IN_PORT + " AND NOT may_exit\nORDER BY container_no",
                  ("container_no", "status", "customs_status", "tracking_form_status", "declaration_no",
                   "exit_codes", "hold_reason"), w=24, h=8),
            Panel("Port alerts", "table",
                  "SELECT kind, severity, count() AS alerts, countIf(status = 'open') AS open\n"
                  "FROM alerts FINAL WHERE flow = 'containers' AND $__timeFilter(window_start)\n"
                  "GROUP BY kind, severity ORDER BY open DESC, kind",
                  ("kind", "severity", "alerts", "open"), w=24, h=8),
        ),
    )
