"""Replay source of the gate flow: frames, pre-gate notices and exit statuses, merged in event-time order.

Camera frames (``gate.frames/``), pre-gate notices (``gate.pregate.jsonl``), the containers flow's exit
statuses (``containers.exit_status.jsonl``) and camera read records (``gate.reads.jsonl``,
:mod:`operators.gate_read_events`) are one partition.
Frames become events shaped like Kafka frame messages (:func:`connectors.frames.frame_event`), notices raw
JSON lines of their stream. Resumable: the snapshot is the lines consumed per file.
"""

from __future__ import annotations

from pathlib import Path

from bytewax.inputs import FixedPartitionedSource

from connectors.frames import FRAMES_DIR, MANIFEST, frame_event
from connectors.replay import ReplayPartition
from operators.events import RawEvent
from operators.exit_status import STREAM_EXIT_STATUS
from operators.frames import STREAM_GATE_FRAMES
from operators.gate_read_events import STREAM_GATE_READS
from operators.pregate import STREAM_GATE_PREGATE


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

    def build_part(self, step_id: str, for_part: str, resume_state: dict[str, int] | None) -> ReplayPartition:
        """Open the files, skipping what a previous run consumed."""
        folder = self.directory / FRAMES_DIR
        files = {stream: path for stream, path in (
            (STREAM_GATE_FRAMES, folder / MANIFEST),
            (STREAM_GATE_PREGATE, self.directory / f"{STREAM_GATE_PREGATE}.jsonl"),
            (STREAM_EXIT_STATUS, self.directory / f"{STREAM_EXIT_STATUS}.jsonl"),
            (STREAM_GATE_READS, self.directory / f"{STREAM_GATE_READS}.jsonl")) if path.exists()}

        def make_event(stream: str, text: str, position: str) -> RawEvent:
            if stream == STREAM_GATE_FRAMES:
                return frame_event(folder, text, position)
            return RawEvent(stream, text, position)

        return ReplayPartition(files, self.batch_size, resume_state, {STREAM_GATE_FRAMES: f"{FRAMES_DIR}/{MANIFEST}"},
                                make_event)
