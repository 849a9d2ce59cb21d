"""Event-time reorder buffer for broker input (arrival times are given explicitly: a controllable clock)."""

from __future__ import annotations

import json

from operators.event_order import EventTimeOrder, source_of, ts_sort_key
from operators.events import RawEvent


def ev(topic: str, part: int, off: int, second: int) -> RawEvent:
    payload = json.dumps({"ts": f"2026-03-01T06:00:{second:02d}.000Z", "n": off}).encode()
    return RawEvent(topic, payload, f"{topic}/{part}@{off}")


def seconds(events: list[RawEvent]) -> list[int]:
    return [int(json.loads(e.payload)["ts"][17:19]) for e in events]


def at(o: EventTimeOrder, now: float, batch: list[RawEvent] | None = None) -> list[RawEvent]:
    """Arrival time passes to ``now`` as in the flow: a tick every second while events are held, then the batch
    (``None``: a last tick at ``now``). Returns everything released on the way."""
    out: list[RawEvent] = []
    t = o.wall if o.wall is not None else now
    while t + 1.0 < now:
        t += 1.0
        out += o.tick(t) if o.heap else []
    return out + (o.push(batch, now) if batch is not None else o.tick(now))


def test_sort_key_and_source():
    assert ts_sort_key(b'{"meter_id": "M", "ts": "2026-03-01T06:00:01.000Z"}') == "2026-03-01T06:00:01.000Z"
    assert ts_sort_key('{"ts": "2026-03-01T06:00:01+00:00"}') == ""  # not canonical: the decoder judges it
    assert ts_sort_key(b"\xff\xd8 jpeg") == ""
    assert source_of("quaywatch.transfers/0@12") == "quaywatch.transfers/0" and source_of("x.jsonl:3") == "x.jsonl"


def test_a_topic_read_ahead_waits_for_the_slower_partitions():
    o = EventTimeOrder(idle_s=5.0)
    # the transfers topic is read in one poll, far ahead of the readings
    out = o.push([ev("transfers", 0, 0, 5), ev("transfers", 0, 1, 50), ev("readings", 0, 0, 1)], now=0.0)
    assert seconds(out) == [1]
    out = o.push([ev("readings", 0, 1, 3), ev("readings", 0, 2, 6)], now=1.0)
    assert seconds(out) == [3, 5, 6]  # the open document (5 s) slots in between the readings
    out = o.push([ev("readings", 0, 3, 20)], now=2.0)
    assert seconds(out) == [20]
    # transfers is idle after 5 s of arrival time; the readings alone set the watermark (50 s is ahead anyway)
    out = at(o, 7.0, [ev("readings", 0, 4, 55)])
    assert seconds(out) == [50, 55]
    assert o.flush() == []


def test_a_silent_partition_holds_back_until_idle_then_tick_releases():
    o = EventTimeOrder(idle_s=5.0)
    out = o.push([ev("r", 0, 0, 1), ev("r", 0, 1, 4), ev("r", 1, 0, 2)], now=0.0)
    assert seconds(out) == [1, 2]
    out = o.push([ev("r", 1, 1, 3), ev("r", 1, 2, 9)], now=1.0)
    assert seconds(out) == [3, 4]
    assert at(o, 3.0) == []  # partition 0 (at 4 s) may still deliver
    assert seconds(at(o, 6.5)) == [9]  # both partitions silent for 5 s: nothing holds 9 s back
    assert o.flush() == []


def test_buffer_is_bounded_and_undated_events_pass_at_once():
    o = EventTimeOrder(idle_s=100.0, max_buffer=2)
    assert seconds(o.push([ev("b", 0, 0, 1)], now=0.0)) == [1]  # b stays live but silent: it holds the mark
    out = o.push([ev("a", 0, 0, 10), ev("a", 0, 1, 11), ev("a", 0, 2, 12), RawEvent("a", b"{broken", "a/0@3")],
                 now=1.0)
    assert out[0].payload == b"{broken"
    assert seconds(out[1:]) == [10]  # beyond max_buffer the oldest goes although b holds the mark
    assert seconds(o.flush()) == [11, 12]


