"""Replay directory source: one JSON Lines file per stream, merged in event-time order.

A replay directory holds ``<stream>.jsonl`` files (``meter.readings.jsonl``, ``transfers.jsonl``, ...);
a missing file means no events of that kind. Each file is expected in event-time order; the files are
merged on their ``ts`` field. The source is resumable: its snapshot is the number of lines consumed per
file, so a flow run with recovery continues exactly where it stopped.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from operators.events import EventError, RawEvent, is_canonical_ts, iso_ms, parse_ts, ts_text


def ts_key(line: str) -> str:
    """Sort key of a JSON line: its ``ts`` as canonical ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (``""`` if unreadable).

    The common canonical form is recognised without parsing the JSON; other forms and offsets are
    normalised, so files written with different offsets still merge in true time order.
    """
    value = ts_text(line)
    if not value or is_canonical_ts(value):
        return value
    try:
        return iso_ms(parse_ts(value))
    except EventError:
        return ""


#: Builds the event of one line: ``(stream, text, position) -> RawEvent``.
MakeEvent = Callable[[str, str, str], RawEvent]


class ReplayPartition(StatefulSourcePartition[RawEvent, dict[str, int]]):
    """Files of several streams merged on ``ts``; positions are ``<label>:<line>`` (label: the file name).

    ``make_event`` turns a line into its event (default: the line itself as the payload); a stream whose
    lines only describe the payload (a frame manifest) supplies its own.
    """

    def __init__(self, files: dict[str, Path], batch_size: int, resume: dict[str, int] | None,
                 labels: dict[str, str] | None = None, make_event: MakeEvent = RawEvent) -> None:
        self.consumed = dict(resume or {})
        self.batch_size = batch_size
        self.make_event = make_event
        self.labels = {stream: (labels or {}).get(stream, path.name) for stream, path in files.items()}
        self._handles: list[TextIO] = []
        iters = []
        for stream, path in files.items():
            fh = path.open(encoding="utf-8", errors="surrogateescape")
            self._handles.append(fh)
            iters.append(self._lines(stream, fh, self.consumed.get(stream, 0)))
        self._merged: Iterator[tuple[str, int, str, str]] = heapq.merge(*iters)

    @staticmethod
    def _lines(stream: str, fh: TextIO, skip: int) -> Iterator[tuple[str, int, str, str]]:
        for lineno, line in enumerate(fh, start=1):
            if lineno <= skip:
                continue
            text = line.rstrip("\r\n")
            # (key, line number, stream) make the merge total and deterministic
            yield ts_key(text), lineno, stream, text

    def next_batch(self) -> list[RawEvent]:
        """The next events in ``ts`` order (blank lines are consumed, not emitted)."""
        out: list[RawEvent] = []
        consumed, labels, make_event = self.consumed, self.labels, self.make_event
        for _key, lineno, stream, text in self._merged:
            consumed[stream] = lineno
            if text.strip():
                out.append(make_event(stream, text, f"{labels[stream]}:{lineno}"))
            if len(out) >= self.batch_size:
                return out
        if out:
            return out
        raise StopIteration

    def snapshot(self) -> dict[str, int]:
        """Lines consumed per stream."""
        return dict(self.consumed)

    def close(self) -> None:
        """Close the files."""
        for fh in self._handles:
            fh.close()


class ReplayDirSource(FixedPartitionedSource[RawEvent, dict[str, int]]):
    """Reads the replay files of the given streams from a directory, merged in event-time order.

    Args:
        directory: The replay directory.
        streams: Logical stream names to read (file ``<stream>.jsonl`` each).
        batch_size: Records per batch handed to the dataflow.

    Raises:
        FileNotFoundError: When the directory does not exist.
    """

    def __init__(self, directory: Path, streams: tuple[str, ...], batch_size: int = 10_000) -> None:
        if not directory.is_dir():
            raise FileNotFoundError(f"replay directory {directory} does not exist")
        self.files = {s: directory / f"{s}.jsonl" for s in streams if (directory / f"{s}.jsonl").exists()}
        self.batch_size = batch_size

    def list_parts(self) -> list[str]:
        """One partition: the merged, time-ordered replay."""
        return ["replay"]

    def build_part(self, step_id: str, for_part: str, resume_state: dict[str, int] | None) -> ReplayPartition:
        """Open the files, skipping what a previous run consumed."""
        return ReplayPartition(self.files, self.batch_size, resume_state)
