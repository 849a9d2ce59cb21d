"""Gate OCR dataflow (G1, G4): wiring only.

camera frames ──decode, archive (SHA-256)──▶ OCR read ──lane:GATE/LANE──▶ passages (LanePassages)
│                                                                        ├─▶ gate_reads (one row per frame)
│                                                                        └─▶ gate_passages (+ topic gate.passages)
└─ corrupt/truncated JPEG, bad metadata ──────────────────────────────────▶ dead_letters (table, and topic)

Replay: ``gate.frames/frames.jsonl`` + JPEG files; Kafka: JPEG bytes in the value, metadata in the headers.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bytewax.operators as op
import numpy as np
from bytewax.dataflow import Dataflow
from bytewax.operators import StatefulLogic

from connectors.archive import FrameArchive
from connectors.frames import ERROR_HEADER, FramesReplaySource
from flows.config import Config
from flows.io import FlowIO
from flows.meters import dead_letter_rows
from flows.ocr_cli import camera_roles
from operators.events import DeadLetter, RawEvent, dead_letter_message
from operators.frames import STREAM_GATE_FRAMES, FrameError, decode_jpeg, frame_meta
from operators.gate_passages import ClosedPassage, FrameMeta, LanePassages
from operators.gate_rows import passage_message, passage_record, read_record
from operators.ocr.engine import OcrEngine, make_engine
from operators.ocr.reader import FrameRead, read_frame
from operators.rows import Rows

FLOW = "gate"
STREAMS: tuple[str, ...] = (STREAM_GATE_FRAMES,)
_ENGINES: dict[tuple[str, int], OcrEngine] = {}


def replay_source(directory: Path) -> FramesReplaySource:
    """The replay source of this flow: the ``gate.frames/`` folder of a replay directory."""
    return FramesReplaySource(directory)


def engine_for(name: str, threads: int) -> OcrEngine:
    """One engine per process (loading the models takes seconds)."""
    if (name, threads) not in _ENGINES:
        _ENGINES[(name, threads)] = make_engine(name, threads)
    return _ENGINES[(name, threads)]


@dataclass(frozen=True)
class DecodedFrame:
    """A frame that decoded, archived under its SHA-256."""

    meta: FrameMeta
    key: str
    position: str
    image: np.ndarray


@dataclass(frozen=True)
class ReadFrame:
    """A frame after OCR."""

    meta: FrameMeta
    key: str
    position: str
    read: FrameRead


def archive_for(cfg: Config) -> FrameArchive:
    """The configured frame archive (``<.quaywatch>/archive`` when no directory is set)."""
    root = Path(cfg.gate.archive_dir) if cfg.gate.archive_dir else Path(".quaywatch") / "archive"
    return FrameArchive(root, cfg.gate.retention_days)


def decode_frame(raw: RawEvent, archive: FrameArchive) -> DecodedFrame | DeadLetter:
    """Metadata + JPEG → a decoded, archived frame, or a dead letter with the reason."""
    headers = {k: v for k, v in raw.headers}
    if ERROR_HEADER in headers:
        return DeadLetter.of(FLOW, raw, headers[ERROR_HEADER].decode("utf-8", "replace"))
    data = raw.payload.encode() if isinstance(raw.payload, str) else raw.payload
    described = {k: v.decode("utf-8", "replace") for k, v in headers.items()}
    summary = json.dumps({"headers": described, "bytes": len(data),
                          "sha256": hashlib.sha256(data).hexdigest()}, sort_keys=True)
    try:
        meta = frame_meta(headers)
    except FrameError as exc:
        return DeadLetter(FLOW, raw.stream, raw.position, f"frame metadata: {exc}", summary)
    key = archive.put(data, meta.ts)  # corrupt frames are archived too: they are what the camera sent
    try:
        image = decode_jpeg(data)
    except FrameError as exc:
        return DeadLetter(FLOW, raw.stream, raw.position, str(exc), summary, meta.ts)
    return DecodedFrame(meta, key, raw.position, image)


class _LaneLogic(StatefulLogic[ReadFrame, tuple[str, Any], LanePassages]):
    """Bytewax glue around :class:`LanePassages`; closes an idle passage after the gap (wall clock, live runs).

    A passage closed by the idle timer and then continued by a late frame is re-fused into a new edition,
    so the final rows do not depend on when the timer fired.
    """

    def __init__(self, resume: LanePassages | None, cfg: Config) -> None:
        g = cfg.gate
        self.lanes = resume or LanePassages(g.passage_gap_s, g.max_frames_per_passage)
        self.gap = timedelta(seconds=g.passage_gap_s)
        self.engine = g.engine
        self.deadline: datetime | None = None

    def on_item(self, value: ReadFrame) -> tuple[Iterable[tuple[str, Any]], bool]:
        pid, closed = self.lanes.on_frame(value.key, value.meta, value.read)
        rec = read_record(value.meta, value.key, pid, self.engine, value.read, value.position)
        self.deadline = datetime.now(UTC) + self.gap
        return [("read", rec)] + [("passage", c) for c in closed], StatefulLogic.RETAIN

    def on_notify(self) -> tuple[Iterable[tuple[str, Any]], bool]:
        self.deadline = None
        return [("passage", c) for c in self.lanes.finish()], StatefulLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[tuple[str, Any]], bool]:
        return [("passage", c) for c in self.lanes.finish()], StatefulLogic.RETAIN

    def notify_at(self) -> datetime | None:
        return self.deadline if self.lanes.open is not None else None

    def snapshot(self) -> LanePassages:
        return copy.deepcopy(self.lanes)


def build_flow(cfg: Config, io: FlowIO) -> Dataflow:
    """Build the gate dataflow.

    Args:
        cfg: Site configuration (``[gate]`` section).
        io: Input, warehouse sink and (with a broker) output topics.

    Returns:
        The dataflow.
    """
    flow = Dataflow(FLOW)
    events, errors = io.inputs(flow)
    archive = archive_for(cfg)
    roles = camera_roles(cfg.gate)
    decoded = op.map("decode", events, lambda raw: decode_frame(raw, archive))
    frames = op.filter_map("frames", decoded, lambda x: x if isinstance(x, DecodedFrame) else None)
    bad = op.filter_map("bad_frames", decoded, lambda x: x if isinstance(x, DeadLetter) else None)

    def ocr(fr: DecodedFrame) -> tuple[str, ReadFrame]:
        engine = engine_for(cfg.gate.engine, cfg.gate.threads)
        read = read_frame(engine, fr.image, fr.meta.camera_id, roles, cfg.gate.det_max_side)
        return f"{fr.meta.gate_id}/{fr.meta.lane_id}", ReadFrame(fr.meta, fr.key, fr.position, read)

    keyed = op.map("ocr", frames, ocr)
    lane_out = op.key_rm("lane_out", op.stateful("passages", keyed, lambda resume: _LaneLogic(resume, cfg)))
    reads = op.filter_map("gate_reads", lane_out,
                          lambda kv: Rows.from_dicts("gate_reads", [kv[1]]) if kv[0] == "read" else None)
    passages = op.filter_map("passages_out", lane_out, lambda kv: kv[1] if kv[0] == "passage" else None)
    passage_rows = op.map("gate_passages", passages,
                          lambda c: Rows.from_dicts("gate_passages", [passage_record(c)]))
    dead = op.merge("dead_letters", bad, *([errors] if errors is not None else []))
    if io.publish is not None:
        io.publish("dead_letters", op.map("dead_letter_msg", dead, dead_letter_message))
        io.publish("gate.passages", op.map("passage_msg", passages, _message))
    rows = op.merge("rows", reads, passage_rows, op.map("dead_letter_rows", dead, dead_letter_rows))
    op.output("warehouse", rows, io.sink)
    return flow


def _message(c: ClosedPassage) -> tuple[bytes, bytes]:
    return passage_message(c)
