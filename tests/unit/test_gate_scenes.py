"""The synthetic gate-scene generator: deterministic per seed, valid ground truth, the contract's manifest."""

from __future__ import annotations

import json

import cv2
import numpy as np

from connectors.simulate.gate_scenes import font_files, passage_frames, random_truth, write_replay
from operators.iso6346 import is_valid
from operators.plates import is_valid_plate


def test_same_seed_same_bytes_and_valid_truth(tmp_path):
    a = write_replay(tmp_path / "a", 2, seed=11, width=640)
    b = write_replay(tmp_path / "b", 2, seed=11, width=640)
    assert a == b
    files = sorted(p.name for p in (tmp_path / "a" / "gate.frames").glob("*.jpg"))
    assert len(files) == 8
    for name in files:
        da, db = tmp_path / "a" / "gate.frames", tmp_path / "b" / "gate.frames"
        assert (da / name).read_bytes() == (db / name).read_bytes()
    for t in a:
        assert is_valid(t.container)
        assert is_valid_plate(t.plate) and is_valid_plate(t.trailer_plate)
    assert [t.tier for t in a] == ["easy", "hard"]


def test_manifest_follows_the_camera_frame_contract(tmp_path):
    write_replay(tmp_path, 2, seed=1, width=640, with_passage_id=False)
    lines = [json.loads(x) for x in (tmp_path / "gate.frames" / "frames.jsonl").read_text().splitlines()]
    assert len(lines) == 8
    for m in lines:
        assert {"file", "gate_id", "lane_id", "checkpoint", "camera_id", "ts"} <= set(m)
        assert "passage_id" not in m
        assert m["ts"].endswith("Z")
        assert (tmp_path / "gate.frames" / m["file"]).exists()
    assert [m["ts"] for m in lines] == sorted(m["ts"] for m in lines)
    assert {m["checkpoint"] for m in lines if m["camera_id"] == "lpr"} == {2}


def test_frames_decode_at_the_requested_size():
    rng = np.random.default_rng(5)
    frames = passage_frames(random_truth(rng, "p", "L1", "hard"), rng, width=800)
    for f in frames:
        img = cv2.imdecode(np.frombuffer(f.jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert img.shape == (450, 800, 3)


def test_a_font_file_is_available_without_system_fonts():
    assert any("SourceSansPro" in f for f in font_files())
