"""Camera-frame decoding: strict JPEG checks (dead-letter reasons) and the contract metadata."""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from operators.frames import FrameError, decode_jpeg, frame_meta, manifest_fields


def _jpeg() -> bytes:
    img = np.zeros((40, 60, 3), np.uint8)
    cv2.rectangle(img, (5, 5), (30, 30), (0, 0, 255), -1)
    return cv2.imencode(".jpg", img)[1].tobytes()


def test_good_jpeg_decodes():
    assert decode_jpeg(_jpeg()).shape == (40, 60, 3)


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "not a JPEG"),
    (b"GIF89a....", "not a JPEG"),
    (_jpeg()[:200], "truncated"),
    (b"\xff\xd8" + b"\x00" * 300 + b"\xff\xd9", "corrupt"),
])
def test_bad_jpeg_reasons(data, reason):
    with pytest.raises(FrameError, match=reason):
        decode_jpeg(data)


def test_meta_from_headers_and_manifest():
    m = frame_meta({"gate_id": b"G1", "lane_id": b"L2", "checkpoint": b"2", "camera_id": b"lpr",
                    "ts": b"2026-03-02T11:00:00.250+03:00"})
    assert (m.gate_id, m.lane_id, m.checkpoint, m.camera_id, m.passage_id) == ("G1", "L2", 2, "lpr", None)
    assert m.ts == datetime(2026, 3, 2, 8, 0, 0, 250000, tzinfo=UTC)
    f = manifest_fields('{"file": "a.jpg", "gate_id": "G1", "lane_id": "L1", "checkpoint": 1, '
                        '"camera_id": "rear", "ts": "2026-03-02T08:00:00Z", "passage_id": "P7"}')
    assert frame_meta(f).passage_id == "P7"


@pytest.mark.parametrize(("fields", "reason"), [
    ({"lane_id": "L1", "checkpoint": 1, "camera_id": "c", "ts": "2026-03-02T08:00:00Z"}, "gate_id"),
    ({"gate_id": "G", "lane_id": "L1", "checkpoint": 4, "camera_id": "c", "ts": "2026-03-02T08:00:00Z"},
     "checkpoint"),
    ({"gate_id": "G", "lane_id": "L1", "checkpoint": 1, "camera_id": "c", "ts": "2026-03-02T08:00:00"}, "offset"),
])
def test_bad_meta(fields, reason):
    with pytest.raises(FrameError, match=reason):
        frame_meta(fields)


def test_manifest_line_must_be_an_object():
    with pytest.raises(FrameError):
        manifest_fields("[1, 2]")
    with pytest.raises(FrameError):
        manifest_fields("{broken")
