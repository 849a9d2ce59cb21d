"""The containers flow over a real Kafka-protocol broker (tansu): the planted discrepancies are alerted and
published on the alerts topic, the rejected records on the dead-letter topic."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from connectors.simulate.containers import simulate_containers
from flows.config import load_config
from flows.run import RunOptions, run_flow
from operators.port_events import PORT_STREAMS
from tests.integration.test_kafka_flow import consume_all

pytestmark = pytest.mark.integration

KEYS = {"port.vessels": "vessel_call_id", "port.manifests": "summary_declaration_no",
        "port.containers": "container_no", "port.customs": "container_no"}


def produce(broker, replay, topics):
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": broker})
    names = [*topics.values(), "quaywatch.port_alerts_test", "quaywatch.port_dead_test"]
    for f in admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1) for t in names]).values():
        f.result(timeout=10)
    producer = Producer({"bootstrap.servers": broker, "linger.ms": 5})
    for stream, topic in topics.items():
        for line in (replay / f"{stream}.jsonl").read_text().splitlines():
            try:
                key = str(json.loads(line).get(KEYS[stream]) or "")
            except ValueError:
                key = ""
            producer.produce(topic, value=line.encode(), key=key.encode())
    producer.flush(30)


def test_kafka_source_raises_the_planted_alerts_and_publishes_them(kafka_broker, warehouse, chdb_dsn, tmp_path):
    client, db = warehouse
    cfg = load_config(environ={})
    topics_cfg = {**cfg.kafka.topics, "alerts": "quaywatch.port_alerts_test",
                  "dead_letters": "quaywatch.port_dead_test"}
    cfg = replace(cfg, warehouse=replace(cfg.warehouse, database=db),
                  kafka=replace(cfg.kafka, topics=topics_cfg))
    replay = tmp_path / "replay"
    truth = simulate_containers(replay, datetime(2026, 3, 1, 6, tzinfo=UTC), seed=11, containers=300)
    produce(kafka_broker, replay, {s: cfg.kafka.topic(s) for s in PORT_STREAMS})

    run_flow("containers", cfg, RunOptions(f"kafka://{kafka_broker}", chdb_dsn, tmp_path / "k", tail=False))
    expected = Counter((a["kind"], a["entity_id"]) for a in truth["expected_alerts"])
    # topics are read independently (a container's exit may be read before its release): findings the later
    # evidence refutes are resolved, so the open alerts are exactly the planted ones
    rows = client.query(f"SELECT kind, entity_id, status FROM {db}.alerts", settings={"final": 1}).result_rows
    assert Counter((r[0], r[1]) for r in rows if r[2] == "open") == expected

    published = consume_all(kafka_broker, "quaywatch.port_alerts_test", expect=10**9, timeout_s=8)  # every revision
    latest = {}
    for m in published:
        if m["alert_id"] not in latest or m["revision"] > latest[m["alert_id"]]["revision"]:
            latest[m["alert_id"]] = m
    assert Counter((m["kind"], m["entity_id"]) for m in latest.values() if m["status"] == "open") == expected
    dead = consume_all(kafka_broker, "quaywatch.port_dead_test", expect=3)
    assert len(dead) == 3 and any("check digit" in d["reason"] for d in dead)
