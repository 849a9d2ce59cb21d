"""Camera frames: contract metadata and strict JPEG decoding (corrupt or truncated → a dead-letter reason)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from operators.events import EventError, parse_ts
from operators.gate_passages import FrameMeta

STREAM_GATE_FRAMES = "gate.frames"


class FrameError(ValueError):
    """A frame is not a decodable JPEG or its metadata violates the contract; the message is the reason."""


def decode_jpeg(data: bytes) -> np.ndarray:
    """Decode JPEG bytes to a BGR image, refusing corrupt and truncated files.

    OpenCV decodes a truncated JPEG with a warning and grey rows; the end-of-image marker is therefore
    required (trailing padding after it is allowed).

    Raises:
        FrameError: With the reason.
    """
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        raise FrameError("not a JPEG (no start-of-image marker)")
    if b"\xff\xd9" not in data[-64:]:
        raise FrameError("truncated JPEG (no end-of-image marker)")
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None or img.size == 0:
        raise FrameError("corrupt JPEG (cannot be decoded)")
    out: np.ndarray = img
    return out


def frame_meta(fields: Mapping[str, Any]) -> FrameMeta:
    """Contract metadata from manifest fields or Kafka headers (values may be bytes).

    Raises:
        FrameError: On a missing or invalid field.
    """
    def text(name: str, required: bool = True) -> str | None:
        v = fields.get(name)
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        if v is None or v == "":
            if required:
                raise FrameError(f"{name}: missing")
            return None
        return str(v)

    try:
        ts = parse_ts(text("ts"))
    except EventError as exc:
        raise FrameError(str(exc)) from exc
    cp = text("checkpoint")
    try:
        checkpoint = int(str(cp))
    except ValueError as exc:
        raise FrameError(f"checkpoint: not a number: {cp!r}") from exc
    if checkpoint not in (1, 2, 3):
        raise FrameError(f"checkpoint: must be 1, 2 or 3, got {checkpoint}")
    return FrameMeta(gate_id=str(text("gate_id")), lane_id=str(text("lane_id")), checkpoint=checkpoint,
                     camera_id=str(text("camera_id")), ts=ts, passage_id=text("passage_id", required=False))


def manifest_fields(line: str) -> dict[str, Any]:
    """The fields of one ``frames.jsonl`` line.

    Raises:
        FrameError: When the line is not a JSON object.
    """
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise FrameError(f"manifest line is not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise FrameError("manifest line is not a JSON object")
    return obj
