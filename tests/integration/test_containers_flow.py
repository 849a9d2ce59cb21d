"""The containers flow end to end on the embedded warehouse: simulated vessel calls → Bytewax → chDB.

The expected alerts are the simulator's planted discrepancies (truth.json), written when it plants them,
not derived from the flow's code.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.simulate.containers import simulate_containers
from flows.cli import main
from flows.config import Config, load_config
from flows.run import RunOptions, run_flow

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("port")
    truth = simulate_containers(out, datetime(2026, 3, 1, 6, tzinfo=UTC), seed=3, containers=1500)
    return out, truth


def site(db: str) -> Config:
    cfg = load_config(environ={})
    return replace(cfg, warehouse=replace(cfg.warehouse, database=db, batch_rows=5000))


def q(client, sql):
    return client.query(sql, settings={"final": 1}).result_rows


def totals(client, db):
    return {t: q(client, f"SELECT count() FROM {db}.{t}")[0][0]
            for t in ("container_events", "container_state", "discharge_reconciliation", "alerts", "dead_letters")}


def test_every_planted_discrepancy_is_alerted_and_nothing_else(port, warehouse, chdb_dsn, tmp_path):
    replay, truth = port
    client, db = warehouse
    run_flow("containers", site(db), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))

    rows = q(client, f"SELECT kind, entity_id, status, details FROM {db}.alerts WHERE flow = 'containers'")
    assert all(r[2] == "open" for r in rows)
    got = Counter((r[0], r[1]) for r in rows)
    expected = Counter((a["kind"], a["entity_id"]) for a in truth["expected_alerts"])
    assert got == expected
    # B/L-level findings name the B/L the simulator planted on
    for a in truth["expected_alerts"]:
        if a["kind"] == "discharge_missing" and a["discriminator"]:
            details = [json.loads(r[3]) for r in rows if r[0] == a["kind"] and r[1] == a["entity_id"]]
            assert [d["bl_no"] for d in details] == [a["discriminator"]]
            assert details[0]["missing_count"] == 1

    # the in-port rules (A.6.5, B.3.18, A.4.14, stuffing/stripping) name the event the simulator planted on
    from operators.container_rules import RULE_KINDS
    planted_rules = [a for a in truth["expected_alerts"] if a["kind"] in RULE_KINDS]
    assert len(planted_rules) == 7
    for a in planted_rules:
        (details,) = [json.loads(r[3]) for r in rows if r[0] == a["kind"] and r[1] == a["entity_id"]]
        assert a["discriminator"] in ("", details.get("event_id", details.get("stuffing_event_id")))

    dead = q(client, f"SELECT reason FROM {db}.dead_letters ORDER BY source_position")
    assert len(dead) == truth["dead_letters"] == 3
    assert any("check digit" in r[0] for r in dead) and any("unknown kind" in r[0] for r in dead)

    # one state row per container the port reported; every discharge counted once in the reconciliation
    n_containers = q(client, f"SELECT uniqExact(container_no) FROM {db}.container_events WHERE container_no != ''")
    assert q(client, f"SELECT count() FROM {db}.container_state")[0][0] == n_containers[0][0]
    decl = q(client, f"SELECT sum(discharged), countIf(status != 'complete') FROM {db}.discharge_reconciliation "
                     "WHERE level = 'declaration'")
    assert decl == [(truth["containers_discharged"], 0)]
    # events: every line of the files minus duplicates and dead letters, fanned out per container
    lines = {p.name: [json.loads(x) for x in p.read_text().splitlines() if x.startswith('{"')]
             for p in replay.glob("*.jsonl")}
    def containers_of(o):
        fanned = o.get("container_numbers") if o["event"] != "manifest_line" else None
        return fanned or [o.get("container_no", "")]

    ids = {(o["event_id"], n) for objs in lines.values() for o in objs if "event_id" in o
           if not o["event_id"].startswith("BAD") for n in containers_of(o)}
    assert q(client, f"SELECT count() FROM {db}.container_events")[0][0] == len(ids)


def test_replaying_twice_changes_no_total(port, warehouse, chdb_dsn, tmp_path):
    replay, _truth = port
    client, db = warehouse
    run_flow("containers", site(db), RunOptions(f"file:{replay}", chdb_dsn, tmp_path / "a"))
    first = totals(client, db)
    state = q(client, f"SELECT container_no, status, may_exit, hold_reason FROM {db}.container_state "
                      "ORDER BY container_no")
    run_flow("containers", site(db), RunOptions(f"file:{replay}", chdb_dsn, tmp_path / "b"))
    assert totals(client, db) == first
    assert q(client, f"SELECT container_no, status, may_exit, hold_reason FROM {db}.container_state "
                     "ORDER BY container_no") == state


def test_container_status_command(port, warehouse, chdb_dsn, tmp_path, capsys, monkeypatch):
    replay, truth = port
    _client, db = warehouse
    monkeypatch.setenv("QUAYWATCH__WAREHOUSE__DATABASE", db)
    run_flow("containers", site(db), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    held = next(a["entity_id"] for a in truth["expected_alerts"] if a["kind"] == "storage_overdue")
    assert main(["containers", "status", held, "--warehouse", chdb_dsn]) == 1
    out = capsys.readouterr().out
    assert "in_storage" in out and "may exit: NO" in out and "temporary-storage exit" in out
    assert main(["containers", "history", held, "--warehouse", chdb_dsn]) == 0
    out = capsys.readouterr().out
    assert "discharged" in out and "storage_entry" in out and "storage_overdue" in out


def test_containers_demo_command_finds_what_it_planted(warehouse, chdb_dsn, tmp_path, capsys, monkeypatch):
    _client, db = warehouse
    monkeypatch.setenv("QUAYWATCH__WAREHOUSE__DATABASE", db)
    rc = main(["containers", "demo", "--containers", "300", "--warehouse", chdb_dsn, "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "discharge_missing               2      2" in out and "complete" in out
