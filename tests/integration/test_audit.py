"""Tamper evidence (M4) on the embedded warehouse: the meters flow chains what it audits, a replay appends
nothing, and an edit made behind the system's back — to an audited row or to the log — is the first broken
link that ``quaywatch audit verify`` reports. Configuration changes are entries of the ``config`` chain.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from connectors.simulate.meters import DischargeScenario, simulate_discharge
from connectors.warehouse.audit import load_chain, read_entries, verify, verify_chain
from connectors.warehouse.sink import WarehouseWriter
from flows.audit import CONFIG_CHAIN, audit_rows
from flows.cli import main
from flows.config import Config, load_config
from flows.run import RunOptions, run_flow
from operators.audit_chain import AuditChain, canonical_json
from operators.audit_subjects import AUDITED
from operators.rows import Rows

pytestmark = pytest.mark.integration

LAB = {"transfer_id": "TR-2026-0001", "ts": "2026-03-01T08:15:00.250+03:00", "officer_id": "officer-7",
       "density_15c_kgm3": 836.1, "source": "customs_lab", "note": "numune 2026/114 — yeniden ölçüm"}


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("replay")
    cfg = load_config(environ={})
    simulate_discharge(cfg, DischargeScenario(start=datetime(2026, 3, 1, 6, 0, tzinfo=UTC), total_gsv_15c_m3=2500.0),
                       out, seed=11)
    (out / "lab.density.jsonl").write_text(json.dumps(LAB, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def site(db: str, **tolerances: Any) -> Config:
    cfg = load_config(environ={})
    return replace(cfg, warehouse=replace(cfg.warehouse, database=db, batch_rows=5000),
                   tolerances={**cfg.tolerances, **tolerances})


def q(client, sql):
    return client.query(sql, settings={"final": 1}).result_rows


def audited_rows_in_tables(client, db) -> int:
    # independent of the code under test: what the issue says is audited, counted in SQL
    return q(client, f"SELECT (SELECT count() FROM {db}.meter_operations WHERE status = 'closed') + "
                     f"(SELECT count() FROM {db}.lab_densities) + (SELECT count() FROM {db}.transfers)")[0][0]


def run(replay: Path, db: str, dsn: str, data_dir: Path, **tolerances: Any) -> None:
    run_flow("meters", site(db, **tolerances), RunOptions(f"file:{replay}", dsn, data_dir))


@pytest.fixture
def audited(replay, warehouse, chdb_dsn, tmp_path):
    client, db = warehouse
    run(replay, db, chdb_dsn, tmp_path)
    return client, db


def entry_of(client, db, table, where) -> tuple[int, str]:
    key = q(client, f"SELECT operation_id FROM {db}.{table} WHERE {where} ORDER BY operation_id LIMIT 1")[0][0]
    seq = q(client, f"SELECT seq FROM {db}.audit_log WHERE chain = 'meters' AND subject_table = '{table}' "
                    f"AND subject_key = '{key}' ORDER BY seq DESC LIMIT 1")[0][0]
    return seq, key


def test_flow_chains_every_audited_row_and_a_replay_appends_nothing(audited, replay, chdb_dsn, tmp_path):
    client, db = audited
    n = audited_rows_in_tables(client, db)
    assert n == 2 + 1 + 2  # two closed operations, one officer density, transfer open and close
    assert q(client, f"SELECT count(), max(seq) FROM {db}.audit_log WHERE chain = 'meters'")[0] == (n, n)
    assert q(client, f"SELECT count() FROM {db}.audit_log WHERE chain = 'config'")[0][0] == 1
    assert verify(client, db) == []

    run(replay, db, chdb_dsn, tmp_path)
    assert q(client, f"SELECT count() FROM {db}.audit_log")[0][0] == n + 1
    assert verify(client, db) == []
    lab = [e for e in read_entries(client, db, "meters") if e["subject_table"] == "lab_densities"]
    assert lab[0]["subject_key"] == '["TR-2026-0001","2026-03-01T05:15:00.250Z","officer-7"]'
    assert json.loads(lab[0]["payload"])["density_15c_kgm3"] == 836.1


def test_edited_measurement_is_the_first_broken_link(audited):
    client, db = audited
    seq, op_id = entry_of(client, db, "meter_operations", "status = 'closed'")
    cols = [r[0] for r in q(client, f"DESCRIBE TABLE {db}.meter_operations")]
    # a later revision of the operation with 1 m³ less, written straight into the table
    exprs = ", ".join({"gsv_15c_m3": "gsv_15c_m3 - 1", "revision": "revision + 1"}.get(c, c) for c in cols)
    client.command(f"INSERT INTO {db}.meter_operations SELECT {exprs} FROM {db}.meter_operations FINAL "
                   f"WHERE operation_id = '{op_id}'")
    broken = verify(client, db)
    assert [(b.chain, b.seq, b.subject) for b in broken] == [("meters", seq, f"meter_operations/{op_id}")]
    assert "gsv_15c_m3" in broken[0].reason and "revision" in broken[0].reason


def test_altered_lab_density_is_found(audited):
    client, db = audited
    seq = q(client, f"SELECT seq FROM {db}.audit_log WHERE subject_table = 'lab_densities'")[0][0]
    client.command(f"ALTER TABLE {db}.lab_densities UPDATE density_15c_kgm3 = 846.1 WHERE 1 "
                   "SETTINGS mutations_sync = 2")
    report = verify_chain(client, db, "meters")
    assert report.broken is not None and report.broken.seq == seq
    assert "density_15c_kgm3" in report.broken.reason


def test_removed_audited_row_is_found(audited):
    client, db = audited
    seq, op_id = entry_of(client, db, "meter_operations", "status = 'closed'")
    client.command(f"ALTER TABLE {db}.meter_operations DELETE WHERE operation_id = '{op_id}' "
                   "SETTINGS mutations_sync = 2")
    b = verify_chain(client, db, "meters").broken
    assert b is not None and (b.seq, b.subject) == (seq, f"meter_operations/{op_id}") and "missing" in b.reason


def test_closed_operation_without_entry_is_found(audited):
    client, db = audited
    head = q(client, f"SELECT max(seq) FROM {db}.audit_log WHERE chain = 'meters'")[0][0]
    cols = [r[0] for r in q(client, f"DESCRIBE TABLE {db}.meter_operations")]
    exprs = ", ".join("concat(operation_id, '-X')" if c == "operation_id" else c for c in cols)
    client.command(f"INSERT INTO {db}.meter_operations SELECT {exprs} FROM {db}.meter_operations FINAL "
                   "WHERE status = 'closed' LIMIT 1")
    b = verify_chain(client, db, "meters").broken
    assert b is not None and b.seq == head + 1 and b.subject.endswith("-X") and "no entry" in b.reason


def test_edited_log_entry_is_found_at_its_seq(audited):
    client, db = audited
    e = read_entries(client, db, "meters")[2]
    forged = json.loads(e["payload"])
    forged["gsv_15c_m3"] = forged.get("gsv_15c_m3", 0) + 5
    # the row replaces entry 3 (ReplacingMergeTree keeps the last insert of a key)
    w = WarehouseWriter(client, db)
    w.add(Rows.from_dicts("audit_log", [{**e, "payload": canonical_json(forged)}]))
    w.flush_all()
    b = verify_chain(client, db, "meters").broken
    assert b is not None and b.seq == 3 and "SHA-256" in b.reason


def test_deleted_log_entry_is_found(audited):
    client, db = audited
    client.command(f"ALTER TABLE {db}.audit_log DELETE WHERE chain = 'meters' AND seq = 2 SETTINGS mutations_sync = 2")
    b = verify_chain(client, db, "meters").broken
    assert b is not None and b.seq == 2 and "missing" in b.reason
    # the head entry has no successor to miss it: its subject has no entry any more
    client.command(f"ALTER TABLE {db}.audit_log DELETE WHERE chain = 'meters' AND seq > 2 SETTINGS mutations_sync = 2")
    client.command(f"ALTER TABLE {db}.audit_log DELETE WHERE chain = 'meters' AND seq = 1 SETTINGS mutations_sync = 2")
    b = verify_chain(client, db, "meters").broken
    assert b is not None and b.seq == 1 and "no entry" in b.reason


def test_configuration_changes_are_chained(audited, replay, chdb_dsn, tmp_path):
    client, db = audited
    assert len(read_entries(client, db, CONFIG_CHAIN)) == 1
    # a tolerance change, made as an operator would: an environment override
    env = {"QUAYWATCH__TOLERANCES__SYSTEM_MPE_PCT": "0.5", "QUAYWATCH__WAREHOUSE__DATABASE": db}
    run_flow("meters", load_config(environ=env), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    run(replay, db, chdb_dsn, tmp_path, system_mpe_pct=0.5)  # the same configuration again
    entries = read_entries(client, db, CONFIG_CHAIN)
    assert len(entries) == 2
    assert json.loads(entries[1]["payload"])["config"]["tolerances"]["system_mpe_pct"] == 0.5

    # another strapping table for T-101: one millimetre more volume on one line
    cfg = site(db)
    t101 = cfg.tanks[0]
    lines = t101.strapping_table.read_text(encoding="utf-8").splitlines()
    level, vol = lines[10].split(",")
    lines[10] = f"{level},{float(vol) + 0.001:.3f}"
    other = tmp_path / "T-101-recalibrated.csv"
    other.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = replace(cfg, tanks=(replace(t101, strapping_table=other), *cfg.tanks[1:]))
    run_flow("meters", cfg, RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    entries = read_entries(client, db, CONFIG_CHAIN)
    assert len(entries) == 3
    tank = json.loads(entries[2]["payload"])["config"]["tanks"][0]
    assert tank["strapping_table"] == str(other)
    assert tank["strapping_table_sha256"] == hashlib.sha256(other.read_bytes()).hexdigest()
    # going back to the earlier configuration is a change too
    run(replay, db, chdb_dsn, tmp_path)
    assert len(read_entries(client, db, CONFIG_CHAIN)) == 4
    assert verify(client, db) == []


def test_cli_verify_and_log(audited, chdb_dsn, monkeypatch, capsys, tmp_path):
    client, db = audited
    monkeypatch.setenv("QUAYWATCH__WAREHOUSE__DATABASE", db)
    args = ["--warehouse", chdb_dsn, "--data-dir", str(tmp_path)]
    assert main(["audit", "verify", *args]) == 0
    out = capsys.readouterr().out
    head = read_entries(client, db, "meters")[-1]["hash"]
    assert f"meters: 5 entries, head {head}\n  OK" in out and "config: 1 entries" in out

    assert main(["audit", "log", "--chain", "meters", "--limit", "2", *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["4", "5"]

    client.command(f"ALTER TABLE {db}.transfers UPDATE ship_name = 'MT Baska' WHERE 1 SETTINGS mutations_sync = 2")
    assert main(["audit", "verify", "--chain", "meters", *args]) == 1
    out = capsys.readouterr().out
    first = min(e["seq"] for e in read_entries(client, db, "meters") if e["subject_table"] == "transfers")
    assert f"BROKEN at seq {first} (transfers/" in out and "ship_name" in out and "config" not in out


def _value(ch_type: str, i: int) -> Any:
    """A value of a ClickHouse column type chosen to stress the round trip."""
    if ch_type.startswith("Nullable("):
        return None if i % 2 else _value(ch_type[len("Nullable(") : -1], i)
    if ch_type.startswith("LowCardinality("):
        return _value(ch_type[len("LowCardinality(") : -1], i)
    if ch_type.startswith("DateTime"):  # DateTime (seconds) would lose the milliseconds: fails on purpose
        return datetime(2026, 3, 1, 9, 0, 0, 123456 + i, tzinfo=timezone(timedelta(hours=3)))
    if ch_type.startswith("Array("):
        return [_value(ch_type[len("Array(") : -1], i), _value(ch_type[len("Array(") : -1], i + 1)]
    if ch_type == "Float64":
        return [0.1 + 0.2, 835, -0.0, 1e-300, 123456789.123456789][i % 5]
    if ch_type.startswith("UInt"):
        return 1_772_344_800_123 + i if ch_type == "UInt64" else 7 + i
    if ch_type.startswith("Int"):
        return -5 - i
    if ch_type.startswith("Float"):  # Float32 would not round-trip a Python float: fails here on purpose
        return 0.1 * (i + 1)
    if ch_type == "Bool":
        return bool(i % 2)
    if ch_type.startswith("Date"):
        return date(2026, 3, 1 + i % 28)
    assert ch_type == "String", f"add a test value for {ch_type}"
    return f"x|\"ğ\\ {i}"


#: Values that make a row of these tables one that must be audited.
AUDITED_AS = {"discharge_reconciliation": {"status": "complete"}, "container_events": {"event": "gate_out"}}


@pytest.mark.parametrize("table", sorted(AUDITED))
def test_payload_round_trips_through_the_warehouse(warehouse, table):
    client, db = warehouse
    spec = AUDITED[table]
    types = {r[0]: r[1] for r in q(client, f"DESCRIBE TABLE {db}.{table}") if not r[2]}  # no DEFAULT columns
    rows = []
    for i in range(4):
        row = {c: _value(t, i * 7 + k) for k, (c, t) in enumerate(types.items())}
        if "status" in row:
            row["status"] = "closed"
        row.update(AUDITED_AS.get(table, {}))
        rows.append(row)
    batch = Rows.from_dicts(table, rows)
    chain = AuditChain(spec.chain)
    out = audit_rows(chain, batch, AUDITED, "test")
    assert [r.table for r in out] == ["audit_log"] and len(out[0]) == 4
    w = WarehouseWriter(client, db)
    w.add(batch)
    w.add(out[0])
    w.flush_all()
    report = verify_chain(client, db, spec.chain)
    assert (report.entries, report.broken) == (4, None)
    # the chain loaded back from the log recognises every row as audited
    again = load_chain(client, db, spec.chain)
    assert (again.seq, again.head) == (chain.seq, chain.head)
    assert audit_rows(again, batch, AUDITED, "test") == []


def test_recovery_resumes_the_chain_from_its_snapshot(replay, warehouse, chdb_dsn, tmp_path):
    client, db = warehouse
    live = tmp_path / "live"
    shutil.copytree(replay, live)
    opts = RunOptions(f"file:{live}", chdb_dsn, tmp_path, recovery=True)
    run_flow("meters", site(db), opts)
    n = q(client, f"SELECT count() FROM {db}.audit_log WHERE chain = 'meters'")[0][0]
    assert n == audited_rows_in_tables(client, db) > 0
    run_flow("meters", site(db), opts)  # resumes from the snapshot at the end of the input
    assert q(client, f"SELECT count() FROM {db}.audit_log WHERE chain = 'meters'")[0][0] == n
    with (live / "lab.density.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({**LAB, "ts": "2026-03-01T09:00:00Z", "density_15c_kgm3": 836.4}) + "\n")
    run_flow("meters", site(db), opts)  # the new officer entry only
    got = read_entries(client, db, "meters")
    assert len(got) == n + 1 and got[-1]["subject_table"] == "lab_densities"
    assert verify(client, db) == []


@pytest.mark.parametrize("chain", ["meters", "config"])
def test_backdated_entry_is_found(audited, chain):
    client, db = audited
    client.command(f"ALTER TABLE {db}.audit_log UPDATE ts = ts - INTERVAL 1 DAY WHERE chain = '{chain}' AND seq = 1 "
                   "SETTINGS mutations_sync = 2")
    b = verify_chain(client, db, chain).broken
    assert b is not None and b.seq == 1 and "entry ts differs" in b.reason