def test_an_expected_topic_heard_late_is_not_overtaken_at_start_up():
    o = EventTimeOrder(idle_s=5.0, pending={"transfers", "lab"}, pending_s=10.0)
    assert o.push([ev("readings", 0, 0, 1), ev("readings", 0, 1, 2)], now=0.0) == []  # waiting for both
    assert at(o, 4.0, [ev("transfers", 0, 0, 0), ev("readings", 0, 2, 3)]) == []  # still waiting for lab
    assert at(o, 8.0, [ev("readings", 0, 3, 4)]) == []  # lab is waited for 10 s
    # lab never came; transfers (0 s) went idle 5 s after it delivered: the readings alone set the mark
    assert seconds(at(o, 10.0, [ev("readings", 0, 4, 5)])) == [0, 1, 2, 3, 4, 5]


def test_a_restart_from_a_snapshot_waits_for_the_sources_again():
    """A crashed run restarted 1000 s later (arrival time): the source that was behind still holds the others
    back, so events still in the broker are not overtaken (they would be late otherwise)."""
    import pickle

    o = EventTimeOrder(idle_s=5.0)
    assert seconds(o.push([ev("r", 0, 0, 1), ev("r", 1, 0, 2), ev("r", 1, 1, 8)], now=0.0)) == [1]
    snap = pickle.loads(pickle.dumps(o))
    snap.restarted(now=1000.0)
    assert seconds(snap.push([ev("r", 1, 2, 9)], now=1000.5)) == []  # partition 0 (at 1 s) may still deliver
    assert seconds(snap.push([ev("r", 0, 1, 5)], now=1001.0)) == [2, 5]
    assert seconds(at(snap, 1006.5)) == [8, 9]  # partition 0 silent for 5 s since the restart
    assert snap.flush() == []


def test_redelivered_records_are_dropped_within_the_horizon_and_memory_is_bounded():
    from operators.redelivery import RedeliveryFilter

    f = RedeliveryFilter(horizon_s=10.0, max_entries=100)
    first = [ev("r", 0, i, i) for i in range(5)]
    assert seconds(f.filter(first)) == [0, 1, 2, 3, 4]
    # the same records again (another partition, other offsets: same bytes), and one new record
    again = [RawEvent("r", e.payload, f"r/1@{i}") for i, e in enumerate(first)]
    assert seconds(f.filter([*again, ev("r", 0, 99, 30)])) == [30]
    assert f.dropped == 5
    # the same bytes on another stream are another event; records 20 s older than the newest are forgotten
    assert seconds(f.filter([RawEvent("other", first[0].payload, "o/0@0")])) == [0]
    assert len(f.seen) == 1 and seconds(f.filter(first[:1])) == [0]
    big = RedeliveryFilter(horizon_s=1e9, max_entries=3)
    big.filter([ev("r", 0, i, i) for i in range(10)])
    assert len(big.seen) == len(big.order) == 3


def test_events_of_the_same_instant_leave_in_the_same_order_whatever_their_arrival():
    a, b, c = ev("transfers", 0, 0, 5), ev("tanks", 1, 0, 5), ev("tanks", 2, 7, 5)
    orders = []
    for batch in ([a, b, c], [c, b, a], [b, a, c]):
        o = EventTimeOrder(idle_s=5.0)
        orders.append([e.position for e in [*o.push(batch, now=0.0), *o.flush()]])
    assert orders[0] == orders[1] == orders[2]


def test_a_redelivery_snapshot_is_independent_of_the_live_filter():
    from operators.redelivery import RedeliveryFilter

    f = RedeliveryFilter()
    f.filter([ev("r", 0, 0, 1)])
    snap = f.copy()
    f.filter([ev("r", 0, 1, 2)])
    assert len(snap.seen) == len(snap.order) == 1 and len(f.seen) == 2
    assert seconds(snap.filter([ev("r", 0, 1, 2), ev("r", 0, 0, 1)])) == [2] and snap.dropped == 1


def test_frames_are_ordered_by_their_ts_header():
    from operators.event_order import event_sort_key

    frame = RawEvent("gate.frames", b"\xff\xd8jpeg", "f/0:1", (("lane_id", b"L1"), ("ts", b"2026-03-02T08:00:00.700Z")))
    notice = RawEvent("gate.pregate", '{"ts": "2026-03-02T08:00:00.500Z"}', "p/0:1")
    assert event_sort_key(frame) == "2026-03-02T08:00:00.700Z"
    assert event_sort_key(notice) < event_sort_key(frame)


