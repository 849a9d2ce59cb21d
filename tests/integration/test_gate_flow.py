"""The gate flow end to end on the embedded warehouse: generated frames → Bytewax → OCR → chDB, from a replay
directory and from a real Kafka broker (JPEG bytes in the value, metadata in the headers).

Expected values come from the generator's ground truth. The flow may miss a field (then the passage is
marked for review) but must never store a wrong container code or plate.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from connectors.simulate.gate_scenes import write_replay
from flows.config import Config, load_config
from flows.run import RunOptions, run_flow

pytestmark = pytest.mark.integration
CAMERAS = (("rear", 1), ("lpr", 2))


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("gate_replay")
    truths = write_replay(out, 2, seed=3, tiers=("easy",), width=960, cameras=CAMERAS)
    manifest = out / "gate.frames" / "frames.jsonl"
    lines = manifest.read_text().splitlines()
    first = json.loads(lines[0])
    (out / "gate.frames" / "cut.jpg").write_bytes((out / "gate.frames" / first["file"]).read_bytes()[:2000])
    bad = [
        "{not json",
        json.dumps({**first, "file": "cut.jpg", "ts": "2026-03-02T09:00:00.000Z", "passage_id": "X"}),
        json.dumps({**first, "file": "missing.jpg"}),
        json.dumps({**first, "checkpoint": 7, "passage_id": "Y"}),
    ]
    manifest.write_text("\n".join(lines + bad) + "\n")
    return out, truths


def site(db: str, archive: Path) -> Config:
    cfg = load_config(environ={})
    return replace(cfg, warehouse=replace(cfg.warehouse, database=db),
                   gate=replace(cfg.gate, archive_dir=str(archive)))


def q(client, sql):
    return client.query(sql, settings={"final": 1}).result_rows


def check_passages(client, db, truths):
    rows = q(client, f"SELECT passage_id, plate, trailer_plate, containers, size_type, review, frame_count, "
                     f"frame_keys FROM {db}.gate_passages ORDER BY passage_id")
    assert [r[0] for r in rows] == [t.passage_id for t in truths]
    for (_pid, plate, trailer, containers, st, review, n, keys), t in zip(rows, truths, strict=True):
        assert n == 2 and len(keys) == 2
        assert plate in (t.plate, None) and trailer in (t.trailer_plate, None)
        assert containers in ([t.container], [])
        assert review is (plate is None or not containers)
        assert st == t.size_type
    return rows


def test_replay_reads_passages_archive_and_dead_letters(replay, warehouse, chdb_dsn, tmp_path):
    out, truths = replay
    client, db = warehouse
    cfg = site(db, tmp_path / "archive")
    run_flow("gate", cfg, RunOptions(f"file:{out}", chdb_dsn, tmp_path))

    rows = check_passages(client, db, truths)
    # every key of a passage is the SHA-256 of an archived frame file
    frames = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (out / "gate.frames").glob("G1-*.jpg")}
    assert {k for r in rows for k in r[7]} == frames
    for k in frames:
        assert (tmp_path / "archive" / k[:2] / k[2:4] / f"{k}.jpg").exists()
    reads = q(client, f"SELECT camera_id, passage_id, frame_sha256 FROM {db}.gate_reads")
    assert len(reads) == 4 and {r[2] for r in reads} == frames
    dead = q(client, f"SELECT source_position, reason FROM {db}.dead_letters ORDER BY source_position")
    reasons = [r[1] for r in dead]
    assert len(dead) == 4
    assert any("manifest line" in r for r in reasons)
    assert any("truncated JPEG" in r for r in reasons)
    assert any("frame file missing" in r for r in reasons)
    assert any("checkpoint" in r for r in reasons)

    # a replay changes nothing
    run_flow("gate", cfg, RunOptions(f"file:{out}", chdb_dsn, tmp_path))
    assert q(client, f"SELECT count() FROM {db}.gate_reads")[0][0] == 4
    assert q(client, f"SELECT count() FROM {db}.gate_passages")[0][0] == 2
    assert q(client, f"SELECT count() FROM {db}.dead_letters")[0][0] == 4


def test_kafka_frames_with_headers(replay, kafka_broker, warehouse, chdb_dsn, tmp_path):
    out, truths = replay
    client, db = warehouse
    cfg = site(db, tmp_path / "archive")
    # topics of this test only: the broker is shared by the session
    names = {"gate_frames": "gatetest.frames", "gate_passages": "gatetest.passages", "dead_letters": "gatetest.dead"}
    cfg = replace(cfg, kafka=replace(cfg.kafka, topics={**cfg.kafka.topics, **names}))
    topic = cfg.kafka.topic("gate.frames")
    admin = AdminClient({"bootstrap.servers": kafka_broker})
    for f in admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1)
                                  for t in names.values()]).values():
        f.result(timeout=10)
    producer = Producer({"bootstrap.servers": kafka_broker})
    sent = 0
    for line in (out / "gate.frames" / "frames.jsonl").read_text().splitlines():
        try:
            meta = json.loads(line)
        except ValueError:
            continue
        path = out / "gate.frames" / str(meta.pop("file"))
        if not path.exists() or meta.get("checkpoint") == 7:
            continue
        headers = [(k, str(v).encode()) for k, v in meta.items()]
        producer.produce(topic, value=path.read_bytes(), key=str(meta["lane_id"]).encode(), headers=headers)
        sent += 1
    producer.flush(30)
    assert sent == 5  # 4 frames + the truncated JPEG

    run_flow("gate", cfg, RunOptions(f"kafka://{kafka_broker}", chdb_dsn, tmp_path / "k", tail=False))
    check_passages(client, db, truths)
    dead = q(client, f"SELECT reason, source_position FROM {db}.dead_letters")
    assert len(dead) == 1 and "truncated JPEG" in dead[0][0] and dead[0][1].startswith(topic)

    c = Consumer({"bootstrap.servers": kafka_broker, "group.id": "t", "auto.offset.reset": "earliest",
                  "session.timeout.ms": 6000, "fetch.wait.max.ms": 10})
    c.subscribe([names["gate_passages"]])
    got: list[dict] = []
    deadline = time.monotonic() + 20
    while len(got) < 2 and time.monotonic() < deadline:
        msg = c.poll(0.5)
        if msg is not None and msg.error() is None:
            got.append(json.loads(msg.value()))
    c.close()
    assert sorted(m["passage_id"] for m in got) == [t.passage_id for t in truths]
