"""The VGM flow end to end on the embedded warehouse: simulated weighbridge + declarations → Bytewax → chDB.

Expected figures come from the simulator's truth (it draws each container's gross mass first and derives
the readings from it) and from the directive's numbering rule, never from the flow's code path.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from connectors.simulate.vgm import VgmScenario, VgmTruth, simulate_vgm
from flows.cli import main
from flows.config import Config, load_config
from flows.run import RunOptions, run_flow
from operators.audit_chain import canonical_json, sha256_hex, verify_entries

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, VgmTruth]:
    out = tmp_path_factory.mktemp("vgm_replay")
    truth = simulate_vgm(load_config(environ={}).vgm, VgmScenario(containers=60), out, seed=11)
    return out, truth


def site(db: str) -> Config:
    cfg = load_config(environ={})
    return replace(cfg, warehouse=replace(cfg.warehouse, database=db, batch_rows=5000))


def q(client, sql):
    return client.query(sql, settings={"final": 1}).result_rows


def certificates(client, db) -> list[dict]:
    res = client.query(f"SELECT * FROM {db}.vgm_certificates ORDER BY certificate_no", settings={"final": 1})
    return [dict(zip(res.column_names, r, strict=True)) for r in res.result_rows]


def test_every_expected_finding_and_no_other(replay, warehouse, chdb_dsn, tmp_path):
    directory, truth = replay
    client, db = warehouse
    run_flow("vgm", site(db), RunOptions(f"file:{directory}", chdb_dsn, tmp_path))

    alerts = q(client, f"SELECT kind, entity_id, status FROM {db}.alerts WHERE flow = 'vgm'")
    assert Counter((k, e) for k, e, _s in alerts) == Counter(tuple(a) for a in truth.alerts)
    resolved = {(k, e) for k, e, s in alerts if s == "resolved"}
    assert resolved == {tuple(a) for a in truth.resolved}
    assert all(s == "open" for k, e, s in alerts if (k, e) not in resolved)
    n_violations = q(client, f"SELECT count() FROM {db}.vgm_violations")[0][0]
    assert n_violations == len(truth.alerts)

    certs = certificates(client, db)
    assert {c["container_number"]: c["vgm_kg"] for c in certs} == truth.certificates
    assert len(certs) == len(truth.certificates)  # one certificate per container, none for the blocked ones
    per_instrument: dict[tuple[str, int], list[int]] = {}
    for c in certs:
        assert c["certificate_no"] == f"{c['instrument_no']}-{c['year']}-{c['seq']:06d}"
        per_instrument.setdefault((c["instrument_no"], c["year"]), []).append(c["seq"])
        assert c["fee"] == 1250.0 * 0.05 and c["unit"] == "kg" and c["max_payload_kg"] > 0
        assert c["signer_name"] and c["authorization_no"] and c["operator_name"]
    for seqs in per_instrument.values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))  # unique and gapless per instrument and year
    assert len(per_instrument) >= 2

    status = {r[0]: (bool(r[1]), r[2]) for r in q(client, f"SELECT container_number, loadable, reason "
                                                          f"FROM {db}.vgm_status")}
    blocked = {c for c, (ok, _r) in status.items() if not ok}
    assert blocked == set(truth.blocked)
    marker = {"payload_exceeded": "Art. 8", "missing_vgm": "Art. 12", "awaiting_pair": "awaiting"}
    for c, cause in truth.blocked.items():
        assert marker[cause] in status[c][1]
    assert all(status[c][0] for c in truth.loadable)

    assert q(client, f"SELECT count() FROM {db}.vgm_weighings")[0][0] == truth.weighings
    dead = q(client, f"SELECT reason FROM {db}.dead_letters WHERE flow = 'vgm'")
    assert len(dead) == truth.dead_letters
    reasons = " | ".join(r[0] for r in dead)
    assert "undecodable JSON" in reasons and "check digit" in reasons and "unknown instrument_id" in reasons


def test_certificates_are_chained_and_a_stored_edit_is_detected(replay, warehouse, chdb_dsn, tmp_path):
    directory, _truth = replay
    client, db = warehouse
    run_flow("vgm", site(db), RunOptions(f"file:{directory}", chdb_dsn, tmp_path))
    res = client.query(f"SELECT chain, seq, ts, entry_type, subject_table, subject_key, payload, payload_sha256, "
                       f"prev_hash, hash FROM {db}.audit_log WHERE chain = 'vgm' ORDER BY seq", settings={"final": 1})
    entries = [dict(zip(res.column_names, r, strict=True)) for r in res.result_rows]
    certs = {c["certificate_no"]: c for c in certificates(client, db)}
    assert len(entries) == len(certs) and verify_entries("vgm", entries) is None
    # the audited payload is exactly the stored row, recomputed from the table's columns
    for e in entries:
        assert e["subject_table"] == "vgm_certificates"
        assert sha256_hex(canonical_json(certs[e["subject_key"]])) == e["payload_sha256"]

    victim = entries[3]["subject_key"]
    client.command(f"ALTER TABLE {db}.vgm_certificates UPDATE vgm_kg = vgm_kg - 500 "
                   f"WHERE certificate_no = '{victim}' SETTINGS mutations_sync = 2")
    after = {c["certificate_no"]: c for c in certificates(client, db)}
    changed = [e["subject_key"] for e in entries
               if sha256_hex(canonical_json(after[e["subject_key"]])) != e["payload_sha256"]]
    assert changed == [victim]


def test_replaying_twice_changes_no_total_and_no_number(replay, warehouse, chdb_dsn, tmp_path):
    directory, _truth = replay
    client, db = warehouse
    totals = (f"SELECT (SELECT count() FROM {db}.vgm_certificates), (SELECT sum(vgm_kg) FROM {db}.vgm_certificates), "
              f"(SELECT sum(fee) FROM {db}.vgm_certificates), (SELECT count() FROM {db}.vgm_weighings), "
              f"(SELECT count() FROM {db}.vgm_status), (SELECT countIf(NOT loadable) FROM {db}.vgm_status), "
              f"(SELECT count() FROM {db}.vgm_violations), (SELECT count() FROM {db}.alerts), "
              f"(SELECT count() FROM {db}.audit_log), (SELECT count() FROM {db}.dead_letters), "
              f"(SELECT count() FROM {db}.vgm_declarations)")
    numbers = f"SELECT certificate_no, container_number, vgm_kg FROM {db}.vgm_certificates ORDER BY certificate_no"
    run_flow("vgm", site(db), RunOptions(f"file:{directory}", chdb_dsn, tmp_path))
    first, first_numbers = q(client, totals), q(client, numbers)
    run_flow("vgm", site(db), RunOptions(f"file:{directory}", chdb_dsn, tmp_path))
    assert q(client, totals) == first and q(client, numbers) == first_numbers
    assert first[0][0] > 50


def _split(src: Path, dst: Path, cut: str) -> None:
    """Copy the replay files keeping only events before ``cut``."""
    dst.mkdir()
    for f in ("vgm.weighings.jsonl", "vgm.declarations.jsonl"):
        lines = src.joinpath(f).read_text().splitlines()
        dst.joinpath(f).write_text("".join(f"{line}\n" for line in lines if _ts(line) < cut))


def _ts(line: str) -> str:
    try:
        return str(json.loads(line)["ts"])
    except (ValueError, KeyError):
        return "9999"


def test_restart_with_recovery_continues_the_numbers(replay, warehouse, chdb_dsn, tmp_path):
    directory, _truth = replay
    client, db = warehouse
    cut = "2026-03-02T06:30:00.000Z"
    live = tmp_path / "live"
    _split(directory, live, cut)
    opts = RunOptions(f"file:{live}", chdb_dsn, tmp_path / "state", recovery=True)
    run_flow("vgm", site(db), opts)
    before = q(client, f"SELECT count() FROM {db}.vgm_certificates")[0][0]
    assert before > 0
    for f in ("vgm.weighings.jsonl", "vgm.declarations.jsonl"):  # the rest of the day arrives
        shutil.copy(directory / f, live / f)
    run_flow("vgm", site(db), opts)  # restart: Bytewax restores the sequences and the chain head
    restarted = q(client, f"SELECT certificate_no, container_number, vgm_kg FROM {db}.vgm_certificates "
                          "ORDER BY certificate_no")

    client.command(f"CREATE DATABASE IF NOT EXISTS {db}_one")
    from connectors.warehouse.migrations import migrate

    migrate(client, f"{db}_one")
    try:
        run_flow("vgm", site(f"{db}_one"), RunOptions(f"file:{directory}", chdb_dsn, tmp_path / "one"))
        once = q(client, f"SELECT certificate_no, container_number, vgm_kg FROM {db}_one.vgm_certificates "
                         "ORDER BY certificate_no")
        chain = q(client, f"SELECT seq, hash FROM {db}.audit_log WHERE chain = 'vgm' ORDER BY seq")
        chain_once = q(client, f"SELECT seq, hash FROM {db}_one.audit_log WHERE chain = 'vgm' ORDER BY seq")
    finally:
        client.command(f"DROP DATABASE IF EXISTS {db}_one")
    assert len(restarted) > before
    assert restarted == once
    assert chain == chain_once


def test_cli_reprint_and_block_list(replay, warehouse, chdb_dsn, tmp_path, capsys, monkeypatch):
    directory, truth = replay
    client, db = warehouse
    run_flow("vgm", site(db), RunOptions(f"file:{directory}", chdb_dsn, tmp_path))
    monkeypatch.setenv("QUAYWATCH__WAREHOUSE__DATABASE", db)
    capsys.readouterr()
    assert main(["vgm", "blocked", "--warehouse", chdb_dsn, "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["container_number"] for r in rows} == set(truth.blocked)

    no, container, vgm_kg = q(client, f"SELECT certificate_no, container_number, vgm_kg FROM {db}.vgm_certificates "
                                      "ORDER BY certificate_no LIMIT 1")[0]
    assert main(["vgm", "certificate", no, "--warehouse", chdb_dsn, "--json"]) == 0
    cert = json.loads(capsys.readouterr().out)
    assert cert["certificate_no"] == no and cert["container_number"] == container and cert["vgm_kg"] == vgm_kg
    assert main(["vgm", "certificate", no, "--warehouse", chdb_dsn]) == 0
    text = capsys.readouterr().out
    assert no in text and container in text and "VERIFIED GROSS MASS" in text
    assert main(["vgm", "certificate", "33-0117-2026-999999", "--warehouse", chdb_dsn]) == 2
    assert "no certificate" in capsys.readouterr().err


def test_cli_monthly_report_counts_certificates_and_fees(replay, warehouse, chdb_dsn, tmp_path, capsys, monkeypatch):
    directory, truth = replay
    _client, db = warehouse
    run_flow("vgm", site(db), RunOptions(f"file:{directory}", chdb_dsn, tmp_path))
    monkeypatch.setenv("QUAYWATCH__WAREHOUSE__DATABASE", db)
    capsys.readouterr()
    assert main(["vgm", "report", "--month", "2026-03", "--warehouse", chdb_dsn, "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sum(r["certificates"] for r in rows) == len(truth.certificates)
    assert sum(r["fees"] for r in rows) == pytest.approx(len(truth.certificates) * 1250.0 * 0.05)
    assert main(["vgm", "report", "--from", "2026-04-01", "--to", "2026-04-30", "--warehouse", chdb_dsn,
                 "--format", "json"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["vgm", "report", "--warehouse", chdb_dsn]) == 2


def test_crash_mid_run_then_resume_from_the_snapshot_gives_the_same_certificates(replay, warehouse, chdb_dsn,
                                                                                 tmp_path):
    """A worker dies after writing some rows (after some epochs were snapshotted, with an epoch in flight);
    resuming from the recovery store re-emits that epoch: same numbers, no duplicates, no gaps."""
    from datetime import timedelta

    import bytewax.operators as op
    from bytewax.recovery import RecoveryConfig, init_db_dir
    from bytewax.testing import run_main

    from connectors.replay import ReplayDirSource
    from connectors.warehouse.sink import WarehouseSink, _WarehousePartition
    from flows import vgm
    from flows.io import FlowIO

    directory, truth = replay
    client, db = warehouse
    cfg = site(db)

    class CrashError(RuntimeError):
        pass

    class CrashingPartition(_WarehousePartition):
        calls = 0

        def write_batch(self, items):
            super().write_batch(items)
            self.flush_all()
            CrashingPartition.calls += 1
            if CrashingPartition.calls == 5:
                raise CrashError("worker killed")

    class CrashingSink(WarehouseSink):
        def build(self, step_id, worker_index, worker_count):
            plain = super().build(step_id, worker_index, worker_count)
            plain.stop_flusher()  # its writer is the crashing partition's now (one flusher per writer)
            return CrashingPartition(plain.writer)

    rec = tmp_path / "recovery"
    rec.mkdir()
    init_db_dir(rec, 1)

    def run(sink) -> None:
        source = ReplayDirSource(directory, vgm.STREAMS, batch_size=25)
        flow = vgm.build_flow(cfg, FlowIO(lambda f: (op.input("replay", f, source), None), sink))
        run_main(flow, epoch_interval=timedelta(0), recovery_config=RecoveryConfig(rec))

    with pytest.raises(Exception, match="error writing output batch"):
        run(CrashingSink(chdb_dsn, db, 5000, 0.0))
    partial = q(client, f"SELECT count() FROM {db}.vgm_certificates")[0][0]
    resume = WarehouseSink(chdb_dsn, db, 5000, 0.0)
    run(resume)
    rewritten = sum(w.inserted_rows.get("vgm_weighings", 0) for w in resume.writers)
    assert 0 < rewritten < truth.weighings  # it resumed from a snapshot, not from the start

    certs = certificates(client, db)
    assert 0 < partial < len(certs)
    assert {c["container_number"]: c["vgm_kg"] for c in certs} == truth.certificates
    per: dict[str, list[int]] = {}
    for c in certs:
        per.setdefault(c["instrument_no"], []).append(c["seq"])
    assert all(sorted(s) == list(range(1, len(s) + 1)) for s in per.values())
    chain = q(client, f"SELECT seq FROM {db}.audit_log WHERE chain = 'vgm' ORDER BY seq")
    assert [r[0] for r in chain] == list(range(1, len(certs) + 1))
