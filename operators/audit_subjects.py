"""Which warehouse rows are audited (M4, V8): table → chain, key columns, which rows, entry type and time.

The flow appends an audit entry for every audited row it writes; ``quaywatch audit verify`` re-reads the
same rows from their tables and recomputes the entries' payloads. Both sides use this registry, so they
agree on the subject key, the payload columns and which rows must have an entry. A flow that audits a new
table registers it here (e.g. ``vgm_certificates`` keyed by ``certificate_no`` on the ``vgm`` chain).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from operators.audit_chain import canonical_key
from operators.events import ts_from_ms


@dataclass(frozen=True)
class AuditedTable:
    """How the rows of one table are audited.

    Attributes:
        table: Warehouse table.
        chain: The chain whose writer audits it (one writer per chain).
        key: Columns identifying a row (the table's ``ORDER BY`` key).
        entry_type: ``entry_type`` of its audit entries.
        event_time: Event time of a row, used as the entry's ``ts``.
        audited: Which rows must have an entry (all rows when ``None``).
        exclude: Columns that are not part of the payload (server-side defaults such as ``recorded_at``).
    """

    table: str
    chain: str
    key: tuple[str, ...]
    entry_type: str
    event_time: Callable[[Mapping[str, Any]], datetime]
    audited: Callable[[Mapping[str, Any]], bool] | None = None
    exclude: frozenset[str] = frozenset({"recorded_at"})

    def applies(self, row: Mapping[str, Any]) -> bool:
        """Whether this row must have an audit entry."""
        return self.audited is None or self.audited(row)

    def subject_key(self, row: Mapping[str, Any]) -> str:
        """The row's ``subject_key``: the key value for a one-column text key, else its canonical JSON."""
        values = [row[k] for k in self.key]
        if len(values) == 1 and isinstance(values[0], str):
            return values[0]
        return canonical_key(values)

    def payload(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The audited columns of a row."""
        return {k: v for k, v in row.items() if k not in self.exclude}


def _ts(row: Mapping[str, Any]) -> datetime:
    ts = row["ts"]
    if not isinstance(ts, datetime):
        raise TypeError(f"ts: expected a datetime, got {type(ts).__name__}")
    return ts


def _revision_time(row: Mapping[str, Any]) -> datetime:
    return ts_from_ms(int(row["revision"]))


#: Audited tables by name.
AUDITED: dict[str, AuditedTable] = {
    t.table: t
    for t in (
        # A closed operation is the measurement of record (M3/M4); its revision is the event time in ms of the
        # state it shows, so a later revision (e.g. recomputed with an officer's density) is a new entry.
        AuditedTable("meter_operations", "meters", ("operation_id",), "meter_operation", _revision_time,
                     audited=lambda r: r.get("status") == "closed"),
        AuditedTable("lab_densities", "meters", ("transfer_id", "ts", "officer_id"), "lab_density", _ts),
        AuditedTable("transfers", "meters", ("transfer_id", "ts", "event"), "transfer", _ts),
        # written by the vgm flow's certificate registry (operators/vgm_certificate.py), chain "vgm"
        AuditedTable("vgm_certificates", "vgm", ("certificate_no",), "vgm_certificate", _ts),
        # containers flow, chain "containers": the discharge list against the summary declarations once the
        # vessel's discharge is complete (A.3.3; a re-evaluation by late events is a new revision, a new
        # entry), and every exit from the port (gate out, loaded on a vessel: A.5, B.3). The Kafka position a
        # record was read at is not part of the record (a redelivery is the same exit).
        AuditedTable("discharge_reconciliation", "containers", ("vessel_call_id", "summary_declaration_no", "bl_no"),
                     "discharge_reconciliation", _ts, audited=lambda r: r.get("status") == "complete"),
        AuditedTable("container_events", "containers", ("container_no", "ts", "event_id", "event"),
                     "container_exit", _ts, audited=lambda r: r.get("event") in ("gate_out", "loaded"),
                     exclude=frozenset({"recorded_at", "source_position"})),
    )
}


def register(table: AuditedTable) -> None:
    """Add (or replace) an audited table, for flows that audit their own tables."""
    AUDITED[table.table] = table
