"""Audit trail wiring (M4): the flow step that chains audited rows, and the configuration entry.

``audit_step`` takes a flow's warehouse row stream and returns the ``audit_log`` rows for the audited
ones (:data:`operators.audit_subjects.AUDITED`). One chain has one writer, so every audited row goes to a
single key whose Bytewax state is the :class:`~operators.audit_chain.AuditChain` (snapshotted for
recovery); its initial state is the chain loaded from the warehouse, so a restarted or replayed flow
continues the chain and appends nothing for rows it already audited.

``audit_config`` appends a ``config`` chain entry when the site configuration's audited content (meters,
tanks with the SHA-256 of their strapping tables, tolerances, detection thresholds) differs from the last
one recorded.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Stream
from bytewax.operators import StatefulLogic

from connectors.warehouse.audit import load_chain, write_entries
from flows.config import Config
from operators.audit_chain import AuditChain, canonical_json
from operators.audit_subjects import AUDITED, AuditedTable
from operators.events import DeadLetter
from operators.rows import Rows

CONFIG_CHAIN = "config"
_KEY = "audit"


def _records(rows: Rows) -> list[Mapping[str, Any]]:
    if rows.records:
        return list(rows.records)
    cols = {k: (v.tolist() if hasattr(v, "tolist") else list(v)) for k, v in rows.columns.items()}
    return [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]


def audit_rows(chain: AuditChain, rows: Rows, registry: Mapping[str, AuditedTable], flow: str) -> list[Rows]:
    """Append an entry for every audited row of a batch; returns ``audit_log`` (and ``dead_letters``) rows.

    A row that cannot be audited (a non-finite number, a value JSON cannot hold) is not dropped silently:
    it becomes a dead letter, and ``audit verify`` reports the row as having no entry.
    """
    spec = registry.get(rows.table)
    if spec is None:
        return []
    entries: list[dict[str, Any]] = []
    dead: list[dict[str, Any]] = []
    for rec in _records(rows):
        if not spec.applies(rec):
            continue
        try:
            key = spec.subject_key(rec)
            entry = chain.append(spec.entry_type, spec.table, key, spec.payload(rec), spec.event_time(rec))
        except (ValueError, TypeError, KeyError) as exc:
            d = DeadLetter(flow, f"audit.{spec.table}", f"audit:{spec.table}", f"cannot audit a {spec.table} row: "
                           f"{exc}", json.dumps({k: str(v) for k, v in rec.items()}, ensure_ascii=False))
            dead.append({"dead_letter_id": d.dead_letter_id, "flow": d.flow, "stream": d.stream,
                         "source_position": d.position, "event_ts": d.event_ts, "reason": d.reason, "raw": d.raw})
            continue
        if entry is not None:
            entries.append(entry)
    out = [Rows.from_dicts("audit_log", entries)] if entries else []
    return out + ([Rows.from_dicts("dead_letters", dead)] if dead else [])


class _AuditLogic(StatefulLogic[Rows, Rows, AuditChain]):
    """Bytewax glue: the chain is the state of the step's single key."""

    def __init__(self, chain: AuditChain, registry: Mapping[str, AuditedTable], flow: str) -> None:
        self.chain = chain
        self.registry = registry
        self.flow = flow

    def on_item(self, value: Rows) -> tuple[Iterable[Rows], bool]:
        return audit_rows(self.chain, value, self.registry, self.flow), StatefulLogic.RETAIN

    def snapshot(self) -> AuditChain:
        return copy.deepcopy(self.chain)


