"""The input-size guard every flow's input passes first (see :mod:`operators.input_limits`).

An oversize record is replaced at once by a small stand-in (:func:`size_stubbed`): the start of the record (a
frame's metadata and size) with the reason in an :data:`OVERSIZE_HEADER` header. Nothing after the guard holds
or reads the record itself; the stand-in can still travel through the Kafka reorder buffer and redelivery
filter (so an oversize record delivered twice is one dead letter, like any other redelivered record) before
:func:`oversize_dead_letters` turns it into its dead letter, ahead of any decoder.
"""

from __future__ import annotations

import json

import bytewax.operators as op
from bytewax.dataflow import Stream

from operators.events import DeadLetter, RawEvent
from operators.input_limits import FRAME_STREAMS, InputLimits, limit_violation, truncated_raw

#: Header of a stand-in for an oversize record: the reason (the dead letter's).
OVERSIZE_HEADER = "x-quaywatch-oversize"


def oversize_stand_in(e: RawEvent, limits: InputLimits) -> RawEvent:
    """``e`` if it is within the limits, else its stand-in: the record's evidence and the reason in a header."""
    reason = limit_violation(e.stream, e.payload, limits)
    if reason is None:  # a producer's own header of that name is not ours: dropped
        if any(name == OVERSIZE_HEADER for name, _v in e.headers):
            return RawEvent(e.stream, e.payload, e.position, tuple(h for h in e.headers if h[0] != OVERSIZE_HEADER))
        return e
    if e.stream in FRAME_STREAMS:  # a frame's evidence is its metadata and size, not its bytes
        size = len(e.payload.encode() if isinstance(e.payload, str) else e.payload)
        raw = json.dumps({"headers": {k: v.decode("utf-8", "replace") for k, v in e.headers}, "bytes": size},
                         sort_keys=True)
    else:
        raw = truncated_raw(e.payload)
    return RawEvent(e.stream, raw, e.position, (*e.headers, (OVERSIZE_HEADER, reason.encode())))


def oversize_reason(e: RawEvent) -> str | None:
    """The reason of a stand-in made by :func:`oversize_stand_in` (``None`` for a record within the limits)."""
    for name, value in e.headers:
        if name == OVERSIZE_HEADER:
            return value.decode("utf-8", "replace")
    return None


def size_stubbed(step_id: str, events: Stream[RawEvent], limits: InputLimits) -> Stream[RawEvent]:
    """The records, each oversize one replaced by its stand-in (see :func:`oversize_stand_in`)."""
    return op.map(step_id, events, lambda e: oversize_stand_in(e, limits))


def oversize_dead_letters(step_id: str, events: Stream[RawEvent], flow_name: str,
                          errors: Stream[DeadLetter] | None = None) -> tuple[Stream[RawEvent], Stream[DeadLetter]]:
    """Split the stand-ins of oversize records off as dead letters.

    Args:
        step_id: Step id.
        events: Records passed through :func:`size_stubbed`.
        flow_name: Flow recorded on the dead letters.
        errors: The source's own dead letters (consumer errors), merged into the returned ones.

    Returns:
        The records within the limits, and the dead letters (oversize records, with the start of the record
        and the reason, plus ``errors``).
    """
    split = op.branch(f"{step_id}_split", events, lambda e: oversize_reason(e) is None)

    def dead(e: RawEvent) -> DeadLetter:
        payload = e.payload if isinstance(e.payload, str) else e.payload.decode("utf-8", "replace")
        return DeadLetter(flow_name, e.stream, e.position, oversize_reason(e) or "oversize record", payload)

    oversize = op.map(f"{step_id}_dead", split.falses, dead)
    return split.trues, (oversize if errors is None else op.merge(f"{step_id}_errors", oversize, errors))


def size_guarded(step_id: str, events: Stream[RawEvent], flow_name: str, limits: InputLimits,
                 errors: Stream[DeadLetter] | None = None) -> tuple[Stream[RawEvent], Stream[DeadLetter]]:
    """Split off the records that exceed the limits, before any decoder parses them.

    Args:
        step_id: Step id.
        events: The raw input.
        flow_name: Flow recorded on the dead letters.
        limits: The limits in force.
        errors: The source's own dead letters (consumer errors), merged into the returned ones.

    Returns:
        The records within the limits, and the dead letters (oversize records, with the start of the record
        and the reason, plus ``errors``).
    """
    return oversize_dead_letters(step_id, size_stubbed(f"{step_id}_stub", events, limits), flow_name, errors)
