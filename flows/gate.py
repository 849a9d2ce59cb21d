"""Gate OCR dataflow (G1, G4): wiring only.

camera frames ──decode, archive (SHA-256)──▶ OCR read ──lane:GATE/LANE──▶ passages (LanePassages)
│                                                                        ├─▶ gate_reads (one row per frame)
│                                                                        └─▶ gate_passages (+ topic gate.passages)
└─ corrupt/truncated JPEG, bad metadata ──────────────────────────────────▶ dead_letters (table, and topic)

pre-gate notices ──decode──────────────────────┐
exit status (containers flow) ──decode─────────┤
passages (at the LPR frame, and each closed edition) ──▶ pregate join (one state per site, event time)
                                                        ├─▶ gate_decisions (+ topic gate.decisions, key lane)
                                                        ├─▶ gate_registrations (checkpoint 3, degraded, regularised)
                                                        └─▶ alerts (divert, notice conflict, degraded admission)

read records (gate.reads: cameras reading on board, the shift simulator) ──▶ passages (as OCR output)

Replay: ``gate.frames/frames.jsonl`` + JPEG files, ``gate.pregate.jsonl``, ``gate.reads.jsonl`` and
``containers.exit_status.jsonl`` (written by the containers flow's replay, :mod:`operators.exit_status`);
Kafka: JPEG bytes in the value, metadata in the headers; notices, read records and exit statuses as JSON.
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
from connectors.frames import ERROR_HEADER
from connectors.gate_replay import GateReplaySource
from flows.config import Config
from flows.io import FlowIO
from flows.ocr_cli import camera_roles
from operators.alerts import alert_message, alert_record
from operators.declaration_balance import BalanceRule
from operators.events import DeadLetter, RawEvent, dead_letter_message
from operators.exit_status import STREAM_EXIT_STATUS, ExitStatus, ExitStatusError, decode_status
from operators.frames import STREAM_GATE_FRAMES, FrameError, decode_jpeg, frame_meta
from operators.gate_decision import DecisionPolicy, PassageView
from operators.gate_decision_rows import decision_message, decision_record, passage_view
from operators.gate_fusion import fuse
from operators.gate_join import Emitted, PregateJoin
from operators.gate_passages import ClosedPassage, FrameMeta, LanePassages, OpenPassage
from operators.gate_read_events import STREAM_GATE_READS, ReadError, decode_read
from operators.gate_rows import passage_message, passage_record, read_record
from operators.ocr.engine import OcrEngine, make_engine
from operators.ocr.reader import FrameRead, read_frame
from operators.pregate import STREAM_GATE_PREGATE, Notice, NoticeError, decode_notice
from operators.rows import Rows, dead_letter_rows

FLOW = "gate"
STREAMS: tuple[str, ...] = (STREAM_GATE_FRAMES, STREAM_GATE_PREGATE, STREAM_EXIT_STATUS, STREAM_GATE_READS)
_ENGINES: dict[tuple[str, int], OcrEngine] = {}


def replay_source(directory: Path) -> GateReplaySource:
    """The replay source of this flow: ``gate.frames/`` and ``gate.pregate.jsonl`` of a replay directory."""
    return GateReplaySource(directory)


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
    received: datetime | None = None


@dataclass(frozen=True)
class ReadFrame:
    """A frame after OCR."""

    meta: FrameMeta
    key: str
    position: str
    read: FrameRead
    received: datetime | None = None


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
    return DecodedFrame(meta, key, raw.position, image, datetime.now(UTC))


class _LaneLogic(StatefulLogic[ReadFrame, tuple[str, Any], LanePassages]):
    """Bytewax glue around :class:`LanePassages`; closes an idle passage after the gap (wall clock, live runs).

    A passage closed by the idle timer and then continued by a late frame is re-fused into a new edition,
    so the final rows do not depend on when the timer fired.
    """

    def __init__(self, resume: LanePassages | None, cfg: Config) -> None:
        g = cfg.gate
        self.lanes = resume or LanePassages(g.passage_gap_s, g.max_frames_per_passage,
                                            plate_min_confidence=g.plate_confidence())
        self.gap = timedelta(seconds=g.passage_gap_s)
        self.engine = g.engine
        self.deadline: datetime | None = None
        self.lpr_received: dict[str, datetime | None] = {}  # passage → when its LPR frame entered the flow

    def on_item(self, value: ReadFrame) -> tuple[Iterable[tuple[str, Any]], bool]:
        pid, closed = self.lanes.on_frame(value.key, value.meta, value.read)
        rec = read_record(value.meta, value.key, pid, self.engine, value.read, value.position)
        self.deadline = datetime.now(UTC) + self.gap
        out: list[tuple[str, Any]] = [("read", rec), *self._closed(closed)]
        cur = self.lanes.open
        if value.meta.checkpoint == 2 and cur is not None and cur.passage_id == pid:
            # the LPR frame: decide now, on what the passage holds (the barrier must not wait for its close)
            self.lpr_received[pid] = value.received
            while len(self.lpr_received) > self.lanes.keep_closed + 1:
                del self.lpr_received[next(iter(self.lpr_received))]
            snap = OpenPassage(cur.passage_id, cur.gate_id, cur.lane_id, list(cur.frames), cur.edition)
            fused = fuse([(k, r) for k, _m, r in snap.frames], self.lanes.plate_min_confidence)
            out.append(("decide", (ClosedPassage(snap, fused), value.received)))
        return out, StatefulLogic.RETAIN

    def _closed(self, closed: list[ClosedPassage]) -> list[tuple[str, Any]]:
        """Closed passages: to the table, and to the decision (with their LPR frame's arrival time)."""
        out: list[tuple[str, Any]] = []
        for c in closed:
            out += [("passage", c), ("decide", (c, self.lpr_received.get(c.passage.passage_id)))]
        return out

    def on_notify(self) -> tuple[Iterable[tuple[str, Any]], bool]:
        self.deadline = None
        return self._closed(self.lanes.finish()), StatefulLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[tuple[str, Any]], bool]:
        return self._closed(self.lanes.finish()), StatefulLogic.RETAIN

    def notify_at(self) -> datetime | None:
        return self.deadline if self.lanes.open is not None else None

    def snapshot(self) -> LanePassages:
        return copy.deepcopy(self.lanes)  # the arrival times of LPR frames are wall-clock only: not snapshotted


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
    frame_events = op.filter("frame_events", events,
                             lambda raw: raw.stream not in (STREAM_GATE_PREGATE, STREAM_EXIT_STATUS,
                                                            STREAM_GATE_READS))
    status_events = op.filter("status_events", events, lambda raw: raw.stream == STREAM_EXIT_STATUS)
    notice_events = op.filter("notice_events", events, lambda raw: raw.stream == STREAM_GATE_PREGATE)
    decoded = op.map("decode", frame_events, lambda raw: decode_frame(raw, archive))
    frames = op.filter_map("frames", decoded, lambda x: x if isinstance(x, DecodedFrame) else None)
    bad = op.filter_map("bad_frames", decoded, lambda x: x if isinstance(x, DeadLetter) else None)

    def ocr(fr: DecodedFrame) -> tuple[str, ReadFrame]:
        engine = engine_for(cfg.gate.engine, cfg.gate.threads)
        read = read_frame(engine, fr.image, fr.meta.camera_id, roles, cfg.gate.det_max_side)
        return f"{fr.meta.gate_id}/{fr.meta.lane_id}", ReadFrame(fr.meta, fr.key, fr.position, read, fr.received)

    # read records (cameras that read on board, the shift simulator) join the OCR output before the lanes
    read_records = op.map("decode_read", op.filter("read_events", events, lambda raw: raw.stream == STREAM_GATE_READS),
                          _decode_read)
    bad_reads = op.filter_map("bad_reads", read_records, lambda x: x if isinstance(x, DeadLetter) else None)
    keyed = op.merge("lane_in", op.map("ocr", frames, ocr),
                     op.filter_map("reads", read_records, lambda x: x if isinstance(x, tuple) else None))
    lane_out = op.key_rm("lane_out", op.stateful("passages", keyed, lambda resume: _LaneLogic(resume, cfg)))
    reads = op.filter_map("gate_reads", lane_out,
                          lambda kv: Rows.from_dicts("gate_reads", [kv[1]]) if kv[0] == "read" else None)
    passages = op.filter_map("passages_out", lane_out, lambda kv: kv[1] if kv[0] == "passage" else None)
    passage_rows = op.map("gate_passages", passages,
                          lambda c: Rows.from_dicts("gate_passages", [passage_record(c)]))
    notices = op.map("decode_notice", notice_events, _decode_notice)
    bad_notices = op.filter_map("bad_notices", notices, lambda x: x if isinstance(x, DeadLetter) else None)
    good_notices = op.filter_map("good_notices", notices, lambda x: x if isinstance(x, Notice) else None)
    # one stream straight from the lane state: the LPR-time view of a passage precedes its closed editions;
    # notices first: within one batch they reach the book before the passages (the book is read as of the
    # LPR time, so a notice sent after a passage does not affect it)
    views = op.filter_map("views", lane_out, lambda kv: passage_view(*kv[1]) if kv[0] == "decide" else None)
    statuses = op.map("decode_status", status_events, _decode_status)
    bad_statuses = op.filter_map("bad_statuses", statuses, lambda x: x if isinstance(x, DeadLetter) else None)
    good_statuses = op.filter_map("good_statuses", statuses, lambda x: None if isinstance(x, DeadLetter) else x)
    to_join = op.merge("join_in", good_notices, good_statuses, views)
    dc, eb = cfg.gate_decisions, cfg.exit_balance
    policy = DecisionPolicy(outage_after=timedelta(minutes=dc.outage_after_min),
                            balance_rule=BalanceRule(eb.warn_pct, eb.block_pct),
                            exit_match_window=timedelta(minutes=eb.match_window_min))

    def join(state: PregateJoin | None, item: Any) -> tuple[PregateJoin, list[Emitted]]:
        state = state or PregateJoin(policy, timedelta(hours=dc.notice_validity_h), dc.keep_recent,
                                     timedelta(hours=dc.regularise_within_h))
        if isinstance(item, Notice):
            return state, state.on_notice(item)
        if isinstance(item, PassageView):
            return state, state.on_passage(item)
        return state, state.on_status(item)

    emitted = op.flat_map("emitted", op.stateful_map("pregate_join", op.key_on("site", to_join,
                                                                                lambda _x: "site"), join),
                          lambda kv: kv[1])
    decision_rows = op.filter_map("decision_rows", emitted, _rows)
    dead = op.merge("dead_letters", bad, bad_notices, bad_statuses, bad_reads,
                    *([errors] if errors is not None else []))
    if io.publish is not None:
        io.publish("dead_letters", op.map("dead_letter_msg", dead, dead_letter_message))
        io.publish("gate.passages", op.map("passage_msg", passages, _message))
        io.publish("gate.decisions", op.filter_map("decision_msg", emitted, _decision_message))
        io.publish("alerts", op.filter_map("alert_msg", emitted, lambda e: alert_message(e.alert) if e.alert else None))
    rows = op.merge("rows", reads, passage_rows, decision_rows, op.map("dead_letter_rows", dead, dead_letter_rows))
    op.output("warehouse", rows, io.sink)
    return flow


