"""The input-size guard every flow's input passes first (see :mod:`operators.input_limits`)."""

from __future__ import annotations

import json

import bytewax.operators as op
from bytewax.dataflow import Stream

from operators.events import DeadLetter, RawEvent
from operators.input_limits import FRAME_STREAMS, InputLimits, limit_violation, truncated_raw


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
    split = op.branch(f"{step_id}_split", events, lambda e: limit_violation(e.stream, e.payload, limits) is None)

    def dead(e: RawEvent) -> DeadLetter:
        reason = limit_violation(e.stream, e.payload, limits) or "oversize record"
        if e.stream in FRAME_STREAMS:  # a frame's evidence is its metadata and size, not its bytes
            size = len(e.payload.encode() if isinstance(e.payload, str) else e.payload)
            raw = json.dumps({"headers": {k: v.decode("utf-8", "replace") for k, v in e.headers}, "bytes": size},
                             sort_keys=True)
        else:
            raw = truncated_raw(e.payload)
        return DeadLetter(flow_name, e.stream, e.position, reason, raw)

    oversize = op.map(f"{step_id}_dead", split.falses, dead)
    return split.trues, (oversize if errors is None else op.merge(f"{step_id}_errors", oversize, errors))
