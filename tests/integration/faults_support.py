"""Helpers of the fault tier: produce a replay to Kafka, run a flow as a child process (the way it runs in
production), and read the warehouse totals a run left behind. The private brokers (tansu in memory, tansu on a
local S3) come from ``connectors.local_broker``.

chDB allows one engine path per process, and the child owns its warehouse path while it runs: totals are read
by another child after it exited, never by the test process (which holds the session's warehouse).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

# the local brokers live in connectors.local_broker (shared with bench/); re-exported for the fault tests
from connectors.local_broker import PersistentBroker as PersistentBroker
from connectors.local_broker import free_port as free_port
from connectors.local_broker import start_persistent_broker as start_persistent_broker
from connectors.local_broker import start_tansu as start_tansu
from connectors.local_broker import tansu_command as tansu_command
from connectors.local_broker import wait_for_port as wait_for_port
from operators.events import METER_STREAMS

KEYS = {"meter.readings": "meter_id", "tank.readings": "tank_id", "transfers": "transfer_id",
        "lab.density": "transfer_id", "port.vessels": "vessel_call_id", "port.manifests": "summary_declaration_no",
        "port.containers": "container_no", "port.customs": "container_no", "gate.reads": "lane_id",
        "gate.pregate": "plate"}
RUN_TIMEOUT_S = 300
ROOT = Path(__file__).resolve().parents[2]


def topic_env(prefix: str, streams: Iterable[str] = (*METER_STREAMS, "alerts", "dead_letters")) -> dict[str, str]:
    """Environment overrides giving every stream its own topic under ``prefix`` (tests share one broker)."""
    return {f"QUAYWATCH__KAFKA__TOPICS__{s.replace('.', '_').upper()}": f"{prefix}.{s}" for s in streams}


def create_topics(broker: str, topics: Iterable[str], partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": broker})
    for f in admin.create_topics([NewTopic(t, num_partitions=partitions, replication_factor=1)
                                  for t in topics]).values():
        try:
            f.result(timeout=10)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise


def replay_lines(replay: Path, streams: Iterable[str] = METER_STREAMS) -> list[tuple[str, str]]:
    """``(stream, line)`` of every record of a replay directory, stream by stream."""
    out = []
    for stream in streams:
        path = replay / f"{stream}.jsonl"
        if path.exists():
            out.extend((stream, line) for line in path.read_text().splitlines())
    return out


def produce(broker: str, records: Iterable[tuple[str, str]], topics: Mapping[str, str]) -> int:
    """Produce ``(stream, line)`` records keyed by their entity id; returns how many."""
    producer = Producer({"bootstrap.servers": broker, "linger.ms": 5})
    n = 0
    for stream, line in records:
        try:
            key = str(json.loads(line).get(KEYS.get(stream, ""), ""))
        except (ValueError, AttributeError):
            key = ""
        producer.produce(topics[stream], value=line.encode(), key=key.encode())
        n += 1
        if n % 5000 == 0:
            producer.flush(30)
    assert producer.flush(30) == 0, "records left unsent"
    return n


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUAYWATCH")}
    env.update(extra)
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_command(flow: str, source: str, data_dir: Path, recovery: bool = True) -> list[str]:
    """The ``quaywatch run`` command line of a flow (through the interpreter running the tests)."""
    cmd = [sys.executable, "-m", "flows.cli", "run", flow, "--source", source, "--data-dir", str(data_dir)]
    if source.startswith("kafka://"):
        cmd.append("--no-tail")
    if recovery:
        cmd.append("--recovery")
    return cmd


def start(cmd: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen(cmd, env=child_env(env), cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)


_TOTALS = r"""
import json, sys
from connectors.warehouse.client import connect, resolve_dsn
from pathlib import Path
c = connect(resolve_dsn("", Path(sys.argv[1])))
db = sys.argv[2]
F = {"final": 1}
def q(sql):
    return [list(r) for r in c.query(sql, settings=F).result_rows]
queries = json.loads(sys.argv[3])
tables = [r[0] for r in c.query(f"SELECT name FROM system.tables WHERE database = '{db}' "
                                 "AND engine LIKE '%MergeTree%' ORDER BY name").result_rows]
