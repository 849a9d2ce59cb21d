"""Replay source of the camera-health stream: the ``camera.frames/`` folder (JPEGs + ``frames.jsonl``).

An adapter over :func:`connectors.frames.frame_event` (the gate's frame source reads only ``gate.frames/``):
the same manifest shape (``file``, ``camera_id``, ``ts``; other fields travel as headers), events on the
``camera.frames`` stream. A manifest line that is not JSON or names a missing file becomes an event with
the ``quaywatch-error`` header (→ dead letter). Resumable: the snapshot is the number of lines consumed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from connectors.frames import MANIFEST, frame_event
from operators.camera_frames import STREAM_CAMERA_FRAMES
from operators.events import RawEvent

FRAMES_DIR = "camera.frames"


class _Partition(StatefulSourcePartition[RawEvent, int]):
    def __init__(self, folder: Path, batch_size: int, resume: int | None) -> None:
        self.folder = folder
        self.batch_size = batch_size
        self.consumed = resume or 0
        manifest = folder / MANIFEST
        self._fh = manifest.open(encoding="utf-8", errors="surrogateescape") if manifest.exists() else None
        self._lineno = 0

    def next_batch(self) -> list[RawEvent]:
        if self._fh is None:
            raise StopIteration
        out: list[RawEvent] = []
        for line in self._fh:
            self._lineno += 1
            if self._lineno <= self.consumed:
                continue
            self.consumed = self._lineno
            text = line.rstrip("\r\n")
            if text.strip():
                ev = frame_event(self.folder, text, f"{FRAMES_DIR}/{MANIFEST}:{self._lineno}")
                out.append(replace(ev, stream=STREAM_CAMERA_FRAMES))
            if len(out) >= self.batch_size:
                return out
        if out:
            return out
        raise StopIteration

    def snapshot(self) -> int:
        return self.consumed

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


class CameraFramesReplaySource(FixedPartitionedSource[RawEvent, int]):
    """Reads ``<replay dir>/camera.frames/frames.jsonl`` in order (the manifest is in event-time order).

    Args:
        directory: The replay directory (a missing ``camera.frames/`` means no frames).
        batch_size: Frames per batch.

    Raises:
        FileNotFoundError: When the replay directory does not exist.
    """

    def __init__(self, directory: Path, batch_size: int = 8) -> None:
        if not directory.is_dir():
            raise FileNotFoundError(f"replay directory {directory} does not exist")
        self.folder = directory / FRAMES_DIR
        self.batch_size = batch_size

    def list_parts(self) -> list[str]:
        """One partition: the manifest."""
        return ["frames"]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _Partition:
        """Open the manifest, skipping what a previous run consumed."""
        return _Partition(self.folder, self.batch_size, resume_state)