def audit_step(step_id: str, rows: Stream[Rows], chain: AuditChain | Callable[[], AuditChain],
               registry: Mapping[str, AuditedTable] | None = None, flow: str = "") -> Stream[Rows]:
    """The ``audit_log`` rows of a flow's warehouse rows.

    Args:
        step_id: Step id.
        rows: The rows the flow writes to the warehouse.
        chain: The chain to continue (from :func:`connectors.warehouse.audit.load_chain`; a fresh
            ``AuditChain(name)`` for an empty log), or a function returning it. It is copied, never changed.
        registry: Audited tables (default: :data:`operators.audit_subjects.AUDITED`); only the tables of
            this chain are audited here.
        flow: Flow name on dead letters (default: the chain name).

    Returns:
        ``audit_log`` rows (and ``dead_letters`` rows for rows that cannot be audited), to merge into the
        rows sent to the warehouse sink.
    """
    reg = AUDITED if registry is None else registry

    start = chain() if callable(chain) else chain
    name = start.chain
    mine = {t: spec for t, spec in reg.items() if spec.chain == name}
    audited = op.filter(f"{step_id}_audited", rows, lambda r: r.table in mine)
    keyed = op.key_on(f"{step_id}_key", audited, lambda _r: _KEY)
    def build(resume: AuditChain | None) -> _AuditLogic:
        return _AuditLogic(resume if resume is not None else copy.deepcopy(start), mine, flow or name)

    out = op.stateful(f"{step_id}_chain", keyed, build)
    return op.key_rm(f"{step_id}_rows", out)


def config_payload(cfg: Config) -> dict[str, Any]:
    """The audited content of a site configuration.

    Meters (serials, accuracy classes, calibration certificates and expiry, density defaults), tanks
    (strapping table path and the SHA-256 of its file, reference height, capacity, density), tolerances,
    operation-detection and tank-state thresholds and the VCF input rounding.

    Raises:
        OSError: When a strapping table cannot be read.
    """
    return {
        "site": cfg.site,
        "meters": [dataclasses.asdict(m) for m in cfg.meters],
        "tanks": [
            {**{k: v for k, v in dataclasses.asdict(t).items() if k != "strapping_table"},
             "strapping_table": str(t.strapping_table),
             "strapping_table_sha256": hashlib.sha256(t.strapping_table.read_bytes()).hexdigest()}
            for t in cfg.tanks
        ],
        "tolerances": dict(cfg.tolerances),
        "operations": dataclasses.asdict(cfg.operations),
        "tank_state": dataclasses.asdict(cfg.tank_state),
        "checks": dataclasses.asdict(cfg.checks),
        "vcf_round_inputs": cfg.vcf_round_inputs,
    }


def audit_config(client: Any, database: str, cfg: Config, now: datetime | None = None) -> dict[str, Any] | None:
    """Append a ``config`` chain entry when the configuration differs from the last one recorded.

    The entry's time (wall-clock UTC: a configuration change is a real-world event) is part of its payload
    (``recorded_at``), so it is covered by the chain's hashes too.

    Args:
        client: A clickhouse-connect client (migrated database).
        database: Database holding ``audit_log``.
        cfg: The configuration the process runs with.
        now: Time of the entry (default: now).

    Returns:
        The written ``audit_log`` row, or ``None`` when the configuration did not change.
    """
    chain = load_chain(client, database, CONFIG_CHAIN)
    content = config_payload(cfg)
    subject = f"/{cfg.site}"
    last = _last_config(client, database, chain, subject)
    if last is not None and canonical_json(last) == canonical_json(content):
        return None
    ts = now or datetime.now(UTC)
    entry = chain.append("config", "", cfg.site, {"config": content, "recorded_at": ts}, ts, skip_seen=False)
    if entry is not None:
        write_entries(client, database, [entry])
    return entry


def _last_config(client: Any, database: str, chain: AuditChain, subject: str) -> Any:
    if subject not in chain.subjects:
        return None
    res = client.query(f"SELECT payload FROM {database}.audit_log WHERE chain = %(chain)s AND subject_table = '' "
                       "AND subject_key = %(key)s ORDER BY seq DESC LIMIT 1",
                       parameters={"chain": CONFIG_CHAIN, "key": subject[1:]}, settings={"final": 1})
    if not res.result_rows:
        return None
    return json.loads(str(res.result_rows[0][0])).get("config")
