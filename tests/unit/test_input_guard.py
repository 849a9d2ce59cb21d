"""The input guard ahead of the Kafka reorder buffer: an oversize record is replaced by a small stand-in at once,
and the stand-in goes through the reorder buffer and the redelivery filter to its dead letter."""

from __future__ import annotations

import json

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, TestingSource, run_main

from connectors.input_guard import OVERSIZE_HEADER, oversize_dead_letters, oversize_stand_in, size_stubbed
from connectors.ordering import event_time_ordered
from operators.events import DeadLetter, RawEvent
from operators.input_limits import InputLimits

SMALL = InputLimits(max_message_bytes=200, max_frame_bytes=1000, max_id_chars=16, max_string_chars=5000)


def reading(ts: str, pad: int = 0) -> str:
    return json.dumps({"ts": ts, "meter_id": "M-01", "pad": "x" * pad})


def test_an_oversize_record_is_replaced_by_its_start_and_the_reason():
    big = reading("2026-03-01T06:00:01.000Z", pad=3000)
    stand_in = oversize_stand_in(RawEvent("meter.readings", big, "t/0@7"), SMALL)
    size = len(big.encode())
    assert stand_in.payload == big[:1024] + f"... [{size} bytes, truncated]"  # the record itself is gone
    assert stand_in.headers == ((OVERSIZE_HEADER, f"oversize message: {size} bytes > max_message_bytes 200".encode()),)
    small = RawEvent("meter.readings", reading("2026-03-01T06:00:01.000Z"), "t/0@8")
    assert oversize_stand_in(small, SMALL) is small
    forged = RawEvent("meter.readings", small.payload, "t/0@9", ((OVERSIZE_HEADER, b"not ours"),))
    assert oversize_stand_in(forged, SMALL).headers == ()


def test_an_oversize_record_delivered_twice_is_one_dead_letter_and_the_rest_leaves_in_event_time_order():
    big = reading("2026-03-01T06:00:01.000Z", pad=3000)
    records = [
        RawEvent("meter.readings", reading("2026-03-01T06:00:02.000Z"), "t/0@0"),
        RawEvent("meter.readings", big, "t/0@1"),
        RawEvent("meter.readings", reading("2026-03-01T06:00:00.000Z"), "t/1@0"),
        RawEvent("meter.readings", big, "t/1@1"),  # the same record again (a producer's retry)
    ]
    passed: list[RawEvent] = []
    dead: list[DeadLetter] = []
    flow = Dataflow("guard")
    raw = op.input("in", flow, TestingSource(records, batch_size=len(records)))  # one poll of the broker
    ordered = event_time_ordered("order", size_stubbed("limits", raw, SMALL), ("t",))
    ok, letters = oversize_dead_letters("oversize", ordered, "meters")
    op.output("ok", ok, TestingSink(passed))
    op.output("dead", letters, TestingSink(dead))
    run_main(flow)
    assert [r.position for r in passed] == ["t/1@0", "t/0@0"]
    assert [(d.position, d.reason.split(":")[0], d.raw.endswith("bytes, truncated]")) for d in dead] == [
        ("t/0@1", "oversize message", True)]
