"""Kafka input and output for the flows, over ``bytewax.connectors.kafka``.

Input records become :class:`~operators.events.RawEvent` (stream name from the topic, position
``topic/partition@offset``); consumer errors become dead letters. Flows publish ``(key, JSON value)``
messages by logical name (``dead_letters``, ``alerts`` ...) through :func:`kafka_publisher`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import bytewax.operators as op
from bytewax.connectors.kafka import KafkaError, KafkaSinkMessage, KafkaSourceMessage
from bytewax.connectors.kafka import operators as kop
from bytewax.dataflow import Dataflow, Stream, operator
from confluent_kafka import OFFSET_BEGINNING

from connectors.kafka_resume import ResumeCheckedKafkaSource
from operators.events import DeadLetter, RawEvent

# Settings that work with every broker we test against (see DESIGN.md: tansu needs short fetch waits).
DEFAULT_CLIENT = {"fetch.wait.max.ms": "10"}


def client_settings(client: Mapping[str, str], sasl_password_file: str = "") -> dict[str, str]:
    """The librdkafka settings of every consumer and producer: the configured ones and the SASL password file's.

    TLS and SASL settings (``security.protocol``, ``ssl.*``, ``sasl.*``) pass through unchanged.

    Raises:
        ValueError: When the password file cannot be read (named; its content never is).
    """
    settings = dict(client)
    if sasl_password_file:
        try:
            lines = Path(sasl_password_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ValueError(f"cannot read the Kafka SASL password file {sasl_password_file}: {exc.strerror}") from None
        settings["sasl.password"] = lines[0] if lines else ""
    return settings


def parse_kafka_url(url: str) -> list[str]:
    """Brokers from ``kafka://host:port[,host:port]``.

    Raises:
        ValueError: When the URL is not a kafka:// URL with at least one broker.
    """
    if not url.startswith("kafka://"):
        raise ValueError(f"not a kafka:// source: {url!r}")
    brokers = [b for b in url[len("kafka://") :].rstrip("/").split(",") if b]
    if not brokers:
        raise ValueError(f"no broker in {url!r}")
    return brokers


def topic_partitions(brokers: list[str], topics: list[str], client: Mapping[str, str] | None = None,
                     timeout_s: float = 10.0) -> tuple[str, ...]:
    """Every ``topic/partition`` of the topics, as record positions name their source (broker metadata).

    When a flow runs on several workers, each reads some partitions of every topic: the reorder step must
    wait for each partition, not only for each topic, or a partition read by a worker that starts late is
    overtaken (see :mod:`operators.event_order`). Topics the broker does not know yet are returned as
    themselves, and all of them when the broker cannot be reached (or no admin client can be made).
    """
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    try:
        admin = AdminClient({"bootstrap.servers": ",".join(brokers),
                             **{k: v for k, v in (client or {}).items() if not k.startswith("fetch.")}})
        meta = admin.list_topics(timeout=timeout_s)
    except KafkaException:  # broker not reachable yet, or a client setting the consumer will report: the topics
        return tuple(topics)
    out: list[str] = []
    for topic in topics:
        parts = meta.topics.get(topic)
        if parts is None or parts.error is not None or not parts.partitions:
            out.append(topic)
        else:
            out.extend(f"{topic}/{p}" for p in sorted(parts.partitions))
    return tuple(out)


@operator
def checked_input(step_id: str, flow: Dataflow, *, brokers: list[str], topics: list[str], tail: bool,
                  add_config: Mapping[str, str]) -> kop.KafkaOpOut[KafkaSourceMessage[Any, Any], KafkaError[Any, Any]]:
    """Kafka input that refuses to resume past the end of a partition's log.

    ``bytewax.connectors.kafka.operators.input`` (same step ids, so the same snapshots) over
    :class:`~connectors.kafka_resume.ResumeCheckedKafkaSource`: a partition resumed past the end of its log stops
    the flow with a clear error instead of skipping records.
    """
    source = ResumeCheckedKafkaSource(brokers, topics, tail, OFFSET_BEGINNING, add_config)
    items = op.input("kafka_input", flow, source)
    branch = op.branch("split_err", items, lambda msg: isinstance(msg, KafkaSourceMessage))
    return kop.KafkaOpOut(cast(Stream[KafkaSourceMessage[Any, Any]], branch.trues),
                          cast(Stream[KafkaError[Any, Any]], branch.falses))


def kafka_raw_events(step_id: str, flow: Dataflow, brokers: list[str], topics: Mapping[str, str],
                     flow_name: str, client: Mapping[str, str] | None = None,
                     tail: bool = True) -> tuple[Stream[RawEvent], Stream[DeadLetter]]:
    """Consume the topics as raw events.

    Args:
        step_id: Step id.
        flow: The dataflow.
        brokers: ``host:port`` list.
        topics: Topic name → logical stream name.
        flow_name: Flow name recorded on dead letters.
        client: Extra librdkafka settings.
        tail: Keep waiting for new records (False: stop at the end of the topics, for replays and tests).

    Returns:
        The raw events and the consumer errors as dead letters.
    """
    config = {**DEFAULT_CLIENT, **(client or {})}
    kin = checked_input(step_id, flow, brokers=brokers, topics=list(topics), tail=tail, add_config=config)

    def to_raw(msg: KafkaSourceMessage[Any, Any]) -> RawEvent:
        topic = msg.topic or ""
        return RawEvent(topics.get(topic, topic), msg.value or b"", f"{topic}/{msg.partition}@{msg.offset}",
                        tuple(msg.headers or ()))

    def to_dead(err: Any) -> DeadLetter:
        msg = err.msg
        raw = RawEvent(topics.get(msg.topic or "", msg.topic or ""), msg.value or b"",
                       f"{msg.topic}/{msg.partition}@{msg.offset}")
        return DeadLetter.of(flow_name, raw, f"kafka consumer error: {err.err}")

    return op.map(f"{step_id}_raw", kin.oks, to_raw), op.map(f"{step_id}_errs", kin.errs, to_dead)


def kafka_output(step_id: str, up: Stream[KafkaSinkMessage[bytes, bytes]], brokers: list[str], topic: str,
                 client: Mapping[str, str] | None = None) -> None:
    """Publish records to a topic."""
    kop.output(step_id, up, brokers=brokers, topic=topic, add_config=dict(client or {}))


def kafka_publisher(brokers: list[str], topic_of: Callable[[str], str],
                    client: Mapping[str, str] | None = None) -> Callable[[str, Stream[tuple[bytes, bytes]]], None]:
    """A publisher of ``(key, value)`` messages to the topic of a logical output name.

    Args:
        brokers: ``host:port`` list.
        topic_of: Logical name (``alerts``) → topic name (``quaywatch.alerts``).
        client: Extra librdkafka settings.

    Returns:
        ``publish(name, stream)``, which adds a Kafka output step for that name.
    """

    def publish(name: str, up: Stream[tuple[bytes, bytes]]) -> None:
        topic = topic_of(name)
        step = name.replace(".", "_")  # step ids cannot contain periods; logical names (gate.passages) do
        msgs = op.map(f"{step}_msg", up, lambda kv: KafkaSinkMessage(key=kv[0], value=kv[1], topic=topic))
        kafka_output(f"{step}_topic", msgs, brokers, topic, client)

    return publish
