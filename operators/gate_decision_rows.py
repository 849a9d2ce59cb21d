"""Warehouse rows and barrier messages of gate decisions (table ``gate_decisions``, topic ``gate.decisions``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from operators.events import iso_ms
from operators.gate_decision import Decision, PassageView
from operators.gate_passages import ClosedPassage


def decision_record(d: Decision, edition: int, wall: datetime | None = None) -> dict[str, Any]:
    """The ``gate_decisions`` row of one decision edition.

    ``latency_ms`` is measured wall time from the LPR frame entering the flow to the decision (``None`` when
    the arrival time is unknown); ``latency_event_ms`` is event time from the LPR frame to the decision,
    which is taken at the LPR frame itself (0) unless a later edition of the passage changed it.
    """
    p = d.passage
    decided = wall or datetime.now(UTC)
    latency = (decided - p.received_wall).total_seconds() * 1000 if p.received_wall is not None else None
    return {
        "passage_id": p.passage_id, "edition": edition, "gate_id": p.gate_id, "lane_id": p.lane_id,
        "ts": p.lpr_ts, "decision": d.decision, "reasons": list(d.reasons), "details": list(d.details),
        "notice_id": d.notice_id, "plate": p.plate, "trailer_plate": p.trailer_plate,
        "containers": list(p.containers), "size_type": p.size_type, "hazard_placard": p.hazard_placard,
        "seal": p.seal, "degraded": d.degraded, "risk_flags": list(d.risk_flags), "evidence_frames": list(p.frames),
        "latency_ms": round(latency, 1) if latency is not None else None, "latency_event_ms": 0,
        "decided_wall": decided,
    }


def decision_message(d: Decision, edition: int, wall: datetime | None = None) -> tuple[bytes, bytes]:
    """The ``(lane_id, JSON)`` barrier message for the decisions topic."""
    rec = decision_record(d, edition, wall)
    body = {k: (iso_ms(v) if isinstance(v, datetime) else v) for k, v in rec.items()}
    return d.passage.lane_id.encode(), json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def passage_view(c: ClosedPassage, received_wall: datetime | None = None) -> PassageView:
    """The decision's view of a fused passage: LPR time = the latest checkpoint-2 frame (else the first frame)."""
    p, f = c.passage, c.fused
    lpr = [m.ts for _k, m, _r in p.frames if m.checkpoint == 2]
    codes = f.containers.value if isinstance(f.containers.value, tuple) else ()
    placard = f.hazard_placard.value if isinstance(f.hazard_placard.value, bool) else None
    seal = f.seal.value if isinstance(f.seal.value, bool) else None
    return PassageView(
        passage_id=p.passage_id, gate_id=p.gate_id, lane_id=p.lane_id,
        lpr_ts=max(lpr) if lpr else p.started_at,
        plate=str(f.plate.value) if f.plate.value is not None else None,
        trailer_plate=str(f.trailer_plate.value) if f.trailer_plate.value is not None else None,
        containers=tuple(str(x) for x in codes),
        size_type=str(f.size_type.value) if f.size_type.value is not None else None,
        hazard_placard=placard, seal=seal, review_reasons=f.review_reasons,
        frames=tuple(k for k, _m, _r in p.frames), received_wall=received_wall)
