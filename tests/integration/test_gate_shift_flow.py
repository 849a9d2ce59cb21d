"""A simulated gate shift through the gate flow on the embedded warehouse, against what the simulator planted.

The truth is the simulator's plant (``shift_truth.jsonl``: each truck's scenario with the decision issue 5's rules
give for it, and the outage it arranged), never the decision code's output.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import pytest

from connectors.simulate.gate_shift import simulate_shift
from flows.config import load_config
from flows.gate_shift_cli import warehouse_counts
from flows.run import RunOptions, run_flow

pytestmark = pytest.mark.integration


def test_every_shift_passage_gets_the_planted_decision_and_the_counts_add_up(warehouse, chdb_dsn, tmp_path):
    client, db = warehouse
    out = tmp_path / "shift"
    truth = simulate_shift(out)
    with (out / "gate.reads.jsonl").open("a") as fh:  # a read record that breaks the contract
        fh.write(json.dumps({"ts": "2026-03-03T14:00:00.000Z", "gate_id": "G2", "lane_id": "L1",
                             "camera_id": "lpr", "checkpoint": 2, "frame_sha256": "00"}) + "\n")
    cfg = load_config(environ={})
    cfg = replace(cfg, warehouse=replace(cfg.warehouse, database=db))
    run_flow("gate", cfg, RunOptions(f"file:{out}", chdb_dsn, tmp_path))
    final = {"final": 1}
    rows = {r[0]: r[1:] for r in client.query(
        f"SELECT passage_id, decision, reasons, notice_id, degraded, length(evidence_frames) "
        f"FROM {db}.gate_decisions", settings=final).result_rows}
    assert sorted(rows) == sorted(t["passage_id"] for t in truth)
    for t in truth:
        decision, reasons, notice_id, degraded, frames = rows[t["passage_id"]]
        assert (decision, sorted(reasons)) == (t["decision"], t["reasons"]), t
        assert degraded == t["scenario"].startswith("degraded") and frames == 5
        if t["registration"] == "registered":
            assert notice_id == t["notice_id"]
    regs = dict(client.query(f"SELECT passage_id, status FROM {db}.gate_registrations", settings=final).result_rows)
    assert regs == {t["passage_id"]: t["registration"] for t in truth if t["registration"]}

    # the counts the demo prints, against the plant counted here from the truth file
    planted = [json.loads(x) for x in (out / "shift_truth.jsonl").read_text().splitlines()]
    degraded = [t for t in planted if t["scenario"].startswith("degraded")]
    regularised = [t for t in degraded if t["scenario"] == "degraded_regularised"]
    got = warehouse_counts(client, db, [t["passage_id"] for t in planted])
    assert got == {"passages": len(planted), "decisions": dict(Counter(t["decision"] for t in planted)),
                   "reasons": dict(Counter(r for t in planted for r in t["reasons"])), "degraded": len(degraded),
                   "regularised": len(regularised), "awaiting": len(degraded) - len(regularised)}
    assert got["awaiting"] > 0 and got["regularised"] > 0 and got["decisions"]["manual_review"] > 0
    dead = client.query(f"SELECT stream, reason FROM {db}.dead_letters", settings=final).result_rows
    assert dead == [("gate.reads", "read record: frame_sha256 must be 64 lower-case hex digits")]
