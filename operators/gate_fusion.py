"""Fusing the frames of one passage into one record by voting.

A field is accepted when it validates (container: ISO 6346 check digit; size/type: the code table) or when
at least two independent reads (frames) agree (a plate validates by the grammar, unless a letter had to
be taken from a digit that looks like two letters, ``8`` or ``0``: that read needs a second one).
Otherwise the field is ``None`` and the passage is marked for manual review. Two different candidates
with the same support are a conflict: the field is ``None`` and the passage goes to review; a wrong read
is never chosen by a coin toss.

Container codes that differ in at most two positions are rivals (one is a misread of the other that
happens to validate, ~1 in 10 of multi-error reads): the one with more frames wins, a tie rejects both.
Codes further apart are different containers (two 20 ft boxes on one chassis) and are all kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from operators.ocr.reader import FrameRead
from operators.size_type import decode

SUBSTITUTION_PENALTY = 0.8


@dataclass(frozen=True)
class Field:
    """A fused field: value, confidence 0..1 and the frames it was read from."""

    value: object | None
    confidence: float | None
    frames: tuple[str, ...] = ()


@dataclass(frozen=True)
class FusedPassage:
    """The fused reads of one passage."""

    plate: Field
    trailer_plate: Field
    containers: Field
    size_type: Field
    hazard_placard: Field
    seal: Field
    review: bool
    review_reasons: tuple[str, ...] = field(default=())


def _combine(confs: Sequence[float]) -> float:
    """Confidence that agreeing independent reads are right: 1 - Π(1 - c), capped below 1."""
    p = 1.0
    for c in confs:
        p *= 1.0 - max(0.0, min(1.0, c))
    return round(min(0.999, 1.0 - p), 3)


def _vote(name: str, reads: Sequence[tuple[str, str, float, bool]], reasons: list[str]) -> Field:
    """Vote over ``(value, frame, confidence, validates_alone)`` reads."""
    if not reads:
        return Field(None, None)
    by_value: dict[str, list[tuple[str, float, bool]]] = {}
    for value, frame, conf, alone in reads:
        by_value.setdefault(value, []).append((frame, conf, alone))

    def support(v: str) -> int:
        return len({f for f, _c, _a in by_value[v]})

    qualified = [v for v, rs in by_value.items() if support(v) >= 2 or any(a for _f, _c, a in rs)]
    if not qualified:
        reasons.append(f"{name}: single unconfirmed read")
        return Field(None, None)
    qualified.sort(key=lambda v: (-support(v), v))
    if len(qualified) > 1 and support(qualified[0]) == support(qualified[1]):
        reasons.append(f"{name}: conflicting reads {', '.join(sorted(qualified))}")
        return Field(None, None)
    best = qualified[0]
    rs = by_value[best]
    return Field(best, _combine([c for _f, c, _a in rs]), tuple(sorted({f for f, _c, _a in rs})))


def _rivals(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= 2


def _containers(reads: Sequence[tuple[str, FrameRead]], reasons: list[str]) -> Field:
    votes: dict[str, dict[str, float]] = {}
    for frame, r in reads:
        for c in r.containers:
            if c.check_digit_ok:
                votes.setdefault(c.code, {})[frame] = max(c.confidence, votes.get(c.code, {}).get(frame, 0.0))
    accepted: list[str] = []
    for code in sorted(votes, key=lambda k: (-len(votes[k]), k)):
        rivals = [o for o in votes if o != code and _rivals(o, code)]
        if any(len(votes[o]) > len(votes[code]) for o in rivals):
            continue
        if any(len(votes[o]) == len(votes[code]) for o in rivals):
            reasons.append(f"containers: rival reads {', '.join(sorted([code, *rivals]))}")
            continue
        accepted.append(code)
    if not accepted:
        if not any(votes):
            reasons.append("containers: no valid code read")
        return Field(None, None)
    frames = sorted({f for c in accepted for f in votes[c]})
    confs = [min(_combine(list(votes[c].values())) for c in accepted)]
    return Field(tuple(accepted), confs[0], tuple(frames))


def fuse(reads: Sequence[tuple[str, FrameRead]]) -> FusedPassage:
    """Fuse ``(frame_key, read)`` pairs of one passage.

    Args:
        reads: The passage's frames, each with its archive key.

    Returns:
        The fused record, with the review flag and the reasons.
    """
    reasons: list[str] = []
    plate = _vote("plate", [(r.plate.plate, f, r.plate.confidence * SUBSTITUTION_PENALTY ** r.plate.substitutions,
                             not r.plate.ambiguous) for f, r in reads if r.plate], reasons)
    trailer = _vote("trailer_plate", [
        (r.trailer_plate.plate, f, r.trailer_plate.confidence * SUBSTITUTION_PENALTY ** r.trailer_plate.substitutions,
         not r.trailer_plate.ambiguous) for f, r in reads if r.trailer_plate], reasons)
    st = _vote("size_type", [(r.size_type.code, f, r.size_type_confidence, True) for f, r in reads if r.size_type],
               reasons)
    containers = _containers(reads, reasons)
    if plate.value is None and not any(x.startswith("plate") for x in reasons):
        reasons.append("plate: not read")
    if containers.value is not None and st.value is not None:
        decoded = decode(str(st.value))
        limit = 2 if decoded is not None and decoded.length_ft <= 20 else 1
        if isinstance(containers.value, tuple) and len(containers.value) > limit:
            reasons.append(f"containers: {len(containers.value)} codes for size {st.value}")

    placard_yes = [(f, r.hazard_placard.confidence) for f, r in reads if r.hazard_placard.present]
    placard_no = [r.hazard_placard.confidence for _f, r in reads if r.hazard_placard.present is False]
    if placard_yes:
        hazard = Field(True, _combine([c for _f, c in placard_yes]), tuple(f for f, _c in placard_yes))
    elif placard_no:
        hazard = Field(False, round(min(placard_no), 3), ())
    else:
        hazard = Field(None, None)

    seal_yes = [(f, r.seal.confidence) for f, r in reads if r.seal.present]
    seal_no = [(f, r.seal.confidence) for f, r in reads if r.seal.present is False]
    if seal_yes:
        seal = Field(True, _combine([c for _f, c in seal_yes]), tuple(f for f, _c in seal_yes))
    elif seal_no:
        seal = Field(False, round(max(c for _f, c in seal_no), 3), tuple(f for f, _c in seal_no))
    else:
        seal = Field(None, None)
    review = plate.value is None or containers.value is None or bool(reasons)
    return FusedPassage(plate, trailer, containers, st, hazard, seal, review, tuple(reasons))


def passage_json(fused: FusedPassage, images: Sequence[str] = (), ms: float | None = None) -> dict[str, object]:
    """The ``quaywatch ocr --passage`` JSON object."""
    st = str(fused.size_type.value) if fused.size_type.value is not None else None
    codes = fused.containers.value if isinstance(fused.containers.value, tuple) else ()
    out: dict[str, object] = {
        "images": list(images), "plate": fused.plate.value, "trailer_plate": fused.trailer_plate.value,
        "containers": [{"number": c, "check_digit_ok": True, "size_type": st} for c in codes],
        "size_type": st, "hazard_placard": fused.hazard_placard.value, "seal": fused.seal.value,
        "confidence": {k: getattr(fused, k).confidence for k in
                       ("plate", "trailer_plate", "containers", "size_type", "hazard_placard", "seal")},
        "frames": {k: list(getattr(fused, k).frames) for k in
                   ("plate", "trailer_plate", "containers", "size_type", "hazard_placard", "seal")},
        "review": fused.review, "review_reasons": list(fused.review_reasons),
    }
    if ms is not None:
        out["ms"] = round(ms, 1)
    return out
