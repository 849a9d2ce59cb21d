"""docs/auditing.md cannot drift: every SQL block in it runs on the warehouse the demo filled and returns rows of
exactly the columns its ``-- returns:`` line documents, and every ``quaywatch`` command in it succeeds.

The doc names the database ``quaywatch``; the queries run against the demo run's own database.
"""

from __future__ import annotations

import contextlib
import io
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from connectors.warehouse.client import connect
from flows.cli import main

pytestmark = pytest.mark.integration
DOC = Path(__file__).resolve().parents[2] / "docs" / "auditing.md"
TEXT = DOC.read_text(encoding="utf-8")
SQL_BLOCKS = re.findall(r"```sql\n(.*?)```", TEXT, re.DOTALL)
COMMANDS = [line.strip() for block in re.findall(r"```sh\n(.*?)```", TEXT, re.DOTALL)
            for line in block.splitlines() if line.strip().startswith("quaywatch ")]


def returns(sql: str) -> list[str]:
    m = re.match(r"-- returns: (.+)\n", sql)
    assert m, f"a cookbook query must start with its '-- returns:' line:\n{sql}"
    return [c.strip() for c in m.group(1).split(",")]


def in_database(sql: str, db: str) -> str:
    return re.sub(r"\bquaywatch\.", f"{db}.", sql).replace("'quaywatch'", f"'{db}'")


def query(client: Any, db: str, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    res = client.query(in_database(sql, db))
    return list(res.column_names), [tuple(r) for r in res.result_rows]


def block(pattern: str) -> str:
    found = [s for s in SQL_BLOCKS if re.search(pattern, s)]
    assert len(found) == 1, pattern
    return found[0]


def test_the_doc_has_the_cookbook():
    assert len(SQL_BLOCKS) >= 10 and COMMANDS == ["quaywatch audit verify"]
    for topic in ("meter_id = 'M-01'", "reconciliations", "decision = 'divert'", "gate_reads", "container_events",
                  "vgm_certificates", "audit_log"):
        assert any(topic in s for s in SQL_BLOCKS), topic


@pytest.mark.parametrize("sql", SQL_BLOCKS, ids=[f"q{i:02d}" for i in range(len(SQL_BLOCKS))])
def test_every_query_returns_rows_of_its_documented_columns(demo_run, sql):
    client = connect(demo_run.dsn)
    columns, rows = query(client, demo_run.database, sql)
    assert columns == returns(sql)
    assert rows, f"no rows:\n{sql}"


def test_an_operation_recomputed_from_its_readings_equals_the_operation(demo_run):
    client, db = connect(demo_run.dsn), demo_run.database
    _cols, rows = query(client, db, block(r"FROM quaywatch\.meter_readings"))
    op_id, n, _first, _last, gov, gsv, mass, min_ctl, max_ctl = rows[0]
    op = client.query(f"SELECT gov_m3, gsv_15c_m3, mass_vacuum_kg, reading_count FROM {db}.meter_operations FINAL "
                      "WHERE operation_id = {o:String}", parameters={"o": op_id}).result_rows[0]
    assert (gov, gsv, mass) == pytest.approx(op[:3], rel=1e-9)
    assert n >= op[3] > 100
    assert 0.95 < min_ctl <= max_ctl < 1.0  # diesel above 15 °C contracts to its standard volume


def test_the_plate_query_finds_the_planted_divert(demo_run):
    client, db = connect(demo_run.dsn), demo_run.database
    cols, rows = query(client, db, block(r"decision = 'divert'"))
    assert [(r[cols.index("decision")], r[cols.index("reasons")]) for r in rows] == [("divert", ["plate_mismatch"])]


def test_a_containers_frames_are_the_passages_frames(demo_run):
    client, db = connect(demo_run.dsn), demo_run.database
    cols, rows = query(client, db, block(r"has\(p\.containers, 'CSQU3585142'\)"))
    passages = client.query(f"SELECT passage_id, frame_keys FROM {db}.gate_passages FINAL "
                            "WHERE has(containers, 'CSQU3585142')").result_rows
    assert {r[cols.index("frame_sha256")] for r in rows} == {k for _p, keys in passages for k in keys}
    assert all(re.fullmatch(r"[0-9a-f]{64}", r[cols.index("frame_sha256")]) for r in rows)


def test_the_certificates_of_the_day_are_gapless_per_instrument(demo_run):
    client, db = connect(demo_run.dsn), demo_run.database
    cols, rows = query(client, db, block(r"FROM quaywatch\.vgm_certificates"))
    by_instrument: dict[str, list[int]] = {}
    for r in rows:
        no = r[cols.index("certificate_no")]
        instrument, year, seq = no.rsplit("-", 2)  # V8: instrument no + year + sequence within the year
        assert year == "2026" and instrument.endswith(r[cols.index("instrument_no")])
        by_instrument.setdefault(instrument, []).append(int(seq))
    assert all(sorted(s) == list(range(1, len(s) + 1)) for s in by_instrument.values())


def test_the_sql_chain_check_passes_on_the_demo_and_finds_an_edited_entry(demo_run):
    client, db = connect(demo_run.dsn), demo_run.database
    sql = block(r"FROM quaywatch\.audit_log")
    cols, rows = query(client, db, sql)
    assert {r[0] for r in rows} == {"config", "containers", "meters", "vgm"}
    for r in rows:
        counts = dict(zip(cols, r, strict=True))
        assert counts["entries"] > 0 and (counts["gaps"], counts["broken_links"], counts["bad_payload_hashes"],
                                          counts["bad_entry_hashes"]) == (0, 0, 0, 0), counts
    # a copy of the log with one payload edited and one entry removed: the query shows both
    scratch = f"audit_{uuid.uuid4().hex[:12]}"
    client.command(f"CREATE DATABASE {scratch}")
    try:
        client.command(f"CREATE TABLE {scratch}.audit_log AS {db}.audit_log")
        client.command(f"INSERT INTO {scratch}.audit_log SELECT * FROM {db}.audit_log FINAL "
                       "WHERE NOT (chain = 'vgm' AND seq = 5)")
        client.command(f"ALTER TABLE {scratch}.audit_log UPDATE payload = replaceOne(payload, '\"vgm_kg\":', "
                       "'\"vgm_kg\":1') WHERE chain = 'vgm' AND seq = 2 SETTINGS mutations_sync = 1")
        cols, rows = query(client, scratch, sql)
        got = {r[0]: dict(zip(cols, r, strict=True)) for r in rows}
        assert (got["vgm"]["gaps"], got["vgm"]["broken_links"], got["vgm"]["bad_payload_hashes"]) == (1, 1, 1)
        assert (got["meters"]["broken_links"], got["meters"]["bad_payload_hashes"]) == (0, 0)
    finally:
        client.command(f"DROP DATABASE IF EXISTS {scratch}")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_succeeds(demo_run, command, monkeypatch):
    monkeypatch.setenv("QUAYWATCH__WAREHOUSE__DATABASE", demo_run.database)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*command.split()[1:], "--warehouse", demo_run.dsn, "--data-dir", str(demo_run.data_dir)])
    assert code == 0, out.getvalue()
    if command == "quaywatch audit verify":
        assert out.getvalue().count("  OK") == 4 and "BROKEN" not in out.getvalue()
