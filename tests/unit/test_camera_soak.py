"""The cameras soak's input (bench/soak.py ``--flows cameras``): a cycled replay directory, its Kafka records and probe.

Expected values are computed here from the cycle's own manifest (each repeat shifted by the cycle length) and the
JPEG files on disk, and the records are judged by the flow's own decoder (``flows.cameras.decode_frame``), the
replay source and the dead-letter message the flow publishes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench import soak
from connectors.camera_frames import CameraFramesReplaySource
from connectors.frames import frame_event
from connectors.simulate.camera_soak import CYCLE_INFO, count_frames, first_frames, write_cycled
from connectors.simulate.camera_streams import CameraSpec, write_streams
from flows.cameras import DecodedFrame, decode_frame
from operators.events import DeadLetter, RawEvent, dead_letter_message

CYCLE_S = 2.0
START = datetime(2026, 3, 1, 21, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cycle")
    write_streams(out, [CameraSpec("a", 160, 90, 10.0, CYCLE_S, "frozen", 1.0, seed=1),
                        CameraSpec("b", 160, 90, 5.0, CYCLE_S, "outage", 0.6, seed=2, outage_s=0.6)], START)
    (out / CYCLE_INFO).write_text(json.dumps({"seconds": CYCLE_S}))
    return out


def manifest(directory: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (directory / "camera.frames" / "frames.jsonl").read_text().splitlines()]


def test_frame_records_repeat_the_cycle_in_event_time_order_and_decode_with_the_flows_decoder(cycle, tmp_path):
    one = manifest(cycle)
    assert len(one) == 20 + 10 - 3  # a: 10 fps x 2 s; b: 5 fps x 2 s less 3 frames of its 0.6 s outage
    n = 2 * len(one) + 5
    assert write_cycled(tmp_path, cycle, n) == n
    assert count_frames(tmp_path) == n

    records = list(soak.SPECS["cameras"].records(tmp_path))
    assert len(records) == n
    for k, rec in enumerate(records):
        src = one[k % len(one)]
        ts = datetime.fromisoformat(str(src["ts"])) + timedelta(seconds=CYCLE_S * (k // len(one)))
        assert rec.stream == "camera.frames"
        assert datetime.fromisoformat(rec.ts) == ts
        assert rec.value == (cycle / "camera.frames" / str(src["file"])).read_bytes()
        got = decode_frame(RawEvent(rec.stream, rec.value, f"soak/{k}", rec.headers))
        assert isinstance(got, DecodedFrame), got
        assert (got.meta.camera_id, got.meta.ts) == (src["camera_id"], ts)
        assert got.image.shape[:2] == (90, 160)
    stamps = [datetime.fromisoformat(r.ts) for r in records]
    assert stamps == sorted(stamps)
    assert {r.ts for r in records[: len(one)]}.isdisjoint(r.ts for r in records[len(one) : 2 * len(one)])


def test_records_carry_what_the_replay_source_reads(cycle, tmp_path):
    """Kafka path and replay path give the flow the same bytes and metadata (``file`` only names the file)."""
    write_cycled(tmp_path / "all", cycle, 40)
    assert first_frames(tmp_path / "all", tmp_path / "first", 25) == 25
    folder = tmp_path / "first" / "camera.frames"
    replayed = [frame_event(folder, line, str(i), "camera.frames")
                for i, line in enumerate((folder / "frames.jsonl").read_text().splitlines())]
    records = list(soak.SPECS["cameras"].records(tmp_path / "first"))
    assert len(records) == len(replayed) == 25
    for rec, raw in zip(records, replayed, strict=True):
        assert rec.value == raw.payload
        assert rec.headers == tuple(h for h in raw.headers if h[0] != "file")
    assert CameraFramesReplaySource(tmp_path / "first").list_parts()


def test_probe_frame_is_dead_lettered_with_its_wall_time_recoverable():
    spec = soak.SPECS["cameras"]
    wall = 1772348400.123456
    rec = spec.probe_record("2026-03-01T21:00:05.000Z", wall)
    got = decode_frame(RawEvent(rec.stream, rec.value, "soak_cameras.camera.frames/0@7", rec.headers))
    assert isinstance(got, DeadLetter)
    assert got.event_ts == datetime(2026, 3, 1, 21, 0, 5, tzinfo=UTC)
    _key, value = dead_letter_message(got)
    raw = json.loads(value)["raw"]
    assert soak.probe_wall_of(raw) == wall
    # a JSON flow's probe: the field of the event itself
    assert soak.probe_wall_of(json.dumps(soak.SPECS["meters"].probe("2026-03-01T21:00:05.000Z", wall))) == wall
    assert soak.probe_wall_of(json.dumps({"headers": {"camera_id": "a"}})) is None


def test_frame_tally_counts_each_cameras_open_window():
    tally = soak.FrameTally(10.0)
    # camera a: 3 frames in window [21:00:00, 21:00:10), 2 in the next; camera b: 1 frame, in the first window
    for cam, sec in (("a", 0), ("a", 4), ("b", 5), ("a", 9.999), ("a", 10), ("a", 19)):
        ts = (START + timedelta(seconds=sec)).isoformat()
        tally.add(soak.Record("camera.frames", b"", (("camera_id", cam.encode()), ("ts", ts.encode())), ts))
    # closed windows hold a's first 3 frames; open windows: a's last 2, b's 1
    assert tally.check(3, 0).endswith("OK")
    assert "+ 3 in the 2 cameras' open windows" in tally.check(3, 0)
    assert tally.check(4, 0).endswith("MISMATCH")
