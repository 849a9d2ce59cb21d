"""Camera health dataflow (C1–C4): wiring only.

camera frames ──decode (SHA-256)──▶ camera:ID ──CameraHealth──▶ camera_health (per camera and window)
│                                             │                 camera_state_changes, alerts (tamper, noncompliant)
│                                             └─ evidence frames ──▶ frame archive (when configured)
│           (camera_id, ts) ──▶ site ──OutageWatch──▶ alerts (camera_outage)
└─ corrupt/truncated JPEG, bad metadata ──────────────▶ dead_letters (table, and topic)
Alerts go to the ``alerts`` table and, with Kafka, the alerts topic.

Replay: ``camera.frames/frames.jsonl`` + JPEG files (any camera; ``camera_id`` and ``ts`` required);
Kafka: topic ``quaywatch.camera.frames``, JPEG bytes in the value, metadata in the headers.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bytewax.operators as op
import numpy as np
from bytewax.dataflow import Dataflow
from bytewax.operators import StatefulLogic

from connectors.archive import FrameArchive
from connectors.camera_frames import CameraFramesReplaySource
from connectors.frames import ERROR_HEADER
from flows.config import Config
from flows.io import FlowIO
from operators.alerts import Alert, alert_message, alert_record
from operators.camera_compliance import OutageWatch
from operators.camera_frames import STREAM_CAMERA_FRAMES, CameraFrameError, CameraFrameMeta, camera_frame_meta
from operators.camera_health import CameraHealth, HealthOutput
from operators.camera_tamper import FrameRef, TamperParams
from operators.events import DeadLetter, RawEvent, dead_letter_message
from operators.frames import FrameError, decode_jpeg
from operators.rows import Rows, dead_letter_rows

FLOW = "cameras"
STREAMS: tuple[str, ...] = (STREAM_CAMERA_FRAMES,)


def replay_source(directory: Path) -> CameraFramesReplaySource:
    """The replay source of this flow: the ``camera.frames/`` folder of a replay directory."""
    return CameraFramesReplaySource(directory)


@dataclass(frozen=True)
class DecodedFrame:
    """A frame that decoded, named by its SHA-256 (the archive key)."""

    meta: CameraFrameMeta
    key: str
    position: str
    image: np.ndarray
    data: bytes


def decode_frame(raw: RawEvent) -> DecodedFrame | DeadLetter:
    """Metadata + JPEG → a decoded frame, or a dead letter with the reason."""
    headers = dict(raw.headers)
    if ERROR_HEADER in headers:
        return DeadLetter.of(FLOW, raw, headers[ERROR_HEADER].decode("utf-8", "replace"))
    data = raw.payload.encode() if isinstance(raw.payload, str) else raw.payload
    key = hashlib.sha256(data).hexdigest()
    summary = json.dumps({"headers": {k: v.decode("utf-8", "replace") for k, v in headers.items()},
                          "bytes": len(data), "sha256": key}, sort_keys=True)
    try:
        meta = camera_frame_meta(headers)
    except CameraFrameError as exc:
        return DeadLetter(FLOW, raw.stream, raw.position, f"frame metadata: {exc}", summary)
    try:
        image = decode_jpeg(data)
    except FrameError as exc:
        return DeadLetter(FLOW, raw.stream, raw.position, str(exc), summary, meta.ts)
    return DecodedFrame(meta, key, raw.position, image, data)


def tamper_params(cfg: Config, camera_id: str) -> TamperParams:
    """Tamper thresholds of one camera (``[cameras.tamper]`` with its ``[cameras.overrides]``)."""
    return TamperParams(**{**cfg.cameras.tamper, **cfg.cameras.overrides.get(camera_id, {}), "flow": FLOW})


def archive_for(cfg: Config) -> FrameArchive | None:
    """The frame archive evidence frames go to (the ``[gate]`` archive), or ``None`` when not configured."""
    if not cfg.gate.archive_dir:
        return None
    return FrameArchive(Path(cfg.gate.archive_dir), cfg.cameras.retention_days or cfg.gate.retention_days)


Out = tuple[str, Any]


class _CameraLogic(StatefulLogic[DecodedFrame, Out, CameraHealth]):
    """Bytewax glue around :class:`CameraHealth`; built from the first frame's camera id."""

    def __init__(self, resume: CameraHealth | None, cfg: Config) -> None:
        self.health = resume
        self.cfg = cfg

    def on_item(self, value: DecodedFrame) -> tuple[Iterable[Out], bool]:
        cam = value.meta.camera_id
        if self.health is None:
            c = self.cfg.cameras
            self.health = CameraHealth(cam, c.role(cam), tamper_params(self.cfg, cam), c.window_s, c.fps_tolerance)
        out = self.health.on_frame(value.image, value.meta.ts, FrameRef(value.key, value.position))
        items = _items(out)
        items.extend(("evidence", (value.data, value.meta.ts)) for k in out.evidence if k == value.key)
        return items, StatefulLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[Out], bool]:
        if self.health is None:
            return [], StatefulLogic.RETAIN
        return _items(self.health.finish()), StatefulLogic.RETAIN

    def snapshot(self) -> CameraHealth:
        assert self.health is not None
        return copy.deepcopy(self.health)


