"""Retention on chDB: migration 0013 re-partitions by the TTL column keeping every row, ``quaywatch migrate``
sets the configured TTLs, and a merge removes exactly the rows older than the regulation's period.

Periods (docs/auditing.md, Retention): camera records one year (Customs Regulation Annex 80 III.A(6)), VGM
records three years (VGM directive, software conditions (ğ) and the shipper's duty), meter readings kept.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.warehouse import migrations
from connectors.warehouse.client import connect
from connectors.warehouse.retention import apply_retention, retention_policy
from flows.cli import main

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).replace(microsecond=0)
REPARTITIONED = {"camera_health": "window_start", "camera_state_changes": "ts", "vgm_declarations": "ts",
                 "vgm_certificates": "ts"}


def create_query(client: Any, db: str, table: str) -> str:
    return str(client.query(f"SHOW CREATE TABLE {db}.{table}").result_rows[0][0])


def keys(client: Any, db: str, table: str, column: str) -> set[str]:
    return {r[0] for r in client.query(f"SELECT {column} FROM {db}.{table}").result_rows}


def ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def test_migration_0013_partitions_by_the_ttl_column_and_keeps_every_row(chdb_dsn, monkeypatch):
    client = connect(chdb_dsn)
    db = f"r_{uuid.uuid4().hex[:12]}"
    before = [m for m in migrations.available() if m.version < 13]
    monkeypatch.setattr(migrations, "available", lambda: before)
    migrations.migrate(client, db)  # the schema as deployed before 0013
    for table in REPARTITIONED:
        assert "PARTITION BY" not in create_query(client, db, table)
    client.command(f"INSERT INTO {db}.camera_health (camera_id, window_start) VALUES "
                   "('c1', '2026-01-31 23:59:58'), ('c1', '2026-02-01 00:00:00'), ('c2', '2026-02-01 00:00:00')")
    client.command(f"INSERT INTO {db}.camera_state_changes (camera_id, ts, to_state) VALUES ('c1', '2026-01-05', 'ok')")
    client.command(f"INSERT INTO {db}.vgm_declarations (declaration_id, ts) VALUES ('D1', '2025-12-01'), "
                   "('D2', '2026-02-01')")
    client.command(f"INSERT INTO {db}.vgm_certificates (certificate_no, ts) VALUES ('33-1-2025-000001', "
                   "'2025-12-31 23:00:00'), ('33-1-2026-000001', '2026-01-01 01:00:00')")
    monkeypatch.undo()
    applied = migrations.migrate(client, db)
    try:
        assert [m.version for m in applied] == [13]
        parts = dict(client.query("SELECT name, partition_key FROM system.tables WHERE database = {d:String}",
                                  parameters={"d": db}).result_rows)
        for table, column in REPARTITIONED.items():
            assert parts[table] == f"toYYYYMM({column})", table
        assert client.query(f"SELECT count() FROM {db}.camera_health FINAL").result_rows[0][0] == 3
        assert keys(client, db, "camera_state_changes", "camera_id") == {"c1"}
        assert keys(client, db, "vgm_declarations", "declaration_id") == {"D1", "D2"}
        assert keys(client, db, "vgm_certificates", "certificate_no") == {"33-1-2025-000001", "33-1-2026-000001"}
        months = {r[0] for r in client.query("SELECT DISTINCT partition FROM system.parts WHERE active AND "
                                             "database = {d:String} AND table = 'vgm_certificates'",
                                             parameters={"d": db}).result_rows}
        assert months == {"202512", "202601"}  # one part per month: an expired month drops whole
        assert not {r[0] for r in client.query(f"SHOW TABLES FROM {db}").result_rows if "__0013" in r[0]}
        # a replayed certificate still collapses with its copy (same key, same partition)
        client.command(f"INSERT INTO {db}.vgm_certificates (certificate_no, ts) VALUES ('33-1-2026-000001', "
                       "'2026-01-01 01:00:00')")
        assert client.query(f"SELECT count() FROM {db}.vgm_certificates FINAL").result_rows[0][0] == 2
    finally:
        client.command(f"DROP DATABASE IF EXISTS {db}")


def test_a_row_written_by_a_running_flow_during_the_copy_is_kept(chdb_dsn, monkeypatch):
    client = connect(chdb_dsn)
    db = f"r_{uuid.uuid4().hex[:12]}"
    everything = migrations.available()
    monkeypatch.setattr(migrations, "available", lambda: [m for m in everything if m.version < 13])
    migrations.migrate(client, db)
    client.command(f"INSERT INTO {db}.vgm_certificates (certificate_no, ts) VALUES ('A', '2026-01-01')")
    try:
        steps = next(m for m in everything if m.version == 13).statements(db)
        copy = next(i for i, s in enumerate(steps) if s.startswith(f"INSERT INTO {db}.vgm_certificates__0013"))
        for stmt in steps[: copy + 1]:
            client.command(stmt)
        # the VGM flow issues a certificate after the copy, before the rename
        client.command(f"INSERT INTO {db}.vgm_certificates (certificate_no, ts) VALUES ('B', '2026-01-02')")
        for stmt in steps[copy + 1:]:
            client.command(stmt)
        assert keys(client, db, "vgm_certificates", "certificate_no") == {"A", "B"}
        assert client.query(f"SELECT count() FROM {db}.vgm_certificates FINAL").result_rows[0][0] == 2
        # an interrupted run leaves a table aside: a second run stops with an error instead of undoing the change
        client.command(f"CREATE TABLE {db}.vgm_certificates__0013 AS {db}.vgm_certificates")
        with pytest.raises(Exception, match="already exists"):
            for stmt in steps:
                client.command(stmt)
        assert "toYYYYMM(ts)" in create_query(client, db, "vgm_certificates")
    finally:
        client.command(f"DROP DATABASE IF EXISTS {db}")


def test_ttls_in_the_schema_and_a_merge_removes_only_expired_rows(warehouse):
    client, db = warehouse
    done = apply_retention(client, db, retention_policy({}))  # the regulation defaults
    assert any("vgm_certificates MODIFY TTL toDateTime(ts) + toIntervalYear(3)" in s for s in done)
    assert "TTL toDateTime(ts) + toIntervalYear(3)" in create_query(client, db, "vgm_certificates")
    assert "TTL toDateTime(window_start) + toIntervalYear(1)" in create_query(client, db, "camera_health")
    assert "TTL toDateTime(ts) + toIntervalYear(1)" in create_query(client, db, "gate_reads")
    assert " TTL " not in create_query(client, db, "meter_readings")  # no period in the seeds: kept
    assert " TTL " not in create_query(client, db, "audit_log")  # the chain is never cut
    engine = dict(client.query("SELECT name, engine_full FROM system.tables WHERE database = {d:String}",
                               parameters={"d": db}).result_rows)
    assert "toIntervalYear(3)" in engine["vgm_status"]
    assert apply_retention(client, db, retention_policy({})) == []  # already in force: nothing to alter

    three_years, one_year = timedelta(days=3 * 365), timedelta(days=365)  # + leap days: a margin of 30 days
    client.command(f"INSERT INTO {db}.vgm_certificates (certificate_no, ts) VALUES "
                   f"('old', '{ts(NOW - three_years - timedelta(days=30))}'), "
                   f"('new', '{ts(NOW - three_years + timedelta(days=30))}')")
    client.command(f"INSERT INTO {db}.gate_reads (read_id, gate_id, lane_id, ts) VALUES "
                   f"('old', 'G1', 'L1', '{ts(NOW - one_year - timedelta(days=30))}'), "
                   f"('new', 'G1', 'L1', '{ts(NOW - one_year + timedelta(days=30))}')")
    client.command(f"INSERT INTO {db}.meter_readings (meter_id, ts) VALUES "
                   f"('M-01', '{ts(NOW - timedelta(days=3650))}')")
    for table in ("vgm_certificates", "gate_reads", "meter_readings"):
        client.command(f"OPTIMIZE TABLE {db}.{table} FINAL")
    assert keys(client, db, "vgm_certificates", "certificate_no") == {"new"}
    assert keys(client, db, "gate_reads", "read_id") == {"new"}
    assert keys(client, db, "meter_readings", "meter_id") == {"M-01"}  # ten years old, kept


def test_quaywatch_migrate_applies_the_configured_periods(warehouse, chdb_dsn, monkeypatch, capsys):
    client, db = warehouse
    monkeypatch.setenv("QUAYWATCH__WAREHOUSE__DATABASE", db)
    monkeypatch.setenv("QUAYWATCH__RETENTION__VGM", "5 YEAR")
    monkeypatch.setenv("QUAYWATCH__RETENTION__METERS", "10 YEAR")
    monkeypatch.setenv("QUAYWATCH__RETENTION__CAMERA", "")
    assert main(["migrate", "--warehouse", chdb_dsn]) == 0
    assert "table TTL(s) changed" in capsys.readouterr().out
    assert "TTL toDateTime(ts) + toIntervalYear(5)" in create_query(client, db, "vgm_weighings")
    assert "TTL toDateTime(ts) + toIntervalYear(10)" in create_query(client, db, "tank_readings")
    assert " TTL " not in create_query(client, db, "gate_reads")
    monkeypatch.setenv("QUAYWATCH__RETENTION__VGM", "")  # a period removed again: REMOVE TTL
    assert main(["migrate", "--warehouse", chdb_dsn]) == 0
    assert " TTL " not in create_query(client, db, "vgm_weighings")
