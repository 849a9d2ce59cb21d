"""Replay source of the gate flow: frames and pre-gate notices, merged in event-time order.

Camera frames (``gate.frames/``) and pre-gate notices (``gate.pregate.jsonl``) are one partition.
Frames become events shaped like Kafka frame messages (:func:`connectors.frames.frame_event`), notices raw
JSON lines of stream ``gate.pregate``. Resumable: the snapshot is the lines consumed per file.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from connectors.frames import FRAMES_DIR, MANIFEST, frame_event
from connectors.replay import ts_key
from operators.events import RawEvent
from operators.frames import STREAM_GATE_FRAMES
from operators.pregate import STREAM_GATE_PREGATE


class _GatePartition(StatefulSourcePartition[RawEvent, dict[str, int]]):
    def __init__(self, directory: Path, batch_size: int, resume: dict[str, int] | None) -> None:
        self.consumed = dict(resume or {})
        self.batch_size = batch_size
        self._handles: list[TextIO] = []
        iters = []
        folder = directory / FRAMES_DIR
        for stream, path in ((STREAM_GATE_FRAMES, folder / MANIFEST),
                             (STREAM_GATE_PREGATE, directory / f"{STREAM_GATE_PREGATE}.jsonl")):
            if path.exists():
                fh = path.open(encoding="utf-8", errors="surrogateescape")
                self._handles.append(fh)
                iters.append(self._lines(stream, fh, self.consumed.get(stream, 0)))
        self.folder = folder
        self._merged: Iterator[tuple[str, int, str, str]] = heapq.merge(*iters)

    @staticmethod
    def _lines(stream: str, fh: TextIO, skip: int) -> Iterator[tuple[str, int, str, str]]:
        for lineno, line in enumerate(fh, start=1):
            if lineno > skip:
                text = line.rstrip("\r\n")
                yield ts_key(text), lineno, stream, text

    def next_batch(self) -> list[RawEvent]:
        out: list[RawEvent] = []
        for _key, lineno, stream, text in self._merged:
            self.consumed[stream] = lineno
            if not text.strip():
                continue
            if stream == STREAM_GATE_FRAMES:
                out.append(frame_event(self.folder, text, f"{FRAMES_DIR}/{MANIFEST}:{lineno}"))
            else:
                out.append(RawEvent(stream, text, f"{STREAM_GATE_PREGATE}.jsonl:{lineno}"))
            if len(out) >= self.batch_size:
                return out
        if out:
            return out
        raise StopIteration

    def snapshot(self) -> dict[str, int]:
        return dict(self.consumed)

    def close(self) -> None:
        for fh in self._handles:
            fh.close()


class GateReplaySource(FixedPartitionedSource[RawEvent, dict[str, int]]):
    """Frames and pre-gate notices of a replay directory, in event-time order.

    Args:
        directory: The replay directory (missing files mean no events of that kind).
        batch_size: Events per batch (1: a frame is decided on as soon as it is read, as in a live run).

    Raises:
        FileNotFoundError: When the replay directory does not exist.
    """

    def __init__(self, directory: Path, batch_size: int = 1) -> None:
        if not directory.is_dir():
            raise FileNotFoundError(f"replay directory {directory} does not exist")
        self.directory = directory
        self.batch_size = batch_size

    def list_parts(self) -> list[str]:
        """One partition: the merged replay."""
        return ["gate"]

    def build_part(self, step_id: str, for_part: str, resume_state: dict[str, int] | None) -> _GatePartition:
        """Open the files, skipping what a previous run consumed."""
        return _GatePartition(self.directory, self.batch_size, resume_state)
