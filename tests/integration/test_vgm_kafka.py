"""The VGM flow over a real Kafka-protocol broker (tansu): same certificates and block list as the replay,
alerts and dead letters published on their topics."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from connectors.simulate.vgm import VgmScenario, simulate_vgm
from flows.config import load_config
from flows.run import RunOptions, run_flow
from operators.vgm_events import VGM_STREAMS
from tests.integration.test_kafka_flow import consume_all

pytestmark = pytest.mark.integration

KEYS = {"vgm.weighings": "instrument_id", "vgm.declarations": "container_number"}


def test_kafka_source_certifies_and_blocks_like_the_replay(kafka_broker, warehouse, chdb_dsn, tmp_path: Path):
    client, db = warehouse
    cfg = load_config(environ={})
    names = {"vgm_weighings": f"{db}.vgm.weighings", "vgm_declarations": f"{db}.vgm.declarations",
             "alerts": f"{db}.alerts", "dead_letters": f"{db}.dead_letters"}
    cfg = replace(cfg, warehouse=replace(cfg.warehouse, database=db), kafka=replace(cfg.kafka, topics=names))
    replay = tmp_path / "replay"
    truth = simulate_vgm(cfg.vgm, VgmScenario(containers=20), replay, seed=5)

    admin = AdminClient({"bootstrap.servers": kafka_broker})
    futures = admin.create_topics([NewTopic(t, num_partitions=2, replication_factor=1) for t in names.values()])
    for f in futures.values():
        f.result(timeout=10)
    producer = Producer({"bootstrap.servers": kafka_broker, "linger.ms": 5})
    produced = 0
    for stream in VGM_STREAMS:
        for line in (replay / f"{stream}.jsonl").read_text().splitlines():
            try:
                key = str(json.loads(line).get(KEYS[stream], ""))
            except ValueError:
                key = ""
            producer.produce(cfg.kafka.topic(stream), value=line.encode(), key=key.encode())
            produced += 1
    producer.flush(30)
    assert produced > truth.weighings

    run_flow("vgm", cfg, RunOptions(f"kafka://{kafka_broker}", chdb_dsn, tmp_path / "k", tail=False))

    def q(sql: str) -> list[tuple]:
        return client.query(sql, settings={"final": 1}).result_rows

    assert dict(q(f"SELECT container_number, vgm_kg FROM {db}.vgm_certificates")) == truth.certificates
    nos = [r[0] for r in q(f"SELECT certificate_no FROM {db}.vgm_certificates")]
    assert len(set(nos)) == len(nos) == len(truth.certificates)
    blocked = {r[0] for r in q(f"SELECT container_number FROM {db}.vgm_status WHERE NOT loadable")}
    assert blocked == set(truth.blocked)
    # the findings that do not depend on the order in which the two topics are consumed
    kinds = {(k, e) for k, e in q(f"SELECT kind, entity_id FROM {db}.alerts")}
    for kind, entity in truth.alerts:
        if kind != "vgm_missing":
            assert (kind, entity) in kinds

    n_messages = q(f"SELECT (SELECT count() FROM {db}.vgm_violations) + "
                   f"(SELECT countIf(status = 'resolved') FROM {db}.alerts)")[0][0]
    published = consume_all(kafka_broker, names["alerts"], expect=n_messages)
    assert len(published) == n_messages
    assert {(m["kind"], m["entity_id"]) for m in published} == kinds
    dead = consume_all(kafka_broker, names["dead_letters"], expect=truth.dead_letters)
    assert len(dead) == truth.dead_letters and any("check digit" in d["reason"] for d in dead)
