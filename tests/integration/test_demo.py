"""The README's first command: `quaywatch demo` runs every demo flow on the embedded default and says so."""

from __future__ import annotations

import re

import pytest

from flows.cli import main

pytestmark = pytest.mark.integration


def test_demo_runs_end_to_end(tmp_path, capsys, warehouse, chdb_dsn, monkeypatch):
    # one chDB path per process: the session's warehouse, in a database of this test's own
    _client, db = warehouse
    monkeypatch.setenv("QUAYWATCH__WAREHOUSE__DATABASE", db)
    assert main(["demo", "--data-dir", str(tmp_path), "--warehouse", chdb_dsn]) == 0
    captured = capsys.readouterr()
    out = captured.out + captured.err
    # fuel: exactly the two planted alerts, the reports written, every audit chain intact
    assert "bl_tolerance" in out and "meter_failure" in out and "flow_without_operation" not in out
    assert len(list((tmp_path / "reports").glob("meter-operation_*.pdf"))) == 4
    assert out.count("  OK") == 4 and "BROKEN" not in out  # config, containers, meters, vgm
    # VGM, gate and port parts ran and agreed with their simulators' truth
    assert "33-0117-2026-000001" in out
    assert "11/11 passages got the decision the rules give" in out
    assert "6/6 gate-out trucks got the decision the rules give" in out
    assert re.search(r"(\d+)/\1 shift passages got the decision and reasons the simulator planted; counts agree", out)
