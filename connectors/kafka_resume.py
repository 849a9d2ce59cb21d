"""Refuse to resume from a recovery snapshot past the end of a partition's log (the broker lost its log).

A Bytewax recovery snapshot keeps, per Kafka partition, the next offset to read. When the broker restarts
without its log (in-memory storage, a wiped volume, a re-created topic), offsets start at 0 again: resuming at
the snapshot's offset would silently skip every record written since the reset up to that offset (librdkafka
resets an offset out of range to the end, or, on some brokers, just waits there). The input checks, when it
resumes a partition, that the record before the resume offset still exists, and stops the flow with
:class:`LogResetError` otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from bytewax.connectors.kafka import KafkaSource
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from connectors.kafka_poll_marks import PollMarkingPartition


class LogResetError(RuntimeError):
    """A partition's log ends before the offset the recovery snapshot resumes at."""


def check_resume_offset(config: Mapping[str, Any], topic: str, partition: int, offset: int,
                        timeout_s: float = 30.0, probe_s: float = 5.0) -> None:
    """Check that ``topic``/``partition`` still holds the record before ``offset`` (the resume offset).

    The high watermark answers at once when it is at or past ``offset``. Some brokers report it too low (tansu
    0.6 gives the base offset of the last batch + 1), so below it the record at ``offset - 1`` is fetched: found,
    the log is intact; out of range, or nothing within ``probe_s``, the log was reset.

    Args:
        config: librdkafka settings (``bootstrap.servers`` and the client's).
        topic: Topic.
        partition: Partition.
        offset: Offset the snapshot resumes at (the next to read).
        timeout_s: How long to wait for the broker to answer the watermark query.
        probe_s: How long to wait for the record before ``offset``.

    Raises:
        LogResetError: When the partition's log ends before ``offset - 1``, or the broker cannot be reached
            within ``timeout_s`` (the check cannot be made; nothing is skipped silently).
    """
    if offset <= 0:
        return
    settings = {k: v for k, v in config.items() if k != "stats_cb"}
    consumer = Consumer({**settings, "group.id": "quaywatch-resume-check", "enable.auto.commit": "false",
                         "enable.partition.eof": "true", "auto.offset.reset": "error"})
    try:
        try:
            _low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout_s)
        except KafkaException as exc:
            raise LogResetError(f"cannot check the recovery snapshot's offset {offset} of Kafka {topic}/{partition}: "
                                f"the broker did not answer within {timeout_s:g} s ({exc.args[0]})") from None
        if high >= offset:
            return
        consumer.assign([TopicPartition(topic, partition, offset - 1)])
        if _record_found(consumer, offset - 1, probe_s):
            return
        raise LogResetError(
            f"Kafka {topic}/{partition}: the recovery snapshot resumes at offset {offset} but the broker's log ends "
            f"before it (high watermark {high}): the broker lost its log (restarted without persistent storage, or "
            "the topic was re-created). Resuming would skip records; restore the broker's log, or start the flow "
            "afresh with a new recovery directory.")
    finally:
        consumer.close()


def _record_found(consumer: Consumer, offset: int, probe_s: float) -> bool:
    """Whether the consumer, assigned at ``offset``, reads that record within ``probe_s``.

    False when the log ends before it, or when nothing came.
    """
    out_of_range = (KafkaError._AUTO_OFFSET_RESET, KafkaError.OFFSET_OUT_OF_RANGE, KafkaError._PARTITION_EOF)
    deadline = time.monotonic() + probe_s
    while time.monotonic() < deadline:
        for msg in consumer.consume(10, 0.2):
            err = msg.error()
            if err is None:
                return (msg.offset() or 0) >= offset
            if err.code() in out_of_range:
                return False
    return False


class ResumeCheckedKafkaSource(KafkaSource):
    """A :class:`~bytewax.connectors.kafka.KafkaSource` checking each partition it resumes from a snapshot.

    The check is :func:`check_resume_offset`.
    """

    def __init__(self, brokers: list[str], topics: list[str], tail: bool, starting_offset: int,
                 add_config: Mapping[str, str], batch_size: int = 1000) -> None:
        super().__init__(brokers, topics, tail, starting_offset, dict(add_config), batch_size,
                         raise_on_errors=False)
        self._check_config: dict[str, Any] = {**add_config, "bootstrap.servers": ",".join(brokers)}

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> Any:
        """Check the resume offset, then build the partition as :class:`KafkaSource` does, with poll marks.

        The partition is wrapped in :class:`~connectors.kafka_poll_marks.PollMarkingPartition`.
        """
        idx, topic = for_part.split("-", 1)
        if resume_state is not None:
            check_resume_offset(self._check_config, topic, int(idx), resume_state)
        return PollMarkingPartition(super().build_part(step_id, for_part, resume_state), topic, int(idx))