def _message(c: ClosedPassage) -> tuple[bytes, bytes]:
    return passage_message(c)


def _decode_notice(raw: RawEvent) -> Notice | DeadLetter:
    try:
        return decode_notice(raw.payload)
    except NoticeError as exc:
        return DeadLetter.of(FLOW, raw, f"pre-gate notice: {exc}")


def _decode_status(raw: RawEvent) -> ExitStatus | DeadLetter:
    try:
        return decode_status(raw.payload)
    except ExitStatusError as exc:
        return DeadLetter.of(FLOW, raw, f"exit status: {exc}")


def _decode_read(raw: RawEvent) -> tuple[str, ReadFrame] | DeadLetter:
    try:
        meta, key, read = decode_read(raw.payload)
    except ReadError as exc:
        return DeadLetter.of(FLOW, raw, f"read record: {exc}")
    return f"{meta.gate_id}/{meta.lane_id}", ReadFrame(meta, key, raw.position, read, datetime.now(UTC))


def _rows(e: Emitted) -> Rows | None:
    if e.decision is not None:
        return Rows.from_dicts("gate_decisions", [decision_record(e.decision, e.edition, e.wall)])
    if e.registration is not None:
        return Rows.from_dicts("gate_registrations", [e.registration])
    if e.alert is not None:
        return Rows.from_dicts("alerts", [alert_record(e.alert)])
    return None


def _decision_message(e: Emitted) -> tuple[bytes, bytes] | None:
    return decision_message(e.decision, e.edition, e.wall) if e.decision is not None else None
