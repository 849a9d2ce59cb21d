"""Alerts: what every check of every flow raises (kind, severity, entity, event-time window, evidence).

An alert has a deterministic id — kind, entity and the start of its window (plus a discriminator when one
entity can have several alerts of a kind in one window) — so a replay raises the same alert again rather
than a new one. Its lifecycle (open → acknowledged → resolved) is a sequence of rows in the ``alerts``
table; the latest state wins by :func:`revision`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from operators.events import iso_ms, ms_from_ts

Severity = Literal["info", "warning", "critical"]
Status = Literal["open", "acknowledged", "resolved"]

SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")
STATUS_RANK: Mapping[str, int] = {"open": 0, "acknowledged": 1, "resolved": 2}

#: Fuel kinds (issue 3); other flows add theirs.
FUEL_KINDS = frozenset({
    "bl_tolerance", "tank_mismatch", "meter_drift", "meter_failure", "flow_without_operation",
    "shared_tank_no_opening", "calibration_expiry", "late_data",
})

SYSTEM_ACTOR = "quaywatch"


@dataclass(frozen=True)
class Alert:
    """One alert, in one lifecycle state.

    Attributes:
        kind: What was found (``meter_failure``, ``bl_tolerance`` ...).
        severity: ``info`` | ``warning`` | ``critical``.
        entity_type: ``operation`` | ``transfer`` | ``meter`` | ``tank`` | ``camera`` | ``container`` ...
        entity_id: The operation id for operation-level alerts, the meter or tank id otherwise.
        window_start: Start of the event-time window the finding covers.
        window_end: End of that window (equal to the start for an instant).
        message: One sentence for the operator, saying what to do when there is something to do.
        details: The evidence (JSON-serialisable).
        flow: The flow that raised it.
        status: Lifecycle state.
        status_ts: When the state was entered (event time for the flow's states).
        status_by: Who changed the state (``quaywatch`` for the flow).
        status_note: Free text given with an acknowledgement or resolution.
        discriminator: Distinguishes alerts of one kind, entity and window start (part of the id).
    """

    kind: str
    severity: Severity
    entity_type: str
    entity_id: str
    window_start: datetime
    window_end: datetime
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)
    flow: str = ""
    status: Status = "open"
    status_ts: datetime | None = None
    status_by: str = SYSTEM_ACTOR
    status_note: str = ""
    discriminator: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        if self.status not in STATUS_RANK:
            raise ValueError(f"status must be one of {tuple(STATUS_RANK)}, got {self.status!r}")
        if self.window_end < self.window_start:
            raise ValueError("window_end is before window_start")

    @property
    def alert_id(self) -> str:
        """Deterministic id: the same finding always gets the same id."""
        h = hashlib.blake2b(digest_size=16)
        for part in (self.kind, self.entity_type, self.entity_id, iso_ms(self.window_start), self.discriminator):
            h.update(part.encode())
            h.update(b"\x00")
        return h.hexdigest()

    @property
    def ts(self) -> datetime:
        """When the alert was raised (event time): the end of its window."""
        return self.window_end

    def with_status(self, status: Status, at: datetime, by: str = SYSTEM_ACTOR, note: str = "") -> Alert:
        """The same alert in another lifecycle state."""
        return replace(self, status=status, status_ts=at, status_by=by, status_note=note)


def revision(status: str, at: datetime) -> int:
    """Version of an alert row: later lifecycle states win, then later times.

    Raises:
        ValueError: For an unknown status.
    """
    if status not in STATUS_RANK:
        raise ValueError(f"unknown alert status {status!r}")
    return (STATUS_RANK[status] << 43) + ms_from_ts(at)


def alert_record(a: Alert) -> dict[str, Any]:
    """The ``alerts`` table row of an alert."""
    status_ts = a.status_ts or a.ts
    return {
        "alert_id": a.alert_id, "ts": a.ts, "kind": a.kind, "severity": a.severity, "entity_type": a.entity_type,
        "entity_id": a.entity_id, "window_start": a.window_start, "window_end": a.window_end,
        "message": a.message, "details": json.dumps(dict(a.details), sort_keys=True, ensure_ascii=False,
                                                     default=_json_default),
        "flow": a.flow, "status": a.status, "status_ts": status_ts, "status_by": a.status_by,
        "status_note": a.status_note, "revision": revision(a.status, status_ts),
    }


def alert_message(a: Alert) -> tuple[bytes, bytes]:
    """The ``(key, JSON value)`` message of an alert for the alerts topic (key = entity id)."""
    rec = alert_record(a)
    body = {k: (iso_ms(v) if isinstance(v, datetime) else v) for k, v in rec.items()}
    body["details"] = json.loads(rec["details"])
    return a.entity_id.encode(), json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def _json_default(v: Any) -> Any:
    if isinstance(v, datetime):
        return iso_ms(v)
    if isinstance(v, tuple | set | frozenset):
        return list(v)
    raise TypeError(f"not JSON-serialisable: {type(v).__name__}")
