"""Gate-out live wiring over the real local broker: the containers flow publishes ``containers.exit_status`` to
its topic, the gate flow consumes it with the frames and notices and decides the exits as in the replay.

Expected decisions are the simulator's (the circular's rules per scenario), not the decision code's.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from connectors.simulate.gate_exits import write_exit_scenario
from flows.config import load_config
from flows.run import RunOptions, run_flow
from operators.port_events import PORT_STREAMS
from tests.integration.test_kafka_flow import consume_all

pytestmark = pytest.mark.integration


def produce_lines(producer: Producer, topic: str, path: Path) -> None:
    if path.exists():
        for line in path.read_text().splitlines():
            producer.produce(topic, value=line.encode())


def test_exit_status_over_kafka_drives_the_gate_out_decisions(kafka_broker, warehouse, chdb_dsn, tmp_path):
    client, db = warehouse
    port_dir, gate_dir = tmp_path / "port", tmp_path / "gate"
    truth = write_exit_scenario(port_dir, gate_dir, seed=5)
    suffix = str(time.monotonic_ns())
    streams = (*PORT_STREAMS, "containers.exit_status", "gate.frames", "gate.pregate", "gate.passages",
               "gate.decisions", "alerts", "dead_letters")
    names = {s.replace(".", "_"): f"gxk.{s}.{suffix}" for s in streams}
    cfg = load_config(environ={})
    cfg = replace(cfg, warehouse=replace(cfg.warehouse, database=db), kafka=replace(cfg.kafka, topics=names),
                  gate=replace(cfg.gate, archive_dir=str(tmp_path / "archive")))
    admin = AdminClient({"bootstrap.servers": kafka_broker})
    for f in admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1)
                                  for t in names.values()]).values():
        f.result(timeout=10)
    producer = Producer({"bootstrap.servers": kafka_broker})
    for s in PORT_STREAMS:
        produce_lines(producer, cfg.kafka.topic(s), port_dir / f"{s}.jsonl")
    producer.flush(30)
    run_flow("containers", cfg, RunOptions(f"kafka://{kafka_broker}", chdb_dsn, tmp_path / "c", tail=False))
    statuses = consume_all(kafka_broker, names["containers_exit_status"], expect=10**9, timeout_s=8)
    by = {t["scenario"]: t for t in truth}
    held = [m for m in statuses if m.get("container_no") == by["held"]["container"]]
    assert held and held[-1]["may_exit"] is False and "open_hold" in held[-1]["exit_codes"]

    produce_lines(producer, names["gate_pregate"], gate_dir / "gate.pregate.jsonl")
    for line in (gate_dir / "gate.frames" / "frames.jsonl").read_text().splitlines():
        meta = json.loads(line)
        data = (gate_dir / "gate.frames" / str(meta.pop("file"))).read_bytes()
        producer.produce(names["gate_frames"], value=data, key=str(meta["lane_id"]).encode(),
                         headers=[(k, str(v).encode()) for k, v in meta.items()])
    producer.flush(30)
    run_flow("gate", cfg, RunOptions(f"kafka://{kafka_broker}", chdb_dsn, tmp_path / "g", tail=False))
    rows = {r[0]: (r[1], list(r[2])) for r in client.query(
        f"SELECT passage_id, decision, reasons FROM {db}.gate_decisions", settings={"final": 1}).result_rows}
    assert set(rows) == {t["passage_id"] for t in truth}
    for name in ("held", "no_storage"):
        assert rows[by[name]["passage_id"]][0] == "divert" and "exit_blocked" in rows[by[name]["passage_id"]][1]
    third = rows[by["multi_3"]["passage_id"]]
    assert third[0] == "divert" and "package_count_mismatch" in third[1]
    assert rows[by["released"]["passage_id"]][0] in ("open", "manual_review")  # manual review only if OCR failed
    assert client.query(f"SELECT count() FROM {db}.dead_letters WHERE flow = 'gate'").result_rows[0][0] == 0
