"""The audit log in the warehouse (M4, V8): load a chain's head, write entries, verify chains.

:func:`verify_chain` checks a chain twice: its links (:func:`operators.audit_chain.verify_entries`) and
its agreement with the warehouse. For the latest entry of every audited subject it re-reads the row from
its table (``FINAL``) by its key and recomputes the canonical JSON over exactly the columns the entry
recorded; a row that differs or is missing, and an audited row that has no entry, is a broken link. The
entry's ``ts`` is not part of its hash, so it is checked against what is: the audited row's event time,
or the ``recorded_at`` a log-only record (a configuration) carries in its payload.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.warehouse.sink import WarehouseWriter
from operators.audit_chain import GENESIS, AuditChain, Break, canonical_json, sha256_hex, verify_entries
from operators.audit_subjects import AUDITED, AuditedTable
from operators.rows import Rows

ENTRY_COLUMNS = ("chain", "seq", "ts", "entry_type", "subject_table", "subject_key", "payload", "payload_sha256",
                 "prev_hash", "hash")


@dataclass(frozen=True)
class ChainReport:
    """What ``audit verify`` says about one chain.

    Attributes:
        chain: Chain name.
        entries: Number of entries.
        head: Hash of the last entry (:data:`operators.audit_chain.GENESIS` when empty); an auditor who
            wrote it down earlier can check that the chain still leads to it.
        broken: The first broken link, ``None`` when the chain is intact.
    """

    chain: str
    entries: int
    head: str
    broken: Break | None


def _query(client: Any, sql: str, parameters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    res = client.query(sql, parameters=dict(parameters or {}), settings={"final": 1})
    names = list(res.column_names)
    return [dict(zip(names, row, strict=True)) for row in res.result_rows]


def read_entries(client: Any, database: str, chain: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Entries of one chain in ``seq`` order (the last ``limit`` ones when given)."""
    cols = ", ".join(ENTRY_COLUMNS)
    if limit is None:
        return _query(client, f"SELECT {cols} FROM {database}.audit_log WHERE chain = %(chain)s ORDER BY seq",
                      {"chain": chain})
    rows = _query(client, f"SELECT {cols} FROM {database}.audit_log WHERE chain = %(chain)s "
                          "ORDER BY seq DESC LIMIT %(limit)s", {"chain": chain, "limit": int(limit)})
    return rows[::-1]


def chain_names(client: Any, database: str) -> list[str]:
    """Chains present in the audit log."""
    return [str(r["chain"]) for r in _query(client, f"SELECT DISTINCT chain FROM {database}.audit_log ORDER BY chain")]


def load_chain(client: Any, database: str, chain: str) -> AuditChain:
    """The chain as the log holds it, so a restarted or replayed writer continues it.

    Args:
        client: A clickhouse-connect client.
        database: Database holding ``audit_log``.
        chain: Chain name.

    Returns:
        The chain's head, sequence number and every subject's payload hashes.
    """
    state = AuditChain(chain)
    for e in _query(client, f"SELECT seq, hash, subject_table, subject_key, payload_sha256 FROM {database}.audit_log "
                            "WHERE chain = %(chain)s ORDER BY seq", {"chain": chain}):
        state.remember(int(e["seq"]), str(e["hash"]), f"{e['subject_table']}/{e['subject_key']}",
                       str(e["payload_sha256"]))
    return state


def write_entries(client: Any, database: str, entries: Iterable[Mapping[str, Any]]) -> int:
    """Insert audit entries (rows returned by :meth:`AuditChain.append`) outside a dataflow."""
    recs = list(entries)
    if recs:
        writer = WarehouseWriter(client, database)
        writer.add(Rows.from_dicts("audit_log", recs))
        writer.flush_all()
    return len(recs)


def verify_chain(client: Any, database: str, chain: str,
                 registry: Mapping[str, AuditedTable] | None = None) -> ChainReport:
    """Verify one chain's links and its agreement with the audited tables.

    Args:
        client: A clickhouse-connect client.
        database: Database holding ``audit_log`` and the audited tables.
        chain: Chain name.
        registry: Audited tables (default: :data:`operators.audit_subjects.AUDITED`).

    Returns:
        Entry count, head hash and the first broken link (lowest ``seq``) if any. An audited row that has
        no entry is reported at ``seq`` = head + 1, where its entry is missing.
    """
    reg = AUDITED if registry is None else registry
    entries = read_entries(client, database, chain)
    head = str(entries[-1]["hash"]) if entries else GENESIS
    head_seq = int(entries[-1]["seq"]) if entries else 0
    breaks: list[tuple[int, int, Break]] = []
    link = verify_entries(chain, entries)
    if link is not None:
        breaks.append((link.seq, 0, link))
    for b in _warehouse_breaks(client, database, chain, entries, head_seq, reg):
        breaks.append((b.seq, 1, b))
    first = min(breaks, key=lambda x: (x[0], x[1]))[2] if breaks else None
    return ChainReport(chain, len(entries), head, first)


