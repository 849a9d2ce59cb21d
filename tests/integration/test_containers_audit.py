"""The containers flow's audit chain: the discharge reconciliation at completion and every exit are chained, a
replay appends nothing, and an edited reconciliation or a removed exit is the broken link ``audit verify``
reports."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from connectors.simulate.containers import simulate_containers
from connectors.warehouse.audit import read_entries, verify, verify_chain
from flows.config import load_config
from flows.run import RunOptions, run_flow

pytestmark = pytest.mark.integration


@pytest.fixture
def audited(warehouse, chdb_dsn, tmp_path):
    client, db = warehouse
    cfg = load_config(environ={})
    cfg = replace(cfg, warehouse=replace(cfg.warehouse, database=db))
    replay = tmp_path / "replay"
    truth = simulate_containers(replay, datetime(2026, 3, 1, 6, tzinfo=UTC), seed=11, containers=300)
    run_flow("containers", cfg, RunOptions(f"file:{replay}", chdb_dsn, tmp_path / "a"))
    return client, db, cfg, replay, truth


def q(client, sql):
    return client.query(sql, settings={"final": 1}).result_rows


def test_reconciliations_at_completion_and_exits_are_chained_and_a_replay_appends_nothing(audited, chdb_dsn,
                                                                                          tmp_path):
    client, db, cfg, replay, _truth = audited
    entries = read_entries(client, db, "containers")
    by_type: dict[str, int] = {}
    for e in entries:
        by_type[e["entry_type"]] = by_type.get(e["entry_type"], 0) + 1
    # counted in the tables, independently of the chain: one entry per exit event, at least one per complete
    # reconciliation row (a re-evaluation by a late event is another revision)
    exits = q(client, f"SELECT count() FROM {db}.container_events WHERE event IN ('gate_out', 'loaded')")[0][0]
    complete = q(client, f"SELECT count() FROM {db}.discharge_reconciliation WHERE status = 'complete'")[0][0]
    assert exits > 250 and complete > 5
    assert by_type["container_exit"] == exits and by_type["discharge_reconciliation"] >= complete
    assert verify(client, db) == []
    run_flow("containers", cfg, RunOptions(f"file:{replay}", chdb_dsn, tmp_path / "b"))
    assert len(read_entries(client, db, "containers")) == len(entries) and verify(client, db) == []


def test_an_edited_reconciliation_is_found(audited):
    client, db, *_ = audited
    client.command(f"ALTER TABLE {db}.discharge_reconciliation UPDATE discharged = discharged + 1 "
                   "WHERE missing_count > 0 SETTINGS mutations_sync = 2")
    b = verify_chain(client, db, "containers").broken
    assert b is not None and b.subject.startswith("discharge_reconciliation/") and "differs" in b.reason


def test_a_removed_exit_is_found(audited):
    client, db, *_ = audited
    no = q(client, f"SELECT container_no FROM {db}.container_events WHERE event = 'gate_out' "
                   "ORDER BY container_no LIMIT 1")[0][0]
    client.command(f"ALTER TABLE {db}.container_events DELETE WHERE container_no = '{no}' AND event = 'gate_out' "
                   "SETTINGS mutations_sync = 2")
    b = verify_chain(client, db, "containers").broken
    assert b is not None and b.subject.startswith(f"container_events/[\"{no}\"") and "missing" in b.reason
