"""Reading the containers flow's tables: a container's current state and its event history."""

from __future__ import annotations

from typing import Any

from operators.container_no import normalize


def container_state(client: Any, database: str, number: str) -> dict[str, Any] | None:
    """The latest ``container_state`` row of a container (``None`` when the port never reported it)."""
    r = client.query(f"SELECT * FROM {database}.container_state WHERE container_no = %(n)s",
                     parameters={"n": normalize(number)}, settings={"final": 1})
    if not r.result_rows:
        return None
    return dict(zip(r.column_names, r.result_rows[0], strict=True))


def container_history(client: Any, database: str, number: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Every recorded event of a container, in event-time order: ``(column names, rows)``."""
    r = client.query(f"SELECT ts, event, stream, vessel_call_id, summary_declaration_no, bl_no, declaration_no, "
                     f"event_id, source_position FROM {database}.container_events WHERE container_no = %(n)s "
                     "ORDER BY ts, event_id", parameters={"n": normalize(number)}, settings={"final": 1})
    return list(r.column_names), [tuple(row) for row in r.result_rows]


def container_alerts(client: Any, database: str, number: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The alerts about a container (latest revision of each)."""
    r = client.query(f"SELECT ts, kind, severity, status, message FROM {database}.alerts "
                     "WHERE entity_type = 'container' AND entity_id = %(n)s ORDER BY ts",
                     parameters={"n": normalize(number)}, settings={"final": 1})
    return list(r.column_names), [tuple(row) for row in r.result_rows]
