"""Retention of warehouse records: one TTL per record kind, set from the site configuration (``[retention]``).

The periods come from the regulations in ``shared/seeds`` (see ``docs/auditing.md``, *Retention*):

- ``camera`` — camera records (per-frame OCR reads with their frame keys, camera health windows and state
  changes): one year from the recording date, Customs Regulation Annex 80 III.A(6) ("kamera kayıtlarının her
  bir kamera için kayıt tarihinden itibaren bir yıl boyunca saklanması"); REQUIREMENTS C2, G4.
- ``vgm`` — weighings, declarations, certificates, violations and the block list: three years, VGM directive
  (software conditions: "son üç yıllık verilerin arşivde saklanabilir olması"; shipper: "en az 3 (üç) yıl
  süreyle"); REQUIREMENTS V8.
- ``meters``, ``gate``, ``containers`` — meter and tank readings, gate passages and decisions, port events: the
  seeds set no period (the circular refers manifests and bills of lading to the document-keeping period of
  Customs Law 4458 Art. 13, which is not among them), so they are kept unless the site sets one.

Operations, transfers, reconciliations, alerts, dead letters, state tables other than the VGM block list and
the hash-chained ``audit_log`` are never expired here: they are the customs file of each operation, and a
chain with entries removed could no longer be verified.

A period is ``N DAY``, ``N MONTH`` or ``N YEAR`` (plural accepted) or empty (keep). TTLs are applied with
``ALTER TABLE … MODIFY TTL`` (or ``REMOVE TTL``) by ``quaywatch migrate``; a table whose TTL already matches is
left alone. ClickHouse applies a TTL at merges; the tables are partitioned by month of the TTL column, so
expired months drop as whole parts (migration 0013 re-partitions the tables that were not).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.warehouse.client import WarehouseError

# record kind -> table -> TTL column (every one a DateTime64(3, 'UTC') column that never changes for a key)
TABLES: Mapping[str, Mapping[str, str]] = {
    "camera": {"gate_reads": "ts", "camera_health": "window_start", "camera_state_changes": "ts"},
    "vgm": {"vgm_weighings": "ts", "vgm_declarations": "ts", "vgm_certificates": "ts", "vgm_violations": "ts",
            "vgm_status": "ts"},
    "meters": {"meter_readings": "ts", "tank_readings": "ts"},
    "gate": {"gate_passages": "started_at", "gate_decisions": "ts", "gate_registrations": "ts"},
    "containers": {"container_events": "ts"},
}
DEFAULTS: Mapping[str, str] = {"camera": "1 YEAR", "vgm": "3 YEAR", "meters": "", "gate": "", "containers": ""}
_PERIOD = re.compile(r"^\s*(\d+)\s*(DAY|MONTH|YEAR)S?\s*$", re.IGNORECASE)
_UNIT = {"DAY": "Day", "MONTH": "Month", "YEAR": "Year"}


@dataclass(frozen=True)
class Period:
    """A retention period: ``count`` units of ``unit`` (``DAY``, ``MONTH``, ``YEAR``)."""

    count: int
    unit: str

    def ttl(self, column: str) -> str:
        """The TTL expression as ClickHouse stores it (``toDateTime(ts) + toIntervalYear(1)``)."""
        return f"toDateTime({column}) + toInterval{_UNIT[self.unit]}({self.count})"


def parse_period(text: str) -> Period | None:
    """``"3 YEAR"`` → ``Period(3, "YEAR")``; empty or ``keep`` → ``None`` (no TTL).

    Raises:
        ValueError: For anything else, or a zero count.
    """
    if not text.strip() or text.strip().lower() == "keep":
        return None
    m = _PERIOD.match(text)
    if not m or int(m.group(1)) < 1:
        raise ValueError(f"retention period {text!r}: expected 'N DAY', 'N MONTH', 'N YEAR' or '' (keep)")
    return Period(int(m.group(1)), m.group(2).upper())


@dataclass(frozen=True)
class RetentionPolicy:
    """The retention period of every record kind (``None`` = kept)."""

    periods: Mapping[str, Period | None]

    def table_ttls(self) -> dict[str, str | None]:
        """Table → TTL expression (``None``: no TTL)."""
        out: dict[str, str | None] = {}
        for kind, tables in TABLES.items():
            period = self.periods.get(kind)
            for table, column in tables.items():
                out[table] = period.ttl(column) if period else None
        return out


def retention_policy(raw: Mapping[str, Any]) -> RetentionPolicy:
    """Build the policy from the ``[retention]`` section (missing kinds take :data:`DEFAULTS`).

    Raises:
        ValueError: For an unknown kind or an invalid period.
    """
    unknown = set(raw) - set(TABLES)
    if unknown:
        raise ValueError(f"[retention]: unknown record kind(s) {sorted(unknown)}; known: {sorted(TABLES)}")
    return RetentionPolicy({kind: parse_period(str(raw.get(kind, DEFAULTS[kind]))) for kind in TABLES})


def current_ttl(create_query: str) -> str | None:
    """The table TTL expression in a ``SHOW CREATE TABLE`` text, if any."""
    m = re.search(r"\sTTL\s(.+?)(?:\sSETTINGS\s|$)", create_query, re.DOTALL)
    return m.group(1).strip() if m else None


def apply_retention(client: Any, database: str, policy: RetentionPolicy) -> list[str]:
    """Set every retained table's TTL to the policy's; returns the statements executed.

    Tables missing from the database (a migration not applied yet) are skipped. A changed TTL is materialized
    on existing parts (ClickHouse's default ``materialize_ttl_after_modify``), so rows already past a shortened
    period are removed by the next merge.

    Raises:
        WarehouseError: When an ALTER fails.
    """
    rows = client.query("SELECT name, create_table_query FROM system.tables WHERE database = {db:String}",
                        parameters={"db": database}).result_rows
    existing = {str(name): str(query) for name, query in rows}
    done = []
    for table, ttl in policy.table_ttls().items():
        if table not in existing or current_ttl(existing[table]) == ttl:
            continue
        stmt = (f"ALTER TABLE {database}.{table} MODIFY TTL {ttl}" if ttl
                else f"ALTER TABLE {database}.{table} REMOVE TTL")
        try:
            client.command(stmt)
        except Exception as exc:
            raise WarehouseError(f"retention of {database}.{table} failed: {exc}") from exc
        done.append(stmt)
    return done
