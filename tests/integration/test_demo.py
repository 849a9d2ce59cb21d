"""The README's first command: `quaywatch demo` runs every demo flow on the embedded default and says so."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.integration


def test_demo_runs_end_to_end(demo_run):
    # one chDB path per process: the session's warehouse, in a database of the demo run's own
    assert demo_run.exit_code == 0, demo_run.output
    out, tmp_path = demo_run.output, demo_run.data_dir
    # fuel: exactly the two planted alerts, the reports written, every audit chain intact
    assert "bl_tolerance" in out and "meter_failure" in out and "flow_without_operation" not in out
    assert len(list((tmp_path / "reports").glob("meter-operation_*.pdf"))) == 4
    assert out.count("  OK") == 4 and "BROKEN" not in out  # config, containers, meters, vgm
    # VGM, gate and port parts ran and agreed with their simulators' truth
    assert "33-0117-2026-000001" in out
    assert "11/11 passages got the decision the rules give" in out
    assert "6/6 gate-out trucks got the decision the rules give" in out
    assert re.search(r"(\d+)/\1 shift passages got the decision and reasons the simulator planted; counts agree", out)
