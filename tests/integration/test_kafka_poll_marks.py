"""Poll marks against a real broker (tansu): a partition behind sends none, a caught-up one does, an ended one says
so (connectors/kafka_poll_marks.py)."""

from __future__ import annotations

import time
import uuid

import pytest
from bytewax.connectors.kafka import KafkaSourceMessage
from confluent_kafka import OFFSET_BEGINNING

from connectors.kafka_poll_marks import PollMarkingPartition
from connectors.kafka_resume import ResumeCheckedKafkaSource
from operators.event_order import POLL_HEADER
from tests.integration.faults_support import create_topics, produce

pytestmark = pytest.mark.integration
N = 3_000


def kind(msg: KafkaSourceMessage[bytes | None, bytes]) -> str | None:
    return next((v.decode() for k, v in (msg.headers or []) if k == POLL_HEADER), None)


def drain(part: PollMarkingPartition, seconds: float) -> list[KafkaSourceMessage[bytes | None, bytes]]:
    out: list[KafkaSourceMessage[bytes | None, bytes]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            out += part.next_batch()
        except StopIteration:
            break
        time.sleep(0.01)
    return out


@pytest.mark.parametrize("tail", [True, False])
def test_marks_come_only_once_every_record_was_read(kafka_broker, tail):
    topic = f"marks_{uuid.uuid4().hex[:8]}"
    create_topics(kafka_broker, [topic], 1)
    produce(kafka_broker, [("s", f'{{"i": {i}}}') for i in range(N)], {"s": topic})
    source = ResumeCheckedKafkaSource([kafka_broker], [topic], tail, OFFSET_BEGINNING, {"fetch.wait.max.ms": "10"},
                                      batch_size=100)
    part = source.build_part("in", f"0-{topic}", None)
    assert isinstance(part, PollMarkingPartition)
    try:
        got = drain(part, 8.0)
    finally:
        part.close()
    records = [m for m in got if kind(m) is None]
    marks = [(i, kind(m)) for i, m in enumerate(got) if kind(m) is not None]
    assert [m.offset for m in records] == list(range(N))  # every record, once, in order
    first_mark = marks[0][0]
    assert all(kind(m) is None for m in got[:first_mark]) and first_mark == N  # no mark while records waited
    assert all(m.value == b"" and m.offset == -1 and m.partition == 0 for m in got[first_mark:])
    if tail:  # caught up: empty marks, at most one every half second
        assert {k for _i, k in marks} == {"empty"} and 2 <= len(marks) <= 8 / 0.5 + 1
    else:  # the input ends: one end mark (an empty poll may come first), then the partition stops
        kinds = [k for _i, k in marks]
        assert kinds[-1] == "end" and set(kinds[:-1]) <= {"empty"}
    assert part.snapshot() == N  # marks do not move the resume offset
