import json
from pathlib import Path

import bytewax.operators as op
import pytest
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, run_main

from connectors.replay import ReplayDirSource, ts_key


def write(path: Path, events: list[dict]) -> None:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))


def replay(directory: Path, streams, batch_size=3) -> list:
    out: list = []
    flow = Dataflow("t")
    op.output("out", op.input("in", flow, ReplayDirSource(directory, streams, batch_size)), TestingSink(out))
    run_main(flow)
    return out


def test_ts_key_normalises_offsets_and_tolerates_garbage():
    assert ts_key('{"ts": "2026-03-01T06:00:00.000Z"}') == "2026-03-01T06:00:00.000Z"
    assert ts_key('{"ts":"2026-03-01T09:00:00+03:00","x":1}') == "2026-03-01T06:00:00.000Z"
    assert ts_key('{"x": 1}') == "" and ts_key("garbage") == "" and ts_key('{"ts": "soon"}') == ""


def test_files_merge_in_event_time_and_missing_files_are_empty_streams(tmp_path: Path):
    write(tmp_path / "meter.readings.jsonl", [{"ts": f"2026-03-01T06:00:0{i}.000Z", "i": i} for i in range(0, 9, 2)])
    write(tmp_path / "transfers.jsonl", [{"ts": "2026-03-01T06:00:03.000Z"}, {"ts": "2026-03-01T09:00:05+03:00"}])
    (tmp_path / "tank.readings.jsonl").write_text("\n\n")  # blank lines are skipped
    out = replay(tmp_path, ("meter.readings", "tank.readings", "transfers", "lab.density"))
    assert [ts_key(str(r.payload)) for r in out] == sorted(ts_key(str(r.payload)) for r in out)
    assert [r.stream for r in out] == ["meter.readings", "meter.readings", "transfers", "meter.readings",
                                       "transfers", "meter.readings", "meter.readings"]
    assert out[2].position == "transfers.jsonl:1"


def test_resume_skips_consumed_lines(tmp_path: Path):
    write(tmp_path / "meter.readings.jsonl", [{"ts": f"2026-03-01T06:00:0{i}.000Z"} for i in range(6)])
    src = ReplayDirSource(tmp_path, ("meter.readings",), batch_size=4)
    part = src.build_part("s", "replay", None)
    first = part.next_batch()
    state = part.snapshot()
    part.close()
    resumed = src.build_part("s", "replay", state)
    rest = resumed.next_batch()
    with pytest.raises(StopIteration):
        resumed.next_batch()
    assert [r.position for r in first + rest] == [f"meter.readings.jsonl:{i}" for i in range(1, 7)]


def test_missing_directory_is_a_clear_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ReplayDirSource(tmp_path / "nope", ("meter.readings",))
