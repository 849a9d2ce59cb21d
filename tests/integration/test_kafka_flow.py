"""The meters flow over a real Kafka-protocol broker (tansu): same results as the replay path, dead letters
published on the dead-letter topic."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from connectors.simulate.meters import DischargeScenario, simulate_discharge
from flows.config import load_config
from flows.run import RunOptions, run_flow
from operators.events import METER_STREAMS

pytestmark = pytest.mark.integration

KEYS = {"meter.readings": "meter_id", "tank.readings": "tank_id", "transfers": "transfer_id",
        "lab.density": "transfer_id"}


def produce_replay(broker: str, replay: Path, topics: dict[str, str]) -> int:
    admin = AdminClient({"bootstrap.servers": broker})
    futures = admin.create_topics([NewTopic(t, num_partitions=2, replication_factor=1) for t in
                                   [*topics.values(), "quaywatch.dead_letters"]])
    for f in futures.values():
        try:
            f.result(timeout=10)
        except KafkaException as exc:  # the broker is shared by the module's tests
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    producer = Producer({"bootstrap.servers": broker, "linger.ms": 5})
    n = 0
    for stream, topic in topics.items():
        path = replay / f"{stream}.jsonl"
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            try:
                key = str(json.loads(line).get(KEYS[stream], ""))
            except ValueError:
                key = ""
            producer.produce(topic, value=line.encode(), key=key.encode())
            n += 1
    producer.flush(30)
    return n


def consume_all(broker: str, topic: str, expect: int, timeout_s: float = 20.0) -> list[dict]:
    c = Consumer({"bootstrap.servers": broker, "group.id": f"t-{uuid.uuid4().hex}", "auto.offset.reset": "earliest",
                  "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000, "fetch.wait.max.ms": 10})
    c.subscribe([topic])
    out: list[dict] = []
    import time

    deadline = time.monotonic() + timeout_s
    while len(out) < expect and time.monotonic() < deadline:
        msg = c.poll(0.5)
        if msg is not None and msg.error() is None:
            out.append(json.loads(msg.value()))
    c.close()
    return out


def test_kafka_source_gives_the_same_operations_as_the_replay(kafka_broker, warehouse, chdb_dsn, tmp_path):
    client, db = warehouse
    cfg = load_config(environ={})
    cfg = replace(cfg, warehouse=replace(cfg.warehouse, database=db))
    replay = tmp_path / "replay"
    replay.mkdir()
    simulate_discharge(cfg, DischargeScenario(start=datetime(2026, 3, 1, 6, tzinfo=UTC), total_gsv_15c_m3=600.0),
                       replay, seed=5)
    with (replay / "meter.readings.jsonl").open("a") as fh:
        fh.write("{broken\n")
    topics = {s: cfg.kafka.topic(s) for s in METER_STREAMS}
    produced = produce_replay(kafka_broker, replay, topics)
    assert produced > 1000

    run_flow("meters", cfg, RunOptions(f"kafka://{kafka_broker}", chdb_dsn, tmp_path / "k", tail=False))
    via_kafka = client.query(f"SELECT meter_id, status, gov_m3, gsv_15c_m3, mass_air_kg FROM {db}.meter_operations "
                             "WHERE status != 'creep' ORDER BY meter_id", settings={"final": 1}).result_rows
    readings = client.query(f"SELECT count() FROM {db}.meter_readings", settings={"final": 1}).result_rows[0][0]

    client.command(f"TRUNCATE TABLE {db}.meter_operations")
    run_flow("meters", cfg, RunOptions(f"file:{replay}", chdb_dsn, tmp_path / "f"))
    via_file = client.query(f"SELECT meter_id, status, gov_m3, gsv_15c_m3, mass_air_kg FROM {db}.meter_operations "
                            "WHERE status != 'creep' ORDER BY meter_id", settings={"final": 1}).result_rows
    assert [r[:2] for r in via_kafka] == [("M-01", "closed"), ("M-02", "closed")]
    for a, b in zip(via_kafka, via_file, strict=True):
        assert a[2:] == pytest.approx(b[2:], rel=1e-12)
    n_readings = sum(1 for _ in (replay / "meter.readings.jsonl").open()) - 1
    assert readings == n_readings

    dead = consume_all(kafka_broker, "quaywatch.dead_letters", expect=1)
    assert len(dead) == 1 and "undecodable JSON" in dead[0]["reason"] and dead[0]["raw"] == "{broken"


def test_alerts_over_kafka_equal_the_replay_and_reach_the_alerts_topic(kafka_broker, warehouse, chdb_dsn, tmp_path):
    """The fuel-check campaign produced to two-partition topics: partitions consumed at their own pace must
    not fake a silent meter, and every alert is published on the alerts topic with the table's id."""
    from connectors.simulate.campaign import simulate_campaign

    client, db = warehouse
    cfg = load_config(environ={})
    cfg = replace(cfg, warehouse=replace(cfg.warehouse, database=db),
                  kafka=replace(cfg.kafka, topics={s.replace(".", "_"): f"alerts_test.{s}"
                                                   for s in (*METER_STREAMS, "alerts", "dead_letters")}))
    replay = tmp_path / "replay"
    simulate_campaign(load_config(environ={}), replay, datetime(2026, 3, 1, 6, tzinfo=UTC), seed=7)
    topics = {s: cfg.kafka.topic(s) for s in METER_STREAMS}
    admin = AdminClient({"bootstrap.servers": kafka_broker})
    for f in admin.create_topics([NewTopic(cfg.kafka.topic(n), num_partitions=1, replication_factor=1)
                                  for n in ("alerts", "dead_letters")]).values():
        f.result(timeout=10)
    produce_replay(kafka_broker, replay, topics)

    run_flow("meters", cfg, RunOptions(f"kafka://{kafka_broker}", chdb_dsn, tmp_path / "k", tail=False))
    via_kafka = client.query(f"SELECT alert_id, kind FROM {db}.alerts ORDER BY alert_id",
                             settings={"final": 1}).result_rows
    client.command(f"TRUNCATE TABLE {db}.alerts")
    run_flow("meters", cfg, RunOptions(f"file:{replay}", chdb_dsn, tmp_path / "f"))
    via_file = client.query(f"SELECT alert_id, kind FROM {db}.alerts ORDER BY alert_id",
                            settings={"final": 1}).result_rows
    assert sorted(k for _i, k in via_file) == ["bl_tolerance", "meter_failure"]
    assert via_kafka == via_file
    # an alert is published again when its episode ends: read until quiet, then compare the ids
    published = consume_all(kafka_broker, cfg.kafka.topic("alerts"), expect=1000, timeout_s=8.0)
    assert {m["alert_id"] for m in published} == {i for i, _k in via_file}
    assert all(m["kind"] in ("bl_tolerance", "meter_failure") and m["severity"] == "critical" for m in published)
