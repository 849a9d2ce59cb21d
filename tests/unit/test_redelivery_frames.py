"""Redelivered camera frames are recognised like JSON records: their event time and metadata travel in the headers
(before: a frame counted as undated and every redelivery reached the camera logic, which failed on it)."""

from __future__ import annotations

from operators.events import RawEvent
from operators.redelivery import RedeliveryFilter

JPEG = b"\xff\xd8" + bytes(range(256)) + b"\xff\xd9"


def frame(ts: str, position: str, camera: str = "entry") -> RawEvent:
    return RawEvent("camera.frames", JPEG, position, (("camera_id", camera.encode()), ("ts", ts.encode())))


def test_a_frame_delivered_again_is_dropped():
    f = RedeliveryFilter()
    first = frame("2026-03-01T21:00:00.000Z", "t/0@1")
    again = frame("2026-03-01T21:00:00.000Z", "t/1@7")  # same record from another partition
    assert f.filter([first]) == [first]
    assert f.filter([again]) == []
    assert f.dropped == 1


def test_the_same_bytes_at_another_time_or_camera_are_other_frames():
    f = RedeliveryFilter()
    frames = [frame("2026-03-01T21:00:00.000Z", "t/0@1"), frame("2026-03-01T21:00:00.100Z", "t/0@2"),
              frame("2026-03-01T21:00:00.100Z", "t/0@3", camera="yard")]
    assert f.filter(frames) == frames
    assert f.dropped == 0
