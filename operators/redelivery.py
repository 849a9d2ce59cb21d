"""Redelivered records, recognised and dropped within a bounded horizon.

A broker (or a producer retrying, or an operator re-producing a day) may deliver the same record twice. A
byte-identical record of the same stream is the same event: applying it again would
turn it into a late event (dead letter + ``late_data`` alert) and change totals. This filter recognises
records already released within a bounded horizon of event time and drops them, counting them.

Memory is bounded twice: by the event-time horizon (digests of records older than the newest released minus
``horizon_s`` are forgotten) and by ``max_entries`` (the oldest in event time forgotten first). A record redelivered
beyond either bound is treated as any other late record: dead-lettered with the reason, not lost, not applied twice.
"""

from __future__ import annotations

import hashlib
import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from operators.event_order import event_sort_key
from operators.events import RawEvent


def _iso_minus(ts: str, seconds: float) -> str:
    t = datetime.fromisoformat(ts.replace("Z", "+00:00")) - timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


@dataclass
class RedeliveryFilter:
    """Drops byte-identical records of a stream already released (plain state, picklable).

    Attributes:
        horizon_s: Event time (seconds) over which released records are remembered.
        max_entries: Most records remembered.
        dropped: Redelivered records dropped so far.
    """

    horizon_s: float = 86_400.0
    max_entries: int = 500_000
    dropped: int = 0
    seen: set[tuple[str, bytes]] = field(default_factory=set)
    order: list[tuple[str, tuple[str, bytes]]] = field(default_factory=list)  # heap by event time
    newest: str = ""

    def filter(self, released: list[RawEvent]) -> list[RawEvent]:
        """The records of ``released`` (in event-time order) not delivered before."""
        out: list[RawEvent] = []
        for raw in released:
            ts = event_sort_key(raw)  # a camera frame's time is in its headers
            if not ts:  # undated: the decoder judges it (and dead-letters it with its position)
                out.append(raw)
                continue
            h = hashlib.blake2b(raw.payload if isinstance(raw.payload, bytes) else raw.payload.encode(), digest_size=12)
            for name, value in raw.headers:  # a frame's metadata travels beside its bytes
                h.update(b"\x00" + name.encode() + b"\x00" + value)
            key = (raw.stream, h.digest())
            if key in self.seen:
                self.dropped += 1
                continue
            self.seen.add(key)
            heapq.heappush(self.order, (ts, key))
            self.newest = max(self.newest, ts)
            out.append(raw)
        self._evict()
        return out

    def copy(self) -> RedeliveryFilter:
        """A snapshot: the entries are immutable, so copying the containers is enough (far cheaper than deepcopy)."""
        return RedeliveryFilter(self.horizon_s, self.max_entries, self.dropped, set(self.seen), list(self.order),
                                self.newest)

    def _evict(self) -> None:
        if not self.order:
            return
        cutoff = _iso_minus(self.newest, self.horizon_s)
        order, seen = self.order, self.seen
        while order and (len(order) > self.max_entries or order[0][0] < cutoff):
            seen.discard(heapq.heappop(order)[1])
