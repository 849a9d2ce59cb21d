"""Alert lifecycle in the warehouse: acknowledge or resolve an alert (who, when, why).

A new row with the same ``alert_id`` and a higher revision is inserted; the history of who changed what
stays in the audit trail of the command line's caller, the latest state in ``alerts``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.warehouse.client import WarehouseError
from operators.alerts import STATUS_RANK, revision

_COLUMNS = ("alert_id", "ts", "kind", "severity", "entity_type", "entity_id", "window_start", "window_end",
            "message", "details", "flow", "status", "status_ts", "status_by", "status_note", "revision")


def set_alert_status(client: Any, database: str, alert_id: str, status: str, by: str, note: str = "",
                     at: datetime | None = None) -> dict[str, Any]:
    """Move an alert to ``acknowledged`` or ``resolved``.

    Args:
        client: clickhouse-connect client.
        database: Database name.
        alert_id: The alert.
        status: ``acknowledged`` | ``resolved``.
        by: Who (officer id).
        note: Why.
        at: When (default: now, UTC).

    Returns:
        The row written.

    Raises:
        WarehouseError: Unknown alert, unknown status, or a state change backwards (a resolved alert cannot
            be acknowledged).
    """
    if status not in ("acknowledged", "resolved"):
        raise WarehouseError(f"status must be acknowledged or resolved, got {status!r}")
    if not by:
        raise WarehouseError("say who changes the alert (--by)")
    res = client.query(f"SELECT {', '.join(_COLUMNS)} FROM {database}.alerts FINAL WHERE alert_id = %(id)s",
                       parameters={"id": alert_id})
    if not res.result_rows:
        raise WarehouseError(f"no alert {alert_id!r}")
    row = dict(zip(_COLUMNS, res.result_rows[0], strict=True))
    if STATUS_RANK[str(row["status"])] >= STATUS_RANK[status]:
        raise WarehouseError(f"alert {alert_id} is already {row['status']}")
    when = (at or datetime.now(UTC)).astimezone(UTC)
    row.update(status=status, status_ts=when, status_by=by, status_note=note, revision=revision(status, when))
    client.insert(f"{database}.alerts", [[row[c] for c in _COLUMNS]], column_names=list(_COLUMNS))
    return row
