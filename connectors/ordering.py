"""The event-time reorder step for broker input (see :mod:`operators.event_order`)."""

from __future__ import annotations

import copy

import bytewax.operators as op
from bytewax.dataflow import Stream
from bytewax.operators import StatefulBatchLogic

from operators.event_order import EventTimeOrder
from operators.events import RawEvent

_KEY = "order"


class _OrderLogic(StatefulBatchLogic[RawEvent, RawEvent, EventTimeOrder]):
    def __init__(self, state: EventTimeOrder) -> None:
        self.state = state

    def on_batch(self, values: list[RawEvent]) -> tuple[list[RawEvent], bool]:
        return self.state.push(values), StatefulBatchLogic.RETAIN

    def on_eof(self) -> tuple[list[RawEvent], bool]:
        return self.state.flush(), StatefulBatchLogic.RETAIN

    def snapshot(self) -> EventTimeOrder:
        return copy.deepcopy(self.state)


def event_time_ordered(step_id: str, up: Stream[RawEvent], topics: tuple[str, ...] = (), idle_batches: int = 20,
                       max_buffer: int = 200_000) -> Stream[RawEvent]:
    """Raw events of several topics/partitions, released in event-time order (one buffer, one worker).

    Args:
        step_id: Step id.
        up: Raw events as the broker delivers them.
        topics: Topics expected (each holds the others back at start-up until heard from).
        idle_batches: A source silent for this many batches no longer holds the others back.
        max_buffer: Most events held (the oldest are released beyond it).

    Returns:
        The same events, in event-time order as far as the sources allow.
    """
    keyed = op.key_on(f"{step_id}_key", up, lambda _r: _KEY)
    ordered = op.stateful_batch(
        f"{step_id}_buffer", keyed,
        lambda resume: _OrderLogic(resume if resume is not None
                                   else EventTimeOrder(idle_batches, max_buffer, set(topics))))
    return op.key_rm(f"{step_id}_out", ordered)
