"""Camera read records as input (stream ``gate.reads``): cameras that read on board, and the shift simulator.

A read record is the ``gate_reads`` row the OCR stage writes for a frame (:func:`operators.gate_rows.read_record`):
the frame's metadata (``gate_id``, ``lane_id``, ``checkpoint``, ``camera_id``, ``ts``, optional ``passage_id``),
the image's ``frame_sha256`` (the evidence key) and what was read (``plate`` / ``plate_confidence``,
``trailer_plate`` / ``trailer_plate_confidence``, ``containers`` / ``container_confidence``, ``rejected_codes``,
``size_type`` / ``size_type_confidence``, ``hazard_placard`` / ``hazard_confidence``, ``seal`` /
``seal_confidence``). Decoded, it is the :class:`~operators.ocr.reader.FrameRead` the OCR stage would have
produced, so it takes the same path from the lane state on: passages, fusion, the pre-gate join, decisions.

The reading rules still apply: a container code whose ISO 6346 check digit fails never counts as read, a plate
must follow the plate grammar, a size/type code must decode.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from operators.events import parse_ts
from operators.gate_passages import FrameMeta
from operators.iso6346 import ContainerCandidate, is_valid
from operators.ocr.engine import TextBox
from operators.ocr.marks import Mark
from operators.ocr.reader import FrameRead, LineRead
from operators.plates import PlateCandidate, normalise_plate
from operators.size_type import decode

STREAM_GATE_READS = "gate.reads"
_SHA256_HEX = frozenset("0123456789abcdef")


class ReadError(ValueError):
    """A read record that does not follow the contract."""


def _conf(obj: Mapping[str, Any], key: str, default: float = 1.0) -> float:
    v = obj.get(key)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or not 0.0 <= v <= 1.0:
        raise ReadError(f"{key} must be a number from 0 to 1")
    return float(v)


def _plate(obj: Mapping[str, Any], key: str) -> PlateCandidate | None:
    v = obj.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise ReadError(f"{key} must be a string")
    plate = normalise_plate(v)
    if plate is None:
        raise ReadError(f"{key} {v!r} is not a valid plate")
    return PlateCandidate(plate, 0, _conf(obj, f"{key}_confidence"), spaced=True)


def _mark(obj: Mapping[str, Any], key: str, conf_key: str) -> Mark:
    v = obj.get(key)
    if v is not None and not isinstance(v, bool):
        raise ReadError(f"{key} must be true, false or null")
    return Mark(v, _conf(obj, conf_key, 0.0))


def _strings(obj: Mapping[str, Any], key: str) -> list[str]:
    v = obj.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ReadError(f"{key} must be a list of strings")
    return list(v)


def decode_read(payload: str | bytes) -> tuple[FrameMeta, str, FrameRead]:
    """Decode one read record.

    Args:
        payload: The JSON object.

    Returns:
        ``(frame metadata, frame key, read)``; the key is the record's ``frame_sha256``.

    Raises:
        ReadError: With the reason, when the record breaks the contract.
    """
    try:
        obj = json.loads(payload)
    except ValueError as exc:
        raise ReadError(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise ReadError("not a JSON object")
    try:
        ts = parse_ts(obj.get("ts"))
    except ValueError as exc:
        raise ReadError(str(exc)) from exc
    ids = {}
    for key in ("gate_id", "lane_id", "camera_id", "frame_sha256"):
        v = obj.get(key)
        if not isinstance(v, str) or not v.strip():
            raise ReadError(f"{key} missing")
        ids[key] = v.strip()
    if len(ids["frame_sha256"]) != 64 or not set(ids["frame_sha256"]) <= _SHA256_HEX:
        raise ReadError("frame_sha256 must be 64 lower-case hex digits")
    checkpoint = obj.get("checkpoint")
    if checkpoint not in (1, 2, 3) or isinstance(checkpoint, bool):
        raise ReadError("checkpoint must be 1, 2 or 3")
    pid = obj.get("passage_id")
    if pid is not None and (not isinstance(pid, str) or not pid.strip()):
        raise ReadError("passage_id must be a non-empty string when given")
    conf = _conf(obj, "container_confidence")
    containers = tuple(ContainerCandidate(c.replace(" ", "").upper(), 0, is_valid(c.replace(" ", "").upper()), conf)
                       for c in _strings(obj, "containers"))
    rejected = tuple(_strings(obj, "rejected_codes")) + tuple(c.code for c in containers if not c.check_digit_ok)
    st_code = obj.get("size_type")
    if st_code is not None and not isinstance(st_code, str):
        raise ReadError("size_type must be a string")
    size_type = decode(st_code) if st_code else None
    if st_code and size_type is None:
        raise ReadError(f"size_type {st_code!r} is not an ISO 6346 size/type code")
    ms = obj.get("ms", 0.0)
    meta = FrameMeta(ids["gate_id"], ids["lane_id"], int(checkpoint), ids["camera_id"], ts,
                     pid.strip() if isinstance(pid, str) else None)
    read = FrameRead(
        camera_id=ids["camera_id"], plate=_plate(obj, "plate"), trailer_plate=_plate(obj, "trailer_plate"),
        containers=tuple(c for c in containers if c.check_digit_ok), rejected_codes=rejected, size_type=size_type,
        size_type_confidence=_conf(obj, "size_type_confidence") if size_type else 0.0,
        hazard_placard=_mark(obj, "hazard_placard", "hazard_confidence"), seal=_mark(obj, "seal", "seal_confidence"),
        lines=tuple(LineRead(t, 1.0, TextBox(0, 0, 0, 0)) for t in _strings(obj, "texts")),
        ms=float(ms) if isinstance(ms, int | float) and not isinstance(ms, bool) else 0.0)
    return meta, ids["frame_sha256"], read
