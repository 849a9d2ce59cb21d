"""Poll marks: a Kafka partition tells the reorder buffer when it is caught up (see :mod:`operators.event_order`).

Without them the buffer can only guess from arrival time that a partition has nothing more: a worker busy for
longer than the idle limit (a batch of camera frames analysed) made every partition look idle, and records still
waiting in them were overtaken. A partition wrapped here sends, when a poll returns nothing and its consumer has
read up to the high watermark it last heard of, a record with no payload and an ``x-quaywatch-poll: empty`` header
(at most one every ``every_s``), and ``end`` when its input ends (``--no-tail``). A partition with records waiting
sends no mark, so it is never taken for idle. The marks carry offset ``-1`` and never reach a decoder: the buffer
keeps them to itself.
"""

from __future__ import annotations

import time
from typing import Any

from bytewax.connectors.kafka import KafkaSourceMessage
from bytewax.inputs import StatefulSourcePartition
from confluent_kafka import TopicPartition

from operators.event_order import POLL_HEADER


def poll_mark(topic: str, partition: int, kind: str) -> KafkaSourceMessage[bytes | None, bytes]:
    """A poll mark of ``topic``/``partition`` (``kind``: ``empty`` or ``end``)."""
    return KafkaSourceMessage(key=None, value=b"", topic=topic, headers=[(POLL_HEADER, kind.encode())], offset=-1,
                              partition=partition)


class PollMarkingPartition(StatefulSourcePartition[Any, Any]):
    """A Bytewax Kafka source partition that also sends poll marks.

    Args:
        inner: The partition built by :class:`~bytewax.connectors.kafka.KafkaSource`.
        topic: Its topic.
        partition: Its partition index.
        every_s: Least time between two ``empty`` marks.
    """

    def __init__(self, inner: Any, topic: str, partition: int, every_s: float = 0.5) -> None:
        self.inner = inner
        self.topic, self.partition = topic, partition
        self.every_s = every_s
        self.last_mark = float("-inf")
        self.ended = False

    def caught_up(self) -> bool:
        """Whether the consumer has read up to the high watermark it last heard of (``False`` while unknown)."""
        low, high = self.inner._consumer.get_watermark_offsets(TopicPartition(self.topic, self.partition),
                                                               cached=True)
        if high < 0:
            return False
        offset = int(self.inner._offset)
        return bool(offset >= high if offset >= 0 else high <= max(low, 0))

    def next_batch(self) -> list[Any]:
        """The inner partition's batch; a mark instead of an empty batch when caught up, ``end`` before the end."""
        try:
            batch: list[Any] = self.inner.next_batch()
        except StopIteration:
            if self.ended:
                raise
            self.ended = True
            return [poll_mark(self.topic, self.partition, "end")]
        if batch:
            return batch
        now = time.monotonic()
        if now - self.last_mark >= self.every_s and self.caught_up():
            self.last_mark = now
            return [poll_mark(self.topic, self.partition, "empty")]
        return batch

    def next_awake(self) -> Any:
        """As the inner partition."""
        return self.inner.next_awake()

    def snapshot(self) -> Any:
        """As the inner partition (the next offset to read: marks do not move it)."""
        return self.inner.snapshot()

    def close(self) -> None:
        """As the inner partition."""
        self.inner.close()
