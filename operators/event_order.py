"""Event-time order across the sources of a broker: what makes a live run reproduce the replay.

A replay directory is merged in event time before the flow sees it. A broker is not: each topic
partition is consumed at its own pace, and a small topic (transfer documents) may be read in one poll,
hours of event time ahead of the meter readings. This buffer releases events in event-time order once
every *live* source has delivered an event at least as new — the minimum over live sources of their
latest event time is the watermark. A source that delivered nothing in the last ``idle_batches`` batches
is idle and does not hold the watermark back, so a quiet topic or a dead partition cannot stop the flow.
Topics expected but not yet heard from hold everything for the first ``idle_batches`` batches, so a topic
whose first poll comes late (the documents) is not overtaken at start-up.
The buffer is bounded: past ``max_buffer`` events the oldest are released anyway.

Events without a readable ``ts`` are released at once (the decoder dead-letters them with the reason).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from operators.events import RawEvent

_TS = '"ts"'


def ts_sort_key(payload: bytes | str) -> str:
    """The event's ``ts`` as text for ordering (ISO 8601 UTC ``...Z`` sorts as time); ``""`` when absent.

    Only the canonical form (``YYYY-MM-DDTHH:MM:SS.mmmZ``, what every producer of ours writes) is ordered;
    any other form is released at once and the decoder judges it.
    """
    text = payload if isinstance(payload, str) else payload[:4096].decode("utf-8", "replace")
    i = text.find(_TS)
    if i < 0:
        return ""
    j = text.find('"', text.find(":", i + 4) + 1)
    k = text.find('"', j + 1)
    if j < 0 or k < 0:
        return ""
    value = text[j + 1 : k]
    return value if len(value) == 24 and value[-1] == "Z" and value[10] == "T" else ""


def source_of(position: str) -> str:
    """Source of a record from its position: ``topic/partition`` (Kafka) or the file name (replay)."""
    return position.rsplit("@", 1)[0] if "@" in position else position.split(":", 1)[0]


@dataclass
class EventTimeOrder:
    """Reorder buffer (plain state, picklable).

    Attributes:
        idle_batches: A source silent for this many batches no longer holds the watermark.
        max_buffer: Most events held; beyond it the oldest are released.
        pending: Topics expected but not heard from yet.
    """

    idle_batches: int = 20
    max_buffer: int = 200_000
    pending: set[str] = field(default_factory=set)
    heap: list[tuple[str, int, RawEvent]] = field(default_factory=list)
    latest: dict[str, str] = field(default_factory=dict)
    last_batch: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    seq: int = 0

    def push(self, batch: list[RawEvent]) -> list[RawEvent]:
        """Add a batch; returns the events now due, in event-time order."""
        self.batches += 1
        out: list[RawEvent] = []
        for raw in batch:
            key = ts_sort_key(raw.payload)
            if not key:
                out.append(raw)
                continue
            src = source_of(raw.position)
            if self.pending:
                self.pending.discard(src.rsplit("/", 1)[0])
            self.last_batch[src] = self.batches
            if key > self.latest.get(src, ""):
                self.latest[src] = key
            heapq.heappush(self.heap, (key, self.seq, raw))
            self.seq += 1
        mark = self.watermark()
        heap = self.heap
        while heap and (heap[0][0] <= mark or len(heap) > self.max_buffer):
            out.append(heapq.heappop(heap)[2])
        return out

    def watermark(self) -> str:
        """The oldest latest-event time among live sources (``""`` when none, or while waiting for a topic)."""
        if self.pending and self.batches < self.idle_batches:
            return ""
        live = [t for s, t in self.latest.items() if self.batches - self.last_batch[s] < self.idle_batches]
        return min(live) if live else ""

    def flush(self) -> list[RawEvent]:
        """Everything still held, in event-time order (end of input)."""
        out = [heapq.heappop(self.heap)[2] for _ in range(len(self.heap))]
        return out
