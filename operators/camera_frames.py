"""Camera-health frame metadata: the ``camera.frames`` stream (any camera: gate, meter area, warehouse view).

Same shape as the gate frames contract, with only ``camera_id`` and ``ts`` required (``gate_id``,
``lane_id``, ``checkpoint`` and others may be present and are ignored), so every camera of the site can be
monitored. Kafka: topic ``quaywatch.camera.frames``, key ``camera_id``, value = JPEG bytes, metadata in
headers; replay: folder ``camera.frames/`` with the JPEGs and a ``frames.jsonl`` manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from operators.events import EventError, parse_ts

STREAM_CAMERA_FRAMES = "camera.frames"


class CameraFrameError(ValueError):
    """Frame metadata violating the contract; the message is the dead-letter reason."""


@dataclass(frozen=True)
class CameraFrameMeta:
    """Contract metadata of a camera-health frame."""

    camera_id: str
    ts: datetime


def camera_frame_meta(fields: Mapping[str, Any]) -> CameraFrameMeta:
    """Metadata from manifest fields or Kafka headers (values may be bytes).

    Raises:
        CameraFrameError: On a missing or invalid ``camera_id`` or ``ts``.
    """
    def text(name: str) -> str:
        v = fields.get(name)
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        if v is None or str(v).strip() == "":
            raise CameraFrameError(f"{name}: missing")
        return str(v)

    camera_id = text("camera_id")
    try:
        ts = parse_ts(text("ts"))
    except EventError as exc:
        raise CameraFrameError(str(exc)) from exc
    return CameraFrameMeta(camera_id, ts)