def verify_chains(client: Any, database: str, chains: Sequence[str] | None = None,
                  registry: Mapping[str, AuditedTable] | None = None) -> list[ChainReport]:
    """Verify the named chains (default: every chain in the log and every chain of an audited table)."""
    reg = AUDITED if registry is None else registry
    names = list(chains) if chains else sorted(set(chain_names(client, database)) | {t.chain for t in reg.values()})
    return [verify_chain(client, database, name, reg) for name in names]


def verify(client: Any, database: str, chains: Sequence[str] | None = None) -> list[Break]:
    """The first broken link of every chain that does not verify (empty when all are intact)."""
    return [r.broken for r in verify_chains(client, database, chains) if r.broken is not None]


def _warehouse_breaks(client: Any, database: str, chain: str, entries: Sequence[Mapping[str, Any]], head_seq: int,
                      reg: Mapping[str, AuditedTable]) -> list[Break]:
    latest: dict[str, dict[str, Mapping[str, Any]]] = {}
    out: list[Break] = []
    for e in entries:
        if e["subject_table"]:
            latest.setdefault(str(e["subject_table"]), {})[str(e["subject_key"])] = e
        elif not _log_only_time_matches(e):
            out.append(Break(chain, int(e["seq"]), "entry ts differs from the recorded_at in its payload",
                             f"/{e['subject_key']}"))
    tables = sorted(set(latest) | {t.table for t in reg.values() if t.chain == chain})
    for table in tables:
        subjects = latest.get(table, {})
        spec = reg.get(table)
        if spec is None:
            out.extend(Break(chain, int(e["seq"]), f"{table} is not a registered audited table",
                             f"{table}/{key}") for key, e in subjects.items())
            continue
        try:
            rows = {spec.subject_key(r): r for r in _query(client, f"SELECT * FROM {database}.{table}")}
        except Exception as exc:  # a missing table, or one that lost a key column: every entry on it breaks
            if subjects:
                out.extend(Break(chain, int(e["seq"]), f"cannot read {table}: {exc}", f"{table}/{key}")
                           for key, e in subjects.items())
            continue
        for key, e in subjects.items():
            reason = _row_mismatch(e, rows.get(key), spec)
            if reason is not None:
                out.append(Break(chain, int(e["seq"]), reason, f"{table}/{key}"))
        out.extend(Break(chain, head_seq + 1, f"audited {table} row has no entry in the audit log", f"{table}/{key}")
                   for key, row in rows.items() if key not in subjects and spec.applies(row))
    return out


def _log_only_time_matches(entry: Mapping[str, Any]) -> bool:
    try:
        recorded = json.loads(str(entry["payload"]))
    except ValueError:
        return True  # the link check reports a payload that is not the one hashed
    if not isinstance(recorded, dict) or "recorded_at" not in recorded:
        return True
    return bool(canonical_json({"t": entry["ts"]}) == canonical_json({"t": recorded["recorded_at"]}))


def _row_mismatch(entry: Mapping[str, Any], row: Mapping[str, Any] | None, spec: AuditedTable) -> str | None:
    """Why the warehouse row does not match the entry's payload, or ``None`` when it does."""
    table = entry["subject_table"]
    if row is None:
        return f"the audited {table} row is missing from the table"
    try:
        recorded = json.loads(str(entry["payload"]))
    except ValueError:
        return "the entry's payload is not JSON"
    if not isinstance(recorded, dict):
        return "the entry's payload is not a JSON object"
    absent = sorted(set(recorded) - set(row))
    if absent:
        return f"the {table} row has no column {', '.join(absent)}"
    try:
        now = canonical_json({c: row[c] for c in recorded})
    except (ValueError, TypeError) as exc:
        return f"the {table} row cannot be recomputed: {exc}"
    if sha256_hex(now) == entry["payload_sha256"]:
        try:
            same_time = canonical_json({"t": entry["ts"]}) == canonical_json({"t": spec.event_time(row)})
        except (KeyError, ValueError, TypeError):
            same_time = False
        return None if same_time else f"entry ts differs from the event time of the audited {table} row"
    current = json.loads(now)
    changed = sorted(c for c in recorded if recorded[c] != current[c])
    return f"the {table} row differs from its audited payload in {', '.join(changed) or 'its encoding'}"
