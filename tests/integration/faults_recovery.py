"""Flow-independent parts of the crash harness (the meters harness in ``test_faults_meters_kafka.py``, for any
flow): run a flow over Kafka to the end, SIGKILL it at random points after it snapshotted new input offsets and
restart it with recovery until the input is drained, and compare every table of two warehouses.

Flow-specific parts (input, expected sizes) stay in each flow's test file.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.integration.faults_support import ROOT, child_env, run_command, start

RUN_TIMEOUT_S = 300
#: Columns derived from where a record sat in Kafka (hashes over its position): they differ between runs over
#: other topics, partitions or offsets, whatever the flow computed.
POSITION_DERIVED = ("source_position", "dead_letter_id", "request_id", "hash", "prev_hash", "payload")


def source_offsets(data_dir: Path, flow: str) -> set[tuple[str, bytes]]:
    """The Kafka offsets the flow's recovery store last snapshotted (empty before the first snapshot)."""
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


def run_to_end(flow: str, broker: str, env: dict[str, str], data_dir: Path) -> None:
    """One uninterrupted run (with recovery) until the topics are drained."""
    log = data_dir.with_suffix(".log")
    proc = start(run_command(flow, f"kafka://{broker}", data_dir), env, log)
    rc = proc.wait(timeout=RUN_TIMEOUT_S)
    assert rc == 0, log.read_text()[-3000:]


def kill_after_progress(proc: subprocess.Popen[bytes], data_dir: Path, flow: str, rng: random.Random) -> bool:
    """SIGKILL the run at a random point after it snapshotted new input offsets; False if it ended first."""
    before = source_offsets(data_dir, flow)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while proc.poll() is None and time.monotonic() < deadline:
        now = source_offsets(data_dir, flow)
        if now and now != before:
            time.sleep(rng.uniform(0.0, 1.0))  # somewhere in the processing that follows
            if proc.poll() is not None:
                return False
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return True
        time.sleep(0.05)
    return False


def drain_with_kills(flow: str, broker: str, env: dict[str, str], data_dir: Path, rng: random.Random,
                     max_kills: int) -> int:
    """Run until the topics are drained, SIGKILLing up to ``max_kills`` runs mid-way; returns the kills."""
    log = data_dir.with_suffix(".log")
    kills = 0
    for _run in range(12):
        proc = start(run_command(flow, f"kafka://{broker}", data_dir), env, log)
        if kills < max_kills and kill_after_progress(proc, data_dir, flow, rng):
            kills += 1
            continue
        rc = proc.wait(timeout=RUN_TIMEOUT_S)
        assert rc == 0, log.read_text()[-3000:]
        return kills
    raise AssertionError("the input was not drained after 12 restarts")


_TABLES = r"""
import json, sys
from pathlib import Path
from connectors.warehouse.client import connect, resolve_dsn
c = connect(resolve_dsn("", Path(sys.argv[1])))
db, skip, prefix = sys.argv[2], set(sys.argv[3].split(",")) if sys.argv[3] else set(), sys.argv[4]
ignore = set(sys.argv[5].split(","))
F = {"final": 1}
tables = [r[0] for r in c.query(f"SELECT name FROM system.tables WHERE database = '{db}' "
                                "AND engine LIKE '%MergeTree%' ORDER BY name").result_rows]
out = {}
for t in tables:
    # columns the warehouse fills at insert time (recorded_at ... DEFAULT now64) differ between any two runs
    cols = [r[0] for r in c.query(f"SELECT name FROM system.columns WHERE database = '{db}' AND table = '{t}' "
                                  "AND default_expression NOT ILIKE '%now%' ORDER BY position").result_rows
            if r[0] not in ignore]
    where = " WHERE chain != 'config'" if t == "audit_log" else ""  # the config entry holds its wall-clock time
    # source positions name the run's own topics (tests share a broker): compared without the topic prefix
    norm = [f"replaceRegexpAll(toString(`{x}`), '{prefix}', '')" for x in cols]
    content = "" if t in skip else f", sum(cityHash64(tuple({', '.join(norm)})))"
    out[t] = [str(v) for v in c.query(f"SELECT count(){content} FROM {db}.{t}{where}", settings=F).result_rows[0]]
print(json.dumps(out))
"""


def table_digests(data_dir: Path, skip_content: Iterable[str] = (), database: str = "quaywatch",
                  topic_prefix: str = r"faults_[a-z]+_[0-9a-f]{8}\\.[a-z._]+(/[0-9]+@[0-9]+)?") -> dict[str, Any]:
    """Per table of the embedded warehouse in ``data_dir``: row count and a digest of every row (FINAL), read in a
    child process. Tables in ``skip_content`` are compared by count only; ``topic_prefix`` (a regular expression:
    Kafka source positions ``topic/partition@offset`` of the tests' topics) is removed from every value first, so
    runs over other topics, partitions or offsets compare equal."""
    res = subprocess.run([sys.executable, "-c", _TABLES, str(data_dir), database, ",".join(skip_content),
                          topic_prefix, ",".join(POSITION_DERIVED)],
                         env=child_env({}), cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    import json

    digests: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return digests