out = {"counts": {t: q(f"SELECT count() FROM {db}.{t}")[0][0] for t in tables}}
out.update({name: q(sql.replace("{db}", db)) for name, sql in queries.items()})
print(json.dumps(out, default=str))
"""


#: What the meters flow's totals compare, besides the row count of every table (``{db}``: the database).
METER_TOTALS = {
    "operations": "SELECT operation_id, meter_id, status, transfer_id, started_at, ended_at, gov_m3, gsv_15c_m3, "
                  "mass_air_kg, mass_vacuum_kg, reading_count, revision FROM {db}.meter_operations "
                  "ORDER BY operation_id",
    "alerts": "SELECT alert_id, kind, severity, entity_type, entity_id, window_start, window_end, details "
              "FROM {db}.alerts ORDER BY alert_id",
    "reconciliations": "SELECT * FROM {db}.reconciliations ORDER BY transfer_id",
    "dead_letters": "SELECT dead_letter_id, stream, reason FROM {db}.dead_letters ORDER BY dead_letter_id",
    "readings": "SELECT meter_id, count(), round(sum(delta_gov_m3), 6), max(ts) FROM {db}.meter_readings "
                "GROUP BY meter_id ORDER BY meter_id",
}


def warehouse_totals(data_dir: Path, database: str = "quaywatch",
                     queries: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Totals of the embedded warehouse in ``data_dir`` (read in a child process, with FINAL): the row count of
    every table, and the result of each named query (default: :data:`METER_TOTALS`)."""
    spec = json.dumps(dict(METER_TOTALS if queries is None else queries))
    res = subprocess.run([sys.executable, "-c", _TOTALS, str(data_dir), database, spec], env=child_env({}), cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    totals: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return totals


def run_to_end(broker: str, env: dict[str, str], data_dir: Path, flow: str = "meters") -> None:
    """One uninterrupted run (with recovery) until the topics are drained."""
    proc = start(run_command(flow, f"kafka://{broker}", data_dir), env, data_dir.with_suffix(".log"))
    rc = proc.wait(timeout=RUN_TIMEOUT_S)
    assert rc == 0, data_dir.with_suffix(".log").read_text()[-3000:]


def source_offsets(data_dir: Path, flow: str = "meters") -> set[tuple[str, bytes]]:
    """The Kafka offsets the recovery store last snapshotted (empty before the first snapshot)."""
    db = data_dir / "recovery" / flow / "part-0.sqlite3"
    if not db.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2) as con:
            rows = con.execute("SELECT state_key, ser_change FROM snaps WHERE step_id LIKE '%kafka_input' "
                               "AND snap_epoch = (SELECT max(snap_epoch) FROM snaps)").fetchall()
    except sqlite3.Error:  # being written: look again
        return set()
    return {(str(k), bytes(v or b"")) for k, v in rows}


def kill_after_progress(proc: subprocess.Popen[bytes], data_dir: Path, rng: random.Random,
                        flow: str = "meters") -> bool:
    """SIGKILL the run at a random point after it snapshotted new input offsets; False if it ended first."""
    before = source_offsets(data_dir, flow)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while proc.poll() is None and time.monotonic() < deadline:
        now = source_offsets(data_dir, flow)
        if now and now != before:
            time.sleep(rng.uniform(0.0, 0.3))  # somewhere in the processing that follows (small inputs drain fast)
            if proc.poll() is not None:
                return False
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return True
        time.sleep(0.05)
    return False


def drain_with_kills(broker: str, env: dict[str, str], data_dir: Path, rng: random.Random, max_kills: int,
                     flow: str = "meters") -> int:
    """Run until the topics are drained, SIGKILLing up to ``max_kills`` runs mid-way; returns the kills."""
    log = data_dir.with_suffix(".log")
    kills = 0
    for _run in range(12):
        proc = start(run_command(flow, f"kafka://{broker}", data_dir), env, log)
        if kills < max_kills and kill_after_progress(proc, data_dir, rng, flow):
            kills += 1
            continue
        rc = proc.wait(timeout=RUN_TIMEOUT_S)
        assert rc == 0, log.read_text()[-3000:]
        return kills
    raise AssertionError("the input was not drained after 12 restarts")
