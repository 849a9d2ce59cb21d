"""Fault tier for the VGM and camera-health flows over a real broker (tansu) into the embedded warehouse, run as a child
process the way production runs it (``quaywatch run cameras --source kafka://… --recovery --no-tail``), frames as
Kafka records (JPEG in the value, metadata in the headers):

* Crash and resume: SIGKILL at seeded random points after the run snapshotted new input offsets, restarted
  with recovery until drained, over two deliveries: every table (row count and a digest of every row) equals an
  uninterrupted run's — health windows, state changes, alerts.
* Duplicate delivery: every record produced twice changes no table.
* Arrival order: one partition per topic vs three gives the same tables.

The reference is an uninterrupted run of the same code over the same input (the property under test is "a fault
changes nothing"); what the tables should hold is proven by ``test_cameras_flow.py``.

The VGM flow failed these at first (certificates, statuses and audit entries of other content, violations
missing): records of a partition whose consumer fetched late were overtaken and applied out of event-time order,
same-instant events were ordered by arrival, lateness depended on batch cuts, and a weighing redelivered after its
vehicle was pruned was applied again. See the README, Reliability of the VGM and camera-health flows, and
``tests/unit/test_vgm_determinism.py``."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from connectors.simulate.camera_streams import CameraSpec, write_streams
from connectors.simulate.vgm import VgmScenario, simulate_vgm
from flows.config import load_config
from tests.integration.faults_recovery import table_digests
from tests.integration.faults_support import create_topics, drain_with_kills, run_to_end, topic_env

pytestmark = [pytest.mark.integration, pytest.mark.faults]

#: One record as produced: (stream, key, value, headers).
Record = tuple[str, bytes, bytes, list[tuple[str, bytes]]]


@dataclass(frozen=True)
class FlowInput:
    """A flow's streams, its input as Kafka records, the table proving it did work, and the record's event time."""

    flow: str
    streams: tuple[str, ...]
    records: list[Record]
    main_table: str
    settings: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def ts(record: Record) -> str:
        headers = dict(record[3])
        return headers["ts"].decode() if "ts" in headers else str(json.loads(record[2])["ts"])


def vgm_input(out: Path) -> FlowInput:
    simulate_vgm(load_config(environ={}).vgm, VgmScenario(containers=60), out, seed=11)
    keys = {"vgm.weighings": "instrument_id", "vgm.declarations": "container_number"}
    records: list[Record] = []
    for stream, key in keys.items():
        for line in (out / f"{stream}.jsonl").read_text().splitlines():
            try:
                obj = json.loads(line)
                k, has_ts = str(obj.get(key, "")), isinstance(obj.get("ts"), str)
            except (ValueError, AttributeError):
                continue  # malformed lines have no event time to split deliveries on: the replay tests cover them
            if has_ts:
                records.append((stream, k.encode(), line.encode(), []))
    return FlowInput("vgm", tuple(keys), records, "vgm_certificates")


def cameras_input(out: Path) -> FlowInput:
    start = datetime(2026, 3, 1, 21, 0, tzinfo=UTC)
    write_streams(out, [CameraSpec("entry", 320, 180, 10.0, 30.0, "defocus", 12.0, seed=3),
                        CameraSpec("yard", 320, 180, 10.0, 30.0, "outage", 10.0, seed=4, outage_s=4.0),
                        CameraSpec("lone", 320, 180, 5.0, 30.0, "night", 8.0, seed=5)], start)
    folder = out / "camera.frames"
    records: list[Record] = []
    for line in (folder / "frames.jsonl").read_text().splitlines():
        meta = json.loads(line)
        data = (folder / str(meta.pop("file"))).read_bytes()
        records.append(("camera.frames", str(meta["camera_id"]).encode(), data,
                        [(k, str(v).encode()) for k, v in meta.items()]))
    # short health windows: many windows per camera, so the tables compared hold a lot
    return FlowInput("cameras", ("camera.frames",), records, "camera_health",
                     (("QUAYWATCH__CAMERAS__WINDOW_S", "2.0"), ("QUAYWATCH__CAMERAS__OUTAGE_GAP_S", "2.0")))


INPUTS: dict[str, Callable[[Path], FlowInput]] = {"cameras": cameras_input, "vgm": vgm_input}


@pytest.fixture(scope="module", params=sorted(INPUTS))
def flow_input(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> FlowInput:
    return INPUTS[request.param](tmp_path_factory.mktemp(f"faults_{request.param}"))


def topics(fi: FlowInput, partitions: int, broker: str) -> dict[str, str]:
    """Fresh topics for the flow's streams and outputs; returns the child's environment."""
    prefix = f"faults_{fi.flow}_{uuid.uuid4().hex[:8]}"
    names = (*fi.streams, "alerts", "dead_letters")
    env = {**topic_env(prefix, names), **dict(fi.settings)}
    create_topics(broker, [f"{prefix}.{s}" for s in names], partitions)
    return env


def produce(broker: str, env: dict[str, str], records: list[Record]) -> None:
    producer = Producer({"bootstrap.servers": broker, "linger.ms": 5})
    for stream, key, value, headers in records:
        topic = env[f"QUAYWATCH__KAFKA__TOPICS__{stream.replace('.', '_').upper()}"]
        producer.produce(topic, value=value, key=key, headers=headers)
        producer.poll(0)
    assert producer.flush(30) == 0, "records left unsent"


def assert_same_tables(got: dict[str, Any], want: dict[str, Any], fi: FlowInput) -> None:
    assert int(want[fi.main_table][0]) > 20
    assert got == want


def halves(fi: FlowInput) -> tuple[list[Record], list[Record]]:
    """The records split at the middle of their event time (two deliveries)."""
    mid = sorted(fi.ts(r) for r in fi.records)[len(fi.records) // 2]
    return [r for r in fi.records if fi.ts(r) < mid], [r for r in fi.records if fi.ts(r) >= mid]


def test_sigkill_at_random_points_then_resume_gives_the_uninterrupted_tables(kafka_broker, flow_input, tmp_path):
    fi = flow_input
    clean, crashed = topics(fi, 2, kafka_broker), topics(fi, 2, kafka_broker)
    rng = random.Random(2027)
    kills = 0
    for part in halves(fi):
        for env in (clean, crashed):
            produce(kafka_broker, env, part)
        run_to_end(kafka_broker, clean, tmp_path / "uninterrupted", fi.flow)
        kills += drain_with_kills(kafka_broker, crashed, tmp_path / "crashed", rng, max_kills=2, flow=fi.flow)
    assert kills >= 2, f"only {kills} kill(s) landed while the flow consumed"
    assert_same_tables(table_digests(tmp_path / "crashed"), table_digests(tmp_path / "uninterrupted"), fi)


def test_every_record_delivered_twice_changes_no_table(kafka_broker, flow_input, tmp_path):
    fi = flow_input
    once, twice = topics(fi, 2, kafka_broker), topics(fi, 2, kafka_broker)
    produce(kafka_broker, once, fi.records)
    produce(kafka_broker, twice, fi.records + fi.records)
    run_to_end(kafka_broker, once, tmp_path / "once", fi.flow)
    run_to_end(kafka_broker, twice, tmp_path / "twice", fi.flow)
    assert_same_tables(table_digests(tmp_path / "twice"), table_digests(tmp_path / "once"), fi)


def test_one_or_three_partitions_give_the_same_tables(kafka_broker, flow_input, tmp_path):
    fi = flow_input
    one, three = topics(fi, 1, kafka_broker), topics(fi, 3, kafka_broker)
    produce(kafka_broker, one, fi.records)
    produce(kafka_broker, three, fi.records)
    run_to_end(kafka_broker, one, tmp_path / "p1", fi.flow)
    run_to_end(kafka_broker, three, tmp_path / "p3", fi.flow)
    assert_same_tables(table_digests(tmp_path / "p3"), table_digests(tmp_path / "p1"), fi)
