"""Replay source of the camera-health stream: the ``camera.frames/`` folder (JPEGs + ``frames.jsonl``).

The gate's frame source (:class:`connectors.frames.FramesReplaySource`) over another folder and stream: the
same manifest shape (``file``, ``camera_id``, ``ts``; other fields travel as headers); a manifest line that is
not JSON or names a missing file becomes an event with the ``quaywatch-error`` header (→ dead letter).
"""

from __future__ import annotations

from pathlib import Path

from connectors.frames import FramesReplaySource
from operators.camera_frames import STREAM_CAMERA_FRAMES

FRAMES_DIR = "camera.frames"


class CameraFramesReplaySource(FramesReplaySource):
    """Reads ``<replay dir>/camera.frames/frames.jsonl`` in order (the manifest is in event-time order)."""

    def __init__(self, directory: Path, batch_size: int = 8) -> None:
        super().__init__(directory, batch_size, FRAMES_DIR, STREAM_CAMERA_FRAMES)