def test_a_worker_busy_downstream_does_not_make_the_other_partitions_look_idle():
    """A batch slower to process than ``idle_s`` (camera frames analysed): the partitions could not deliver
    meanwhile, so they still hold the watermark when the worker comes back."""
    o = EventTimeOrder(idle_s=5.0)
    assert seconds(o.push([ev("r", 0, 0, 1), ev("r", 0, 1, 8), ev("r", 1, 0, 2)], now=0.0)) == [1, 2]
    # the worker analysed for 12 s; partition 1 (at 2 s) delivers in the very next poll
    assert o.tick(now=12.0) == []
    assert seconds(o.push([ev("r", 1, 1, 5), ev("r", 1, 2, 9)], now=12.1)) == [5, 8]
    # genuinely silent afterwards (ticks every second): idle after 5 s of ticks, as before
    assert at(o, 15.0) == []
    assert seconds(at(o, 18.0)) == [9]


def mark(topic: str, part: int, kind: str = "empty") -> RawEvent:
    from operators.event_order import POLL_HEADER

    return RawEvent(topic, b"", f"{topic}/{part}@-1", ((POLL_HEADER, kind.encode()),))


def test_a_partition_with_records_waiting_is_never_idle_and_a_caught_up_one_is_after_idle_s():
    """Poll marks: partition 1 sends none (its consumer is behind), so it holds the watermark through 30 s of
    ticks; partition 0 is caught up and its marks say so; the marks themselves are never released."""
    o = EventTimeOrder(idle_s=5.0)
    assert seconds(o.push([ev("r", 0, 0, 1), ev("r", 0, 1, 8), ev("r", 1, 0, 2)], now=0.0)) == [1, 2]
    released = []
    for k in range(1, 31):  # partition 0 polls empty every second; partition 1 is being fetched
        released += o.push([mark("r", 0)], now=float(k))
    assert released == []  # 8 s waits for partition 1, however long
    # partition 0 has polled empty for 30 s: it is idle, partition 1 alone sets the watermark
    assert seconds(o.push([ev("r", 1, 1, 5), ev("r", 1, 2, 9)], now=31.0)) == [5, 8, 9]
    assert o.flush() == []


def test_an_ended_partition_is_idle_at_once_and_a_record_resets_the_marks():
    o = EventTimeOrder(idle_s=5.0)
    assert seconds(o.push([ev("r", 0, 0, 3), ev("r", 1, 0, 7)], now=0.0)) == [3]
    assert seconds(o.push([mark("r", 0, "end")], now=0.1)) == [7]  # partition 0 ended: nothing more from it
    o2 = EventTimeOrder(idle_s=5.0)
    o2.push([ev("r", 0, 0, 3), ev("r", 1, 0, 7), mark("r", 0)], now=0.0)
    assert seconds(o2.push([ev("r", 0, 1, 4), mark("r", 0)], now=4.0)) == [4]  # empty again since 4 s, not 0 s
    assert at(o2, 8.5, [mark("r", 0)]) == []  # 4.5 s of empty polls since the record
    assert seconds(at(o2, 9.5, [mark("r", 0)])) == [7]


def test_an_expected_partition_that_polls_empty_does_not_hold_the_start():
    o = EventTimeOrder(idle_s=5.0, pending={"r/0", "r/1"}, pending_s=15.0)
    assert o.push([ev("r", 0, 0, 1)], now=0.0) == []  # r/1 not heard from yet
    assert seconds(o.push([mark("r", 1)], now=0.5)) == [1]  # r/1 is empty: nothing to wait for


def test_the_buffer_is_bounded_in_bytes_too():
    """Frames are large: a partition holding the watermark back must not let the buffer hold gigabytes."""
    o = EventTimeOrder(idle_s=100.0, max_bytes=3 * len(ev("a", 0, 0, 10).payload) + 10)
    assert seconds(o.push([ev("b", 0, 0, 1)], now=0.0)) == [1]  # b holds the watermark at 1 s
    out = o.push([ev("a", 0, i, 10 + i) for i in range(5)], now=0.5)
    assert seconds(out) == [10, 11]  # 5 held would pass max_bytes: the oldest two go
    assert o.held_bytes == sum(len(ev("a", 0, i, 10 + i).payload) for i in (2, 3, 4))
    assert seconds(o.flush()) == [12, 13, 14] and o.held_bytes == 0
