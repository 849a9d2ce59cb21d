"""The decision scenario simulator: seeded, and each scenario's notices say what its name says (checked from
the written files alone: the notice file and the truth's physical facts)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from connectors.simulate.gate_pregate import write_scenario
from operators.size_type import decode


def _ts(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def test_scenario_files(tmp_path):
    names = ("match", "wrong_size", "expired", "duplicate", "notice_after_truck", "placard", "seal_missing")
    truth = write_scenario(tmp_path / "a", names, width=320)
    write_scenario(tmp_path / "b", names, width=320)
    for f in ("gate.pregate.jsonl", "decisions_truth.jsonl", "gate.frames/frames.jsonl"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    notices = [json.loads(x) for x in (tmp_path / "a" / "gate.pregate.jsonl").read_text().splitlines()]
    assert [n["ts"] for n in notices] == sorted(n["ts"] for n in notices)
    for t in truth:
        mine = [n for n in notices if n["plate"] == t["truth"]["plate"]]
        lpr = _ts(t["lpr_ts"])
        sent = [lpr - _ts(n["ts"]) for n in mine]
        name = t["scenario"]
        if name == "expired":
            assert sent == [timedelta(hours=25) + (lpr - _ts(t["started_at"]))]
        elif name == "notice_after_truck":
            assert all(s < timedelta(0) for s in sent)
        elif name == "duplicate":
            assert len({n["notice_id"] for n in mine}) == 2
            assert all(timedelta(0) < s < timedelta(hours=24) for s in sent)
        else:
            assert len(mine) == 1 and timedelta(0) < sent[0] < timedelta(hours=24)
            c = mine[0]["containers"][0]
            assert c["number"] == t["truth"]["container"]
            same = decode(c["size_type"]).length_ft == decode(t["truth"]["size_type"]).length_ft  # type: ignore[union-attr]
            assert same is (name != "wrong_size")
            assert t["truth"]["hazard_placard"] is (name == "placard") and mine[0]["hazardous"] is False
            assert t["truth"]["seal"] is (name != "seal_missing") and c["load_status"] == "full"
