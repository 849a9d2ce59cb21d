"""Event-time order across the sources of a broker: what makes a live run reproduce the replay.

A replay directory is merged in event time before the flow sees it. A broker is not: each topic
partition is consumed at its own pace, and a small topic (transfer documents) may be read in one poll,
hours of event time ahead of the meter readings. This buffer releases events in event-time order once
every *live* source has delivered an event at least as new — the minimum over live sources of their
latest event time is the watermark. A source that delivered nothing for ``idle_s`` seconds of *arrival*
time is idle and does not hold the watermark back, so a quiet topic or a dead partition cannot stop the
flow. Topics expected but not yet heard from hold everything for ``pending_s`` seconds after the first
event arrives, so a topic whose first fetch comes late (the documents) is not overtaken at start-up.

Arrival time is the only wall-clock input, and it only decides how long to wait for a broker: the events
are released in event-time order, and what the flow computes from them depends on event time alone.
A Kafka partition says when it is caught up: a poll that finds nothing while the consumer has read up to the
partition's high watermark sends a *poll mark* (at most one every half second; see
:mod:`connectors.kafka_poll_marks`), and its end of input (``--no-tail``) an end mark.
A source that sends marks is idle once its polls have found nothing for ``idle_s``, and at once when it ended;
a source with records waiting is never idle, however long the worker takes to come back to it (a partition whose
fetches stall holds the others back: the buffer waits for it, up to ``max_buffer`` events or ``max_bytes``).
Without marks (an input that sends none) a source is idle after ``idle_s`` without a record.
Arrival time advances at most ``max_step_s`` between two calls: the flow calls the buffer at least every second
while it holds events, so a longer gap means the worker was busy downstream (a batch of camera frames analysed,
a warehouse insert), not that the sources were silent — they could not deliver while the worker was busy. Without
this cap a backlog slower to process than ``idle_s`` made every other partition look idle, and its events were
overtaken.
The buffer is bounded: past ``max_buffer`` events or ``max_bytes`` of payload (camera frames are ~170 KB each)
the oldest are released anyway. Events of the same instant
leave ordered by stream and bytes, never by arrival, so how topics are partitioned does not change results.

Events without a readable ``ts`` are released at once (the decoder dead-letters them with the reason).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from operators.events import RawEvent, is_canonical_ts, ts_text

#: Header of a poll mark (no payload): ``empty`` (a poll found nothing new) or ``end`` (the source ended).
POLL_HEADER = "x-quaywatch-poll"


def poll_mark_kind(raw: RawEvent) -> str | None:
    """``empty`` or ``end`` for a poll mark, ``None`` for a record."""
    if raw.payload:
        return None
    for name, value in raw.headers:
        if name == POLL_HEADER:
            return value.decode("ascii", "replace")
    return None


def event_sort_key(raw: RawEvent) -> str:
    """:func:`ts_sort_key` of the payload, or of a ``ts`` header (camera frames carry their metadata there)."""
    for name, value in raw.headers:
        if name == "ts":
            return ts_sort_key('{"ts": "' + value.decode("utf-8", "replace") + '"}')
    return ts_sort_key(raw.payload)


def ts_sort_key(payload: bytes | str) -> str:
    """The event's ``ts`` as text for ordering (ISO 8601 UTC ``...Z`` sorts as time); ``""`` when absent.

    Only the canonical form (``YYYY-MM-DDTHH:MM:SS.mmmZ``, what every producer of ours writes) is ordered;
    any other form is released at once and the decoder judges it.
    """
    text = payload if isinstance(payload, str) else payload[:4096].decode("utf-8", "replace")
    value = ts_text(text)
    return value if is_canonical_ts(value) else ""


def source_of(position: str) -> str:
    """Source of a record from its position: ``topic/partition`` (Kafka) or the file name (replay)."""
    return position.rsplit("@", 1)[0] if "@" in position else position.split(":", 1)[0]


@dataclass
class EventTimeOrder:
    """Reorder buffer (plain state, picklable).

    Attributes:
        idle_s: A source silent this long (arrival time) no longer holds the watermark.
        max_buffer: Most events held; beyond it the oldest are released.
        max_bytes: Most payload bytes held; beyond it the oldest are released.
        pending: Topics (or ``topic/partition`` sources) expected but not heard from yet.
        pending_s: How long (arrival time, from the first event) expected topics are waited for.
        max_step_s: Most arrival time one call advances the buffer's clock by (the flow calls it at least every
            second while it holds events; a longer gap is time the worker spent elsewhere).
    """

    idle_s: float = 5.0
    max_buffer: int = 200_000
    pending: set[str] = field(default_factory=set)
    pending_s: float = 15.0
    max_step_s: float = 1.5
    max_bytes: int = 256 * 1024 * 1024
    #: payload bytes held
    held_bytes: int = 0
    # (ts, stream, payload, seq, event): events of the same instant leave in an order that does not depend on
    # arrival (partitioning, poll timing), so same-instant documents and readings apply alike in every run
    heap: list[tuple[str, str, bytes, int, RawEvent]] = field(default_factory=list)
    latest: dict[str, str] = field(default_factory=dict)
    last_seen: dict[str, float] = field(default_factory=dict)
    started: float | None = None
    #: the buffer's arrival clock: wall time with every gap between two calls capped at ``max_step_s``
    now: float = 0.0
    seq: int = 0
    #: wall time of the last call
    wall: float | None = None
    #: source → arrival time since which its polls found nothing (poll marks; reset by a record)
    empty_since: dict[str, float] = field(default_factory=dict)
    #: sources that ended; whether poll marks come at all (then a source without one has records waiting)
    ended: set[str] = field(default_factory=set)
    marks_seen: bool = False

    def _advance(self, wall: float) -> None:
        if self.wall is not None:
            self.now += min(max(0.0, wall - self.wall), self.max_step_s)
        else:
            self.now = wall
        self.wall = wall

    def push(self, batch: list[RawEvent], now: float) -> list[RawEvent]:
        """Add a batch that arrived at ``now`` (seconds, any clock); returns the events now due, in order."""
        self._advance(now)
        now = self.now
        if self.started is None:
            self.started = now
        out: list[RawEvent] = []
        for raw in batch:
            mark = poll_mark_kind(raw)
            if mark is not None:  # a poll mark is never released: it only says the source is caught up
                src = source_of(raw.position)
                self.marks_seen = True
                self.empty_since.setdefault(src, now)
                self.pending.discard(src)  # caught up: it has nothing to hold the others back with
                if mark == "end":
                    self.ended.add(src)
                continue
            key = event_sort_key(raw)
            if not key:
                out.append(raw)
                continue
            src = source_of(raw.position)
            self.empty_since.pop(src, None)
            if self.pending:  # expected topics, or topic/partition sources
                self.pending.discard(src)
                self.pending.discard(src.rsplit("/", 1)[0])
            self.last_seen[src] = now
            if key > self.latest.get(src, ""):
                self.latest[src] = key
            payload = raw.payload if isinstance(raw.payload, bytes) else raw.payload.encode()
            heapq.heappush(self.heap, (key, raw.stream, payload, self.seq, raw))
            self.held_bytes += len(payload)
            self.seq += 1
        mark = self.watermark()
        heap = self.heap
        while heap and (heap[0][0] <= mark or len(heap) > self.max_buffer or self.held_bytes > self.max_bytes):
            item = heapq.heappop(heap)
            self.held_bytes -= len(item[2])
            out.append(item[4])
        return out

    def watermark(self) -> str:
        """The oldest latest-event time among live sources (``""`` while waiting for an expected topic)."""
        if self.pending and self.started is not None and self.now - self.started < self.pending_s:
            return ""
        live = [t for s, t in self.latest.items() if not self._idle(s)]
        if not live:  # every source is idle: nothing can hold the buffer back any more
            return max(self.latest.values(), default="")
        return min(live)

    def _idle(self, src: str) -> bool:
        if src in self.ended:
            return True
        since = self.empty_since.get(src)
        if since is not None:  # caught up: idle once its polls found nothing for idle_s
            return self.now - since >= self.idle_s
        if self.marks_seen:  # marks come, and none since its last record: it is behind, records are waiting
            return False
        return self.now - self.last_seen[src] >= self.idle_s

    def restarted(self, now: float) -> None:
        """The state was restored from a snapshot by a new run at ``now`` (arrival time).

        Arrival times of the run that took the snapshot mean nothing to this one (a crashed run may have
        been down for minutes): every source the buffer knew is treated as just heard from, so it holds the
        watermark again until it delivers or stays silent for ``idle_s``, exactly as in the run before.
        Without this, every source would look idle at once and held events would overtake older ones still
        in the broker.
        """
        self.wall = now
        self.last_seen = dict.fromkeys(self.latest, self.now)
        self.empty_since, self.ended = {}, set()  # the sources report again
        if self.started is not None:
            self.started = self.now

    def tick(self, now: float) -> list[RawEvent]:
        """Arrival time passed with no new events: release what the sources that went idle held back."""
        return self.push([], now)

    def flush(self) -> list[RawEvent]:
        """Everything still held, in event-time order (end of input)."""
        out = [heapq.heappop(self.heap)[4] for _ in range(len(self.heap))]
        self.held_bytes = 0
        return out
