"""The event-time reorder step for broker input (see :mod:`operators.event_order`)."""

from __future__ import annotations

import copy
import logging
import time
from datetime import UTC, datetime, timedelta

import bytewax.operators as op
from bytewax.dataflow import Stream
from bytewax.operators import StatefulBatchLogic

from operators.event_order import EventTimeOrder
from operators.events import RawEvent
from operators.redelivery import RedeliveryFilter

log = logging.getLogger(__name__)

_KEY = "order"


class _OrderLogic(StatefulBatchLogic[RawEvent, RawEvent, EventTimeOrder]):
    def __init__(self, state: EventTimeOrder) -> None:
        self.state = state

    def on_batch(self, values: list[RawEvent]) -> tuple[list[RawEvent], bool]:
        return self.state.push(values, time.time()), StatefulBatchLogic.RETAIN

    def notify_at(self) -> datetime | None:
        # while events are held, look again shortly: a source may have gone idle in the meantime
        return datetime.now(UTC) + timedelta(seconds=1) if self.state.heap else None

    def on_notify(self) -> tuple[list[RawEvent], bool]:
        return self.state.tick(time.time()), StatefulBatchLogic.RETAIN

    def on_eof(self) -> tuple[list[RawEvent], bool]:
        return self.state.flush(), StatefulBatchLogic.RETAIN

    def snapshot(self) -> EventTimeOrder:
        return copy.deepcopy(self.state)


class _RedeliveryLogic(StatefulBatchLogic[RawEvent, RawEvent, RedeliveryFilter]):
    def __init__(self, state: RedeliveryFilter) -> None:
        self.state = state

    def on_batch(self, values: list[RawEvent]) -> tuple[list[RawEvent], bool]:
        before = self.state.dropped
        out = self.state.filter(values)
        if self.state.dropped > before:
            log.info("dropped %d redelivered record(s) (%d in all)", self.state.dropped - before, self.state.dropped)
        return out, StatefulBatchLogic.RETAIN

    def snapshot(self) -> RedeliveryFilter:
        return self.state.copy()


def _restarted(state: EventTimeOrder) -> EventTimeOrder:
    state.restarted(time.time())
    return state


def event_time_ordered(step_id: str, up: Stream[RawEvent], topics: tuple[str, ...] = (), idle_s: float = 5.0,
                       pending_s: float = 15.0, max_buffer: int = 200_000,
                       redelivery_horizon_s: float = 86_400.0) -> Stream[RawEvent]:
    """Raw events of several topics/partitions, released in event-time order (one buffer, one worker).

    Args:
        step_id: Step id.
        up: Raw events as the broker delivers them.
        topics: Topics expected (each holds the others back at start-up until heard from).
        idle_s: A source caught up (poll marks) and silent this long no longer holds the others back.
        pending_s: How long expected topics not heard from yet hold the others back at start-up.
        max_buffer: Most events held (the oldest are released beyond it).
        redelivery_horizon_s: Byte-identical records of a stream released within this much event time are
            redeliveries and are dropped (see :mod:`operators.redelivery`).

    Returns:
        The same events, in event-time order as far as the sources allow, each once.
    """
    keyed = op.key_on(f"{step_id}_key", up, lambda _r: _KEY)
    ordered = op.stateful_batch(
        f"{step_id}_buffer", keyed,
        lambda resume: _OrderLogic(_restarted(resume) if resume is not None
                                   else EventTimeOrder(idle_s, max_buffer, set(topics), pending_s)))
    once = op.stateful_batch(
        f"{step_id}_redelivery", ordered,
        lambda resume: _RedeliveryLogic(resume if resume is not None else RedeliveryFilter(redelivery_horizon_s)))
    return op.key_rm(f"{step_id}_out", once)
