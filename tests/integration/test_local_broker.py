"""connectors.local_broker: the private tansu brokers the fault tier and the benches start (real processes)."""

from __future__ import annotations

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from connectors.local_broker import MemoryBroker, PersistentBroker, start_local_broker

pytestmark = pytest.mark.integration


def round_trip(addr: str, topic: str, values: list[bytes]) -> list[bytes]:
    """Produce ``values`` to a fresh 1-partition topic (unless empty) and read the whole partition back."""
    if values:
        admin = AdminClient({"bootstrap.servers": addr})
        for f in admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)]).values():
            f.result(timeout=10)
        producer = Producer({"bootstrap.servers": addr, "linger.ms": 5})
        for v in values:
            producer.produce(topic, value=v, partition=0)
        assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": addr, "group.id": "local-broker-test", "enable.partition.eof": True,
                         "fetch.wait.max.ms": 10})
    consumer.assign([TopicPartition(topic, 0, 0)])
    got: list[bytes] = []
    try:
        for _ in range(200):
            msg = consumer.poll(0.1)
            if msg is None:
                continue
            if msg.error():
                if got:  # partition EOF after the records
                    break
                continue
            got.append(msg.value())
    finally:
        consumer.close()
    return got


def test_memory_broker_round_trips_and_stops():
    values = [f"reading {i}".encode() for i in range(50)]
    with MemoryBroker() as broker:
        assert round_trip(broker.addr, "lb.memory", values) == values
        proc = broker.proc
    assert proc.poll() is not None  # stopped on exit


def test_persistent_broker_keeps_its_records_across_a_kill(tmp_path):
    values = [f"reading {i}".encode() for i in range(50)]
    with PersistentBroker(tmp_path / "broker.log") as broker:
        assert set(broker.pids()) == {"tansu", "moto"}
        assert round_trip(broker.addr, "lb.s3", values) == values
        broker.kill()
        broker.restart()
        assert round_trip(broker.addr, "lb.s3", []) == values  # read back from S3 by the new process


def test_unknown_broker_kind_is_refused():
    with pytest.raises(ValueError, match="memory or s3"):
        start_local_broker("disk")
