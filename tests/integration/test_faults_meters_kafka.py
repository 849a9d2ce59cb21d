"""Fault tier, meters flow over a real broker (tansu) into the embedded warehouse, the flow run as a child
process the way production runs it (``quaywatch run meters --source kafka://… --recovery --no-tail``).

* Crash and resume: SIGKILL at seeded random points, restarted with recovery until the input is drained:
  warehouse totals equal an uninterrupted run's, exactly.
* Duplicate delivery: every event produced twice gives the same totals.
* Broker outage: frozen (SIGSTOP), or killed and restarted on its storage (tansu on a local S3): same totals.
* Broker log reset (in-memory tansu restarted): a resumed run stops with a clear error, skipping nothing.

The reference is always an uninterrupted run of the same code over the same input (the property under test is
"a fault changes nothing"); what those totals should be is proven by the fuel-check tests.
"""

from __future__ import annotations

import json
import pickle
import random
import re
import signal
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.simulate.campaign import simulate_campaign
from flows.config import load_config
from operators.events import METER_STREAMS
from tests.integration.faults_support import (
    RUN_TIMEOUT_S,
    create_topics,
    drain_with_kills,
    produce,
    replay_lines,
    run_command,
    run_to_end,
    source_offsets,
    start,
    start_persistent_broker,
    start_tansu,
    topic_env,
    warehouse_totals,
)

pytestmark = [pytest.mark.integration, pytest.mark.faults]
START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fuel-check campaign (two discharges, B/L bias, power loss, unreported flow: alerts and
    reconciliations), as a replay directory."""
    out = tmp_path_factory.mktemp("faults_campaign")
    simulate_campaign(load_config(environ={}), out, START, seed=7, bl_bias_pct=1.2, unreported_flow=True)
    return out


def kafka_input(broker: str, replay: Path, copies: int = 1, partitions: int = 2,
                records: list[tuple[str, str]] | None = None) -> dict[str, str]:
    """Unique topics holding the campaign (``copies`` times over, or the ``records`` given); returns the
    child's environment."""
    prefix = f"faults_{uuid.uuid4().hex[:8]}"
    env = topic_env(prefix)
    create_topics(broker, [f"{prefix}.{s}" for s in (*METER_STREAMS, "alerts", "dead_letters")], partitions)
    records = replay_lines(replay) if records is None else records
    for _ in range(copies):
        assert produce(broker, records, topics_of(env)) == len(records)
    return env


def topics_of(env: dict[str, str]) -> dict[str, str]:
    return {s: env[f"QUAYWATCH__KAFKA__TOPICS__{s.replace('.', '_').upper()}"] for s in METER_STREAMS}


