"""Warehouse rows and output messages of the gate flow (tables ``gate_reads`` and ``gate_passages``)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from operators.events import iso_ms
from operators.gate_passages import ClosedPassage, FrameMeta
from operators.ocr.reader import FrameRead
from operators.size_type import decode

_PENALTY = 0.8


def read_id(meta: FrameMeta, frame_sha256: str) -> str:
    """Deterministic id of a frame read: gate, lane, camera, event time and the image's SHA-256."""
    h = hashlib.blake2b(digest_size=16)
    for part in (meta.gate_id, meta.lane_id, meta.camera_id, iso_ms(meta.ts), frame_sha256):
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()


def read_record(meta: FrameMeta, frame_sha256: str, passage_id: str, engine: str, read: FrameRead,
                position: str) -> dict[str, Any]:
    """The ``gate_reads`` row of one frame."""
    p, t = read.plate, read.trailer_plate
    return {
        "read_id": read_id(meta, frame_sha256), "frame_sha256": frame_sha256, "gate_id": meta.gate_id,
        "lane_id": meta.lane_id, "checkpoint": meta.checkpoint, "camera_id": meta.camera_id, "ts": meta.ts,
        "passage_id": passage_id, "engine": engine,
        "plate": p.plate if p else None,
        "plate_confidence": round(p.confidence * _PENALTY ** p.substitutions, 4) if p else None,
        "trailer_plate": t.plate if t else None,
        "trailer_plate_confidence": round(t.confidence * _PENALTY ** t.substitutions, 4) if t else None,
        "containers": [c.code for c in read.containers],
        "container_confidence": round(min(c.confidence for c in read.containers), 4) if read.containers else None,
        "rejected_codes": list(read.rejected_codes),
        "size_type": read.size_type.code if read.size_type else None,
        "size_type_confidence": round(read.size_type_confidence, 4) if read.size_type else None,
        "hazard_placard": bool(read.hazard_placard.present), "hazard_confidence": read.hazard_placard.confidence,
        "seal": read.seal.present, "seal_confidence": read.seal.confidence if read.seal.present is not None else None,
        "texts": [ln.text for ln in read.lines], "ms": round(read.ms, 1), "source_position": position,
    }


def passage_record(c: ClosedPassage) -> dict[str, Any]:
    """The ``gate_passages`` row of a closed passage (one edition)."""
    p, f = c.passage, c.fused
    st = decode(str(f.size_type.value)) if f.size_type.value is not None else None
    codes = f.containers.value if isinstance(f.containers.value, tuple) else ()
    return {
        "passage_id": p.passage_id, "edition": p.edition, "gate_id": p.gate_id, "lane_id": p.lane_id,
        "started_at": p.started_at, "ended_at": p.ended_at, "frame_count": len(p.frames),
        "frame_keys": [k for k, _m, _r in p.frames],
        "plate": f.plate.value, "plate_confidence": f.plate.confidence, "plate_frames": list(f.plate.frames),
        "trailer_plate": f.trailer_plate.value, "trailer_plate_confidence": f.trailer_plate.confidence,
        "trailer_plate_frames": list(f.trailer_plate.frames),
        "containers": list(codes), "container_confidence": f.containers.confidence,
        "container_frames": list(f.containers.frames),
        "size_type": f.size_type.value, "length_ft": st.length_ft if st else None,
        "type_group": st.type_group if st else None, "size_type_confidence": f.size_type.confidence,
        "size_type_frames": list(f.size_type.frames),
        "hazard_placard": f.hazard_placard.value, "hazard_confidence": f.hazard_placard.confidence,
        "hazard_frames": list(f.hazard_placard.frames),
        "seal": f.seal.value, "seal_confidence": f.seal.confidence, "seal_frames": list(f.seal.frames),
        "review": f.review, "review_reasons": list(f.review_reasons),
    }


def passage_message(c: ClosedPassage) -> tuple[bytes, bytes]:
    """The ``(lane_id, JSON)`` message of a fused passage for the ``gate.passages`` topic."""
    rec = passage_record(c)
    rec["started_at"], rec["ended_at"] = iso_ms(c.passage.started_at), iso_ms(c.passage.ended_at)
    return c.passage.lane_id.encode(), json.dumps(rec, ensure_ascii=False).encode()
