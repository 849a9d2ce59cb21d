"""Camera-frame sources: a replay folder of JPEG files + ``frames.jsonl`` manifest.

``gate.frames/`` holds the gate cameras, ``camera.frames/`` the cameras under health monitoring.

Each manifest line becomes a :class:`~operators.events.RawEvent` shaped like a Kafka frame message: the
payload is the JPEG bytes and the metadata travels as headers, so the flow decodes both sources the same
way. A manifest line that is not JSON, or names a missing file, becomes an event carrying the line and a
``quaywatch-error`` header (→ dead letter). The source is resumable: its snapshot is the lines consumed.
"""

from __future__ import annotations

import json
from pathlib import Path

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from operators.events import RawEvent
from operators.frames import STREAM_GATE_FRAMES

FRAMES_DIR = "gate.frames"
MANIFEST = "frames.jsonl"
ERROR_HEADER = "quaywatch-error"


def frame_event(folder: Path, line: str, position: str, stream: str = STREAM_GATE_FRAMES) -> RawEvent:
    """The raw event of one manifest line: JPEG bytes + metadata headers, or the line + an error header."""
    try:
        meta = json.loads(line)
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        return RawEvent(stream, line, position, ((ERROR_HEADER, f"manifest line: {exc}".encode()),))
    name = str(meta.get("file", ""))
    path = folder / name
    if not name or Path(name).name != name or not path.is_file():
        return RawEvent(stream, line, position, ((ERROR_HEADER, f"frame file missing: {name!r}".encode()),))
    headers = tuple((str(k), str(v).encode()) for k, v in meta.items() if v is not None)
    return RawEvent(stream, path.read_bytes(), position, headers)


class _FramesPartition(StatefulSourcePartition[RawEvent, int]):
    def __init__(self, folder: Path, batch_size: int, resume: int | None, stream: str) -> None:
        self.folder = folder
        self.stream = stream
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
                out.append(frame_event(self.folder, text, f"{self.folder.name}/{MANIFEST}:{self._lineno}", self.stream))
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


class FramesReplaySource(FixedPartitionedSource[RawEvent, int]):
    """Reads ``<replay dir>/<folder>/frames.jsonl`` in order (the manifest is in event-time order).

    Args:
        directory: The replay directory (a missing frames folder means no frames).
        batch_size: Frames per batch.
        folder: The frames folder (``gate.frames``, ``camera.frames``).
        stream: Logical stream of the events.

    Raises:
        FileNotFoundError: When the replay directory does not exist.
    """

    def __init__(self, directory: Path, batch_size: int = 8, folder: str = FRAMES_DIR,
                 stream: str = STREAM_GATE_FRAMES) -> None:
        if not directory.is_dir():
            raise FileNotFoundError(f"replay directory {directory} does not exist")
        self.folder = directory / folder
        self.batch_size = batch_size
        self.stream = stream

    def list_parts(self) -> list[str]:
        """One partition: the manifest."""
        return ["frames"]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _FramesPartition:
        """Open the manifest, skipping what a previous run consumed."""
        return _FramesPartition(self.folder, self.batch_size, resume_state, self.stream)