def assert_same_totals(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert want["counts"]["meter_readings"] > 1000 and want["alerts"] and want["reconciliations"]
    for key in ("counts", "operations", "alerts", "reconciliations", "dead_letters", "readings"):
        assert got[key] == want[key], key


def halves(replay: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The campaign's records split at the middle of its event time (two deliveries)."""
    records = replay_lines(replay)
    stamps = sorted(json.loads(line)["ts"] for _s, line in records)
    mid = stamps[len(stamps) // 2]
    return [r for r in records if json.loads(r[1])["ts"] < mid], [r for r in records if json.loads(r[1])["ts"] >= mid]


def readings_written(log: Path) -> list[int]:
    """Meter readings each run that ended normally reports having written, in order."""
    done = [line for line in log.read_text().splitlines() if line.startswith("meters: done")]
    return [int(m.group(1)) if (m := re.search(r"(\d+) meter_readings", line)) else 0 for line in done]


def test_sigkill_at_random_points_then_resume_gives_the_uninterrupted_totals(kafka_broker, campaign, tmp_path):
    """Two deliveries (the campaign's first and second half of event time), each drained by runs killed with
    SIGKILL at seeded random points after they consumed input, against the same two deliveries uninterrupted."""
    first, second = halves(campaign)
    clean, crashed = kafka_input(kafka_broker, campaign, records=[]), kafka_input(kafka_broker, campaign, records=[])
    rng = random.Random(2026)
    kills, ended = 0, 0
    for part in (first, second):
        for env in (clean, crashed):
            produce(kafka_broker, part, topics_of(env))
        run_to_end(kafka_broker, clean, tmp_path / "uninterrupted")
        ended = len(readings_written(tmp_path / "crashed.log")) if part is second else 0
        kills += drain_with_kills(kafka_broker, crashed, tmp_path / "crashed", rng, max_kills=2)
    assert kills >= 2, f"only {kills} kill(s) landed while the flow consumed"
    # the second delivery resumed from the first one's snapshot: no run re-read the first half
    n_second = sum(1 for s, _l in second if s == "meter.readings")
    assert max(readings_written(tmp_path / "crashed.log")[ended:]) <= n_second
    want = warehouse_totals(tmp_path / "uninterrupted")
    assert want["counts"]["meter_readings"] == sum(1 for s, _l in first + second if s == "meter.readings")
    assert_same_totals(warehouse_totals(tmp_path / "crashed"), want)


def test_every_event_delivered_twice_changes_no_total(kafka_broker, campaign, tmp_path):
    once_dir, twice_dir = tmp_path / "once", tmp_path / "twice"
    run_to_end(kafka_broker, kafka_input(kafka_broker, campaign), once_dir)
    run_to_end(kafka_broker, kafka_input(kafka_broker, campaign, copies=2), twice_dir)
    assert_same_totals(warehouse_totals(twice_dir), warehouse_totals(once_dir))


def test_the_same_replay_run_twice_changes_no_total(campaign, tmp_path):
    once, twice = tmp_path / "once", tmp_path / "twice"
    for data_dir, runs in ((once, 1), (twice, 2)):
        for _ in range(runs):  # without recovery: the second run reads the whole replay again
            proc = start(run_command("meters", f"file:{campaign}", data_dir, recovery=False), {},
                         data_dir.with_suffix(".log"))
            assert proc.wait(timeout=RUN_TIMEOUT_S) == 0, data_dir.with_suffix(".log").read_text()[-3000:]
    assert len(readings_written(twice.with_suffix(".log"))) == 2
    assert_same_totals(warehouse_totals(twice), warehouse_totals(once))


def test_arrival_order_within_the_reorder_buffer_changes_nothing_and_later_events_are_late(
        kafka_broker, campaign, tmp_path):
    """One partition per topic vs three (the meters' readings, tanks and documents interleave differently on
    arrival): same totals. Then a reading delivered after its meter moved on (beyond the reorder buffer's reach:
    another delivery, the run resumed with recovery) is recorded as late — dead letter with the reason and a
    ``late_data`` alert — and changes no reading, operation or reconciliation."""
    one, three = tmp_path / "p1", tmp_path / "p3"
    env_one = kafka_input(kafka_broker, campaign, partitions=1)
    env_three = kafka_input(kafka_broker, campaign, partitions=3)
    run_to_end(kafka_broker, env_one, one)
    run_to_end(kafka_broker, env_three, three)
    want = warehouse_totals(one)
    assert_same_totals(warehouse_totals(three), want)

    # a reading of M-01 half-way through the campaign, delivered now
    readings = [json.loads(line) for s, line in replay_lines(campaign) if s == "meter.readings"]
    mid = [r for r in readings if r["meter_id"] == "M-01"][len(readings) // 4]
    late = {**mid, "ts": mid["ts"][:-4] + "500Z"}  # half a second after a real reading: a new event
    produce(kafka_broker, [("meter.readings", json.dumps(late))], topics_of(env_three))
    run_to_end(kafka_broker, env_three, three)
    got = warehouse_totals(three)
    for key in ("operations", "reconciliations", "readings"):
        assert got[key] == want[key], key
    new_dead = [d for d in got["dead_letters"] if d not in want["dead_letters"]]
    assert len(new_dead) == 1 and new_dead[0][1] == "meter.readings" and new_dead[0][2].startswith("late reading")
    new_alerts = [a for a in got["alerts"] if a not in want["alerts"]]
    assert [(a[1], a[4]) for a in new_alerts] == [("late_data", "M-01")]


def test_broker_unreachable_mid_run_the_flow_waits_and_loses_nothing(campaign, tmp_path):
    """The broker frozen (SIGSTOP: it answers nothing, its log kept) for longer than the client's socket
    timeout while the flow runs, then back: the flow waits (or stops cleanly and resumes with recovery) and
    ends with the totals of an undisturbed run. A broker killed and restarted: the two tests that follow."""
    broker, addr = start_tansu()
    try:
        env = kafka_input(addr, campaign)
        env["QUAYWATCH__KAFKA__CLIENT__SOCKET.TIMEOUT.MS"] = "3000"
        run_to_end(addr, env, tmp_path / "undisturbed")
        env2 = {**kafka_input(addr, campaign), "QUAYWATCH__KAFKA__CLIENT__SOCKET.TIMEOUT.MS": "3000"}
        data_dir, log = tmp_path / "outage", tmp_path / "outage.log"
        proc = start(run_command("meters", f"kafka://{addr}", data_dir), env2, log)
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not source_offsets(data_dir) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        broker.send_signal(signal.SIGSTOP)
        time.sleep(8.0)  # > socket.timeout.ms
        still_waiting = proc.poll() is None
        broker.send_signal(signal.SIGCONT)
        rc = proc.wait(timeout=RUN_TIMEOUT_S)
        runs = 1
        while rc != 0 and runs < 4:  # stopped: restarted with recovery, as an operator or supervisor would
            assert "Traceback" not in log.read_text() or "Error" in log.read_text()
            proc = start(run_command("meters", f"kafka://{addr}", data_dir), env2, log)
            rc, runs = proc.wait(timeout=RUN_TIMEOUT_S), runs + 1
        assert rc == 0, log.read_text()[-3000:]
        assert still_waiting or runs > 1
        assert "Timed out" in log.read_text()  # the outage outlasted the client's timeouts
        assert_same_totals(warehouse_totals(data_dir), warehouse_totals(tmp_path / "undisturbed"))
    finally:
        broker.send_signal(signal.SIGCONT)
        broker.terminate()
        broker.wait(timeout=10)


def restart_until_done(proc: Any, cmd: list[str], env: dict[str, str], log: Path, max_runs: int = 4) -> int:
    """Wait for the run; restart it with recovery (as an operator or a supervisor would) while it fails.

    Returns how many runs it took (1: the first one carried on).
    """
    rc, runs = proc.wait(timeout=RUN_TIMEOUT_S), 1
    while rc != 0 and runs < max_runs:
        proc = start(cmd, env, log)
        rc, runs = proc.wait(timeout=RUN_TIMEOUT_S), runs + 1
    assert rc == 0, log.read_text()[-3000:]
    return runs


def test_broker_killed_mid_run_and_restarted_on_its_storage_loses_nothing(campaign, tmp_path):
    """A persistent broker (tansu on a local S3) SIGKILLed while the flow consumes, down for longer than the
    client's socket timeout, restarted on the same storage: the flow waits (or stops and is restarted with
    recovery, which checks its snapshot's offsets against the restarted broker's log) and ends with the totals
    of an undisturbed run on the same broker."""
    broker = start_persistent_broker(tmp_path / "broker.log")
    try:
        timeout = {"QUAYWATCH__KAFKA__CLIENT__SOCKET.TIMEOUT.MS": "3000"}
        env = {**kafka_input(broker.addr, campaign), **timeout}
        run_to_end(broker.addr, env, tmp_path / "undisturbed")
        env2 = {**kafka_input(broker.addr, campaign), **timeout}
        data_dir, log = tmp_path / "outage", tmp_path / "outage.log"
        cmd = run_command("meters", f"kafka://{broker.addr}", data_dir)
        proc = start(cmd, env2, log)
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not source_offsets(data_dir) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        running_at_kill = proc.poll() is None
        broker.kill()
        time.sleep(8.0)  # > socket.timeout.ms
        still_waiting = proc.poll() is None
        broker.restart()
        runs = restart_until_done(proc, cmd, env2, log)
        assert running_at_kill, "the flow ended before the broker was killed"
        assert still_waiting or runs > 1
        assert re.search(r"Connection refused|Timed out|Disconnected", log.read_text())  # it saw the outage
        run_to_end(broker.addr, env2, data_dir)  # resumed at the end of the restarted broker's log: accepted
        assert_same_totals(warehouse_totals(data_dir), warehouse_totals(tmp_path / "undisturbed"))
    finally:
        broker.close()


def test_a_broker_that_lost_its_log_stops_the_resumed_flow_with_a_clear_error(campaign, tmp_path):
    """An in-memory broker restarted (its log gone, offsets from 0 again) and the topics refilled with fewer
    records than the recovery snapshot had read: the resumed flow stops with an error naming the partition and
    offsets instead of skipping records, and writes nothing more."""
    broker, addr = start_tansu()
    data_dir, log = tmp_path / "reset", tmp_path / "reset.log"
    try:
        env = kafka_input(addr, campaign)
        run_to_end(addr, env, data_dir)
        before = warehouse_totals(data_dir)
        resume = {k: int(pickle.loads(v)) for k, v in source_offsets(data_dir)}  # our own snapshot
        assert max(resume.values()) > 100
    finally:
        broker.terminate()
        broker.wait(timeout=10)
    broker, _addr = start_tansu(int(addr.rsplit(":", 1)[1]))
    try:
        records = replay_lines(campaign)[:50]  # far fewer than any partition's resume offset
        create_topics(addr, sorted(env.values()), 2)  # the same topics, empty again
        produce(addr, records, topics_of(env))
        proc = start(run_command("meters", f"kafka://{addr}", data_dir), env, log)
        rc = proc.wait(timeout=RUN_TIMEOUT_S)
        out = log.read_text()
        assert rc != 0, out[-3000:]
        assert "LogResetError" in out and "the broker lost its log" in out, out[-3000:]
        assert re.search(r"resumes at offset \d+ but the broker's log ends before it", out)
        assert warehouse_totals(data_dir)["counts"] == before["counts"]
    finally:
        broker.terminate()
        broker.wait(timeout=10)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_flow_stopped_by_a_signal_writes_every_row_it_had_produced(kafka_broker, campaign, tmp_path, sig):
    """A tailing flow stopped (SIGTERM: how Kubernetes and Compose stop a container; SIGINT: Ctrl-C) after a lull:
    the rows it produced before the lull are in the warehouse. They used to wait in the sink's buffer for the next
    item (Bytewax calls a sink only with items) and died with the process."""
    from confluent_kafka import Consumer

    records = replay_lines(campaign)
    last_ts = max(json.loads(line)["ts"] for stream, line in records if stream == "meter.readings")
    marker = json.dumps({"meter_id": "STOP-MARKER", "ts": last_ts})  # an unknown meter: dead-lettered last
    env = kafka_input(kafka_broker, campaign, records=[*records, ("meter.readings", marker)])
    want_env = kafka_input(kafka_broker, campaign, records=[*records, ("meter.readings", marker)])
    run_to_end(kafka_broker, want_env, tmp_path / "want")
    consumer = Consumer({"bootstrap.servers": kafka_broker, "group.id": f"stop-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([env["QUAYWATCH__KAFKA__TOPICS__DEAD_LETTERS"]])
    cmd = [c for c in run_command("meters", f"kafka://{kafka_broker}", tmp_path / "got", recovery=False)
           if c != "--no-tail"]
    log = tmp_path / "got.log"
    proc = start(cmd, env, log)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        seen = False
        while not seen and time.monotonic() < deadline and proc.poll() is None:
            seen = any(m.error() is None and b"STOP-MARKER" in (m.value() or b"") for m in consumer.consume(100, 0.5))
        assert seen, log.read_text()[-3000:]
        time.sleep(3.0)  # a lull: nothing more comes
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        consumer.close()
        if proc.poll() is None:
            proc.kill()
    assert "buffered rows written" in log.read_text()
    got, want = warehouse_totals(tmp_path / "got"), warehouse_totals(tmp_path / "want")
    assert want["counts"]["meter_readings"] > 1000 and got["counts"] == want["counts"]
    # dead-letter ids name the record's topic, which differs between the two inputs
    assert sorted(d[1:] for d in got["dead_letters"]) == sorted(d[1:] for d in want["dead_letters"])
    assert got["operations"] == want["operations"] and got["readings"] == want["readings"]
