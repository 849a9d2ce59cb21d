"""Grouping the frames of one lane into passages, with bounded state.

Frames carry the loop detector's ``passage_id`` when the lane has one; otherwise frames of one lane whose
event times are at most ``gap_s`` apart are one passage (its id is made from the gate, lane and the first
frame's event time, so a replay assigns the same ids). Per lane, only the open passage is held (at most
``max_frames`` frames; a longer one is closed and continued as a new passage) plus the last ``keep_closed``
closed passages, so that a late frame re-fuses its passage into a new edition instead of being lost.
Nothing is keyed by unbounded ids: the state is keyed by lane.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from operators.events import ms_from_ts
from operators.gate_fusion import PLATE_MIN_CONFIDENCE, FusedPassage, fuse
from operators.ocr.reader import FrameRead


@dataclass(frozen=True)
class FrameMeta:
    """Contract metadata of a camera frame (headers or manifest line)."""

    gate_id: str
    lane_id: str
    checkpoint: int
    camera_id: str
    ts: datetime
    passage_id: str | None = None


@dataclass
class OpenPassage:
    """Frames collected for one passage."""

    passage_id: str
    gate_id: str
    lane_id: str
    frames: list[tuple[str, FrameMeta, FrameRead]] = field(default_factory=list)
    edition: int = 0

    @property
    def started_at(self) -> datetime:
        """Event time of the first frame."""
        return min(m.ts for _k, m, _r in self.frames)

    @property
    def ended_at(self) -> datetime:
        """Event time of the last frame."""
        return max(m.ts for _k, m, _r in self.frames)


@dataclass(frozen=True)
class ClosedPassage:
    """A passage ready to be written: its frames and the fused reads."""

    passage: OpenPassage
    fused: FusedPassage


def gap_passage_id(gate_id: str, lane_id: str, ts: datetime) -> str:
    """Deterministic id of a passage grouped by time gap: gate, lane and the first frame's epoch ms."""
    return f"{gate_id}-{lane_id}-{ms_from_ts(ts)}"


class LanePassages:
    """Per-lane passage grouping (one instance per lane).

    Args:
        gap_s: Frames further apart than this (event time) start a new passage when there is no passage id.
        max_frames: Most frames one passage holds before it is closed.
        keep_closed: How many closed passages are remembered for late frames.
        plate_min_confidence: See :func:`operators.gate_fusion.fuse`.
    """

    def __init__(self, gap_s: float = 10.0, max_frames: int = 64, keep_closed: int = 16,
                 plate_min_confidence: float = PLATE_MIN_CONFIDENCE) -> None:
        self.gap = timedelta(seconds=gap_s)
        self.plate_min_confidence = plate_min_confidence
        self.max_frames = max_frames
        self.keep_closed = keep_closed
        self.open: OpenPassage | None = None
        self.closed: OrderedDict[str, OpenPassage] = OrderedDict()

    def assign(self, meta: FrameMeta) -> tuple[str, list[ClosedPassage]]:
        """Decide the passage of a new frame; returns its passage id and the passages this frame closes."""
        out: list[ClosedPassage] = []
        cur = self.open
        if meta.passage_id is not None:
            if cur is not None and cur.passage_id == meta.passage_id:
                return cur.passage_id, out
            if meta.passage_id in self.closed:
                return meta.passage_id, out
            if cur is not None:
                out.append(self._close())
            self.open = OpenPassage(meta.passage_id, meta.gate_id, meta.lane_id)
            return meta.passage_id, out
        if cur is not None and abs(meta.ts - cur.ended_at) <= self.gap and len(cur.frames) < self.max_frames:
            return cur.passage_id, out
        if cur is None and self.closed:
            # closed early (idle timer, end of a run) but this frame is within the gap: it continues that
            # passage, which is re-fused into a new edition, so the result does not depend on the timer
            last = next(reversed(self.closed.values()))
            if last.passage_id == gap_passage_id(last.gate_id, last.lane_id, last.started_at) and \
                    abs(meta.ts - last.ended_at) <= self.gap and len(last.frames) < self.max_frames:
                return last.passage_id, out
        if cur is not None:
            out.append(self._close())
        pid = gap_passage_id(meta.gate_id, meta.lane_id, meta.ts)
        self.open = OpenPassage(pid, meta.gate_id, meta.lane_id)
        return pid, out

    def add(self, passage_id: str, key: str, meta: FrameMeta, read: FrameRead) -> list[ClosedPassage]:
        """Add a frame to the passage :meth:`assign` chose; a late frame re-emits its closed passage."""
        if self.open is not None and self.open.passage_id == passage_id:
            if all(k != key for k, _m, _r in self.open.frames):
                self.open.frames.append((key, meta, read))
            if len(self.open.frames) >= self.max_frames:
                return [self._close()]
            return []
        late = self.closed.get(passage_id)
        if late is None:  # pragma: no cover - assign() always opens or finds the passage
            raise KeyError(passage_id)
        if any(k == key for k, _m, _r in late.frames) or len(late.frames) >= self.max_frames:
            return []
        late.frames.append((key, meta, read))
        late.edition += 1
        return [ClosedPassage(late, fuse([(k, r) for k, _m, r in late.frames], self.plate_min_confidence))]

    def on_frame(self, key: str, meta: FrameMeta, read: FrameRead) -> tuple[str, list[ClosedPassage]]:
        """Assign and add a frame in one step; returns its passage id and the passages closed."""
        pid, closed = self.assign(meta)
        return pid, closed + self.add(pid, key, meta, read)

    def finish(self) -> list[ClosedPassage]:
        """Close the open passage (end of a replay)."""
        return [self._close()] if self.open is not None and self.open.frames else []

    def _close(self) -> ClosedPassage:
        p = self.open
        assert p is not None
        self.open = None
        self.closed[p.passage_id] = p
        while len(self.closed) > self.keep_closed:
            self.closed.popitem(last=False)
        return ClosedPassage(p, fuse([(k, r) for k, _m, r in p.frames], self.plate_min_confidence))