def _items(out: HealthOutput) -> list[Out]:
    items: list[Out] = []
    if out.health:
        items.append(("rows", Rows.from_dicts("camera_health", out.health)))
    if out.changes:
        items.append(("rows", Rows.from_dicts("camera_state_changes", out.changes)))
    items.extend(("alert", a) for a in out.alerts)
    return items


class _OutageLogic(StatefulLogic[tuple[str, Any], Alert, OutageWatch]):
    def __init__(self, resume: OutageWatch | None, gap_s: float) -> None:
        self.watch = resume or OutageWatch(gap_s, FLOW)

    def on_item(self, value: tuple[str, Any]) -> tuple[Iterable[Alert], bool]:
        cam, ts = value
        return self.watch.on_frame(cam, ts), StatefulLogic.RETAIN

    def snapshot(self) -> OutageWatch:
        return copy.deepcopy(self.watch)


def build_flow(cfg: Config, io: FlowIO) -> Dataflow:
    """Build the camera health dataflow.

    Args:
        cfg: Site configuration (``[cameras]`` section; ``[gate]`` archive for evidence frames).
        io: Input, warehouse sink and (with a broker) output topics.

    Returns:
        The dataflow.
    """
    flow = Dataflow(FLOW)
    events, errors = io.inputs(flow)
    decoded = op.map("decode", events, decode_frame)
    frames = op.filter_map("frames", decoded, lambda x: x if isinstance(x, DecodedFrame) else None)
    bad = op.filter_map("bad_frames", decoded, lambda x: x if isinstance(x, DeadLetter) else None)
    keyed = op.key_on("by_camera", frames, lambda f: f.meta.camera_id)
    cam_out = op.key_rm("camera_out", op.stateful("health", keyed, lambda resume: _CameraLogic(resume, cfg)))
    beats = op.map("heartbeat", frames, lambda f: ("site", (f.meta.camera_id, f.meta.ts)))
    outages = op.key_rm("outage_out", op.stateful("outages", beats,
                                                  lambda resume: _OutageLogic(resume, cfg.cameras.outage_gap_s)))
    tables = op.filter_map("health_rows", cam_out, lambda kv: kv[1] if kv[0] == "rows" else None)
    tamper_alerts = op.filter_map("tamper_alerts", cam_out, lambda kv: kv[1] if kv[0] == "alert" else None)
    alerts = op.merge("alerts", tamper_alerts, outages)
    archive = archive_for(cfg)
    if archive is not None:
        evidence = op.filter_map("evidence", cam_out, lambda kv: kv[1] if kv[0] == "evidence" else None)

        def keep(_step: str, ev: tuple[bytes, Any]) -> None:
            archive.put(ev[0], ev[1])

        op.inspect("archive_evidence", evidence, keep)
    alert_rows = op.map("alert_rows", alerts, lambda a: Rows.from_dicts("alerts", [alert_record(a)]))
    dead = op.merge("dead_letters", bad, *([errors] if errors is not None else []))
    if io.publish is not None:
        io.publish("dead_letters", op.map("dead_letter_msg", dead, dead_letter_message))
        io.publish("alerts", op.map("alert_msg", alerts, alert_message))
    rows = op.merge("rows", tables, alert_rows, op.map("dead_letter_rows", dead, dead_letter_rows))
    op.output("warehouse", rows, io.sink)
    return flow
