"""The audit step in a Bytewax dataflow: which rows get entries, revisions, replays, unauditable rows."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import bytewax.operators as op
import numpy as np
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, TestingSource, run_main

from flows.audit import audit_step
from operators.audit_chain import AuditChain, verify_entries
from operators.rows import Rows

MS = 1_772_344_800_000  # 2026-03-01T06:00:00Z


def op_row(op_id: str, status: str, gsv: float, revision: int) -> dict:
    return {"operation_id": op_id, "status": status, "gsv_15c_m3": gsv, "flags": ["x"], "revision": revision,
            "ended_at": None}


def lab_row(density: float) -> dict:
    return {"transfer_id": "TR-1", "ts": datetime(2026, 3, 1, 8, tzinfo=UTC), "officer_id": "o-7",
            "density_15c_kgm3": density, "source": "customs_lab", "note": "", "source_position": "lab:1"}


def run(batches: list[Rows], chain: AuditChain) -> list[Rows]:
    flow = Dataflow("audit_test")
    rows = op.input("in", flow, TestingSource(batches))
    out: list[Rows] = []
    op.output("out", audit_step("audit", rows, chain), TestingSink(out))
    run_main(flow)
    return out


def entries(out: list[Rows]) -> list[dict]:
    return [dict(r) for rows in out if rows.table == "audit_log" for r in rows.records]


BATCHES = [
    Rows.from_dicts("meter_operations", [op_row("M-01-A", "open", 100.0, MS)]),
    Rows("meter_readings", columns={"meter_id": np.array(["M-01"]), "gov_total_m3": np.array([1.0])}),
    Rows.from_dicts("meter_operations", [op_row("M-01-A", "closed", 250.0, MS + 60_000),
                                         op_row("M-02-A", "creep", 0.2, MS + 60_000)]),
    Rows.from_dicts("lab_densities", [lab_row(836.1)]),
    # the closed operation recomputed with the officer's density: a new revision
    Rows.from_dicts("meter_operations", [op_row("M-01-A", "closed", 250.5, MS + 120_000)]),
]


def test_closed_operations_lab_densities_and_later_revisions_are_chained():
    got = entries(run(BATCHES, AuditChain("meters")))
    assert [(e["seq"], e["subject_table"], e["subject_key"]) for e in got] == [
        (1, "meter_operations", "M-01-A"),
        (2, "lab_densities", '["TR-1","2026-03-01T08:00:00.000Z","o-7"]'),
        (3, "meter_operations", "M-01-A"),
    ]
    assert [json.loads(e["payload"]).get("gsv_15c_m3") for e in got] == [250, None, 250.5]
    assert got[0]["ts"] == datetime(2026, 3, 1, 6, 1, tzinfo=UTC)  # the revision's event time
    text = got[1]["payload"]
    assert got[1]["payload_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert verify_entries("meters", got) is None


def test_replay_onto_the_chain_it_wrote_appends_nothing_and_the_input_chain_is_not_changed():
    chain = AuditChain("meters")
    first = entries(run(BATCHES, chain))
    assert chain.seq == 0  # the step works on a copy
    loaded = AuditChain("meters")
    for e in first:
        loaded.remember(e["seq"], e["hash"], f"{e['subject_table']}/{e['subject_key']}", e["payload_sha256"])
    assert run(BATCHES, loaded) == []
    more = entries(run([*BATCHES, Rows.from_dicts("lab_densities", [lab_row(837.0)])], loaded))
    assert [(e["seq"], e["prev_hash"]) for e in more] == [(4, first[-1]["hash"])]


def test_unauditable_row_becomes_a_dead_letter():
    out = run([Rows.from_dicts("meter_operations", [op_row("M-01-A", "closed", float("nan"), MS)])],
              AuditChain("meters"))
    assert [r.table for r in out] == ["dead_letters"]
    dead = out[0].records[0]
    assert "cannot audit a meter_operations row" in dead["reason"] and "non-finite" in dead["reason"]
