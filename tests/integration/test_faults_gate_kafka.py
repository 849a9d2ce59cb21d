"""Fault tier, gate flow over a real broker (tansu) into the embedded warehouse, run as a child process the way
production runs it (``quaywatch run gate --source kafka://… --recovery --no-tail``).

The input is the simulated shift (:mod:`connectors.simulate.gate_shift`: camera read records and pre-gate
notices, with the feed outage, late notices and every mismatch) plus one read and one notice that break their
contracts. OCR is not exercised here (it would make each run minutes long); from the read records on, the path
is the gate flow's own: lanes, fusion, the pre-gate join state, decisions, registrations, dead letters.

* Crash and resume: SIGKILL at seeded random points, restarted with recovery until drained: decisions per
  passage, registrations, alerts and dead letters equal an uninterrupted run's, exactly.
* Duplicate delivery: every event produced twice gives the same totals.
* Arrival order: one partition per topic vs three, and the frames of each passage and nearby notices delivered
  shuffled: the same decisions and registrations.

The reference is an uninterrupted run of the same code over the same input (the property under test is "a fault
changes nothing"); that those decisions are right is proven against the simulator's truth in
``test_gate_shift_flow.py``.
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

import pytest

from connectors.simulate.gate_shift import simulate_shift
from tests.integration.faults_support import (
    create_topics,
    drain_with_kills,
    produce,
    replay_lines,
    run_to_end,
    topic_env,
    warehouse_totals,
)

pytestmark = [pytest.mark.integration, pytest.mark.faults]
STREAMS = ("gate.reads", "gate.pregate")
OUTPUTS = ("gate.frames", "gate.passages", "gate.decisions", "alerts", "dead_letters")
GATE_TOTALS = {
    "decisions": "SELECT passage_id, edition, decision, reasons, details, notice_id, degraded, evidence_frames "
                 "FROM {db}.gate_decisions ORDER BY passage_id",
    "registrations": "SELECT registration_id, status, version, notice_id, plate, containers, regularised_at "
                     "FROM {db}.gate_registrations ORDER BY registration_id",
    "alerts": "SELECT alert_id, kind, severity, status, entity_id, window_start, details FROM {db}.alerts "
              "ORDER BY alert_id",
    "dead_letters": "SELECT stream, reason, raw FROM {db}.dead_letters ORDER BY stream, reason, raw",
    "reads": "SELECT lane_id, count(), groupUniqArray(passage_id) FROM {db}.gate_reads GROUP BY lane_id "
             "ORDER BY lane_id",
}
BAD_READ = json.dumps({"ts": "2026-03-03T07:00:00.000Z", "gate_id": "G2", "lane_id": "L1", "camera_id": "lpr",
                       "checkpoint": 7, "frame_sha256": "ab" * 32})
BAD_NOTICE = json.dumps({"notice_id": "BAD", "ts": "2026-03-03T07:00:01.000Z", "direction": "in",
                         "plate": "not a plate", "declaration_type": "import", "notifier": "x"})


@pytest.fixture(scope="module")
def shift(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("faults_gate_shift")
    return out, simulate_shift(out)


def records_of(replay: Path) -> list[tuple[str, str]]:
    """The shift's records in event-time order (as the cameras and the pre-gate system send them), plus the two
    bad ones."""
    records = [*replay_lines(replay, STREAMS), ("gate.reads", BAD_READ), ("gate.pregate", BAD_NOTICE)]
    return sorted(records, key=lambda r: json.loads(r[1])["ts"])


def kafka_input(broker: str, records: list[tuple[str, str]], copies: int = 1,
                partitions: int = 2) -> dict[str, str]:
    """Unique topics holding the records (``copies`` times over); returns the child's environment."""
    prefix = f"faults_gate_{uuid.uuid4().hex[:8]}"
    env = topic_env(prefix, (*STREAMS, *OUTPUTS))
    create_topics(broker, [f"{prefix}.{s}" for s in (*STREAMS, *OUTPUTS)], partitions)
    for _ in range(copies):
        assert produce(broker, records, topics_of(env)) == len(records)
    return env


def topics_of(env: dict[str, str]) -> dict[str, str]:
    return {s: env[f"QUAYWATCH__KAFKA__TOPICS__{s.replace('.', '_').upper()}"] for s in STREAMS}


def totals(data_dir: Path) -> dict[str, Any]:
    return warehouse_totals(data_dir, queries=GATE_TOTALS)


def assert_same_totals(got: dict[str, Any], want: dict[str, Any], truth: list[dict[str, Any]]) -> None:
    assert len(want["decisions"]) == len(truth) and len(want["dead_letters"]) == 2  # the reference is complete
    assert {r[2] for r in want["decisions"]} == {"open", "divert", "manual_review"}
    for key in ("counts", *GATE_TOTALS):
        assert got[key] == want[key], key


def test_sigkill_at_random_points_then_resume_gives_the_uninterrupted_totals(kafka_broker, shift, tmp_path):
    """Three deliveries (thirds of the shift's event time), each drained by runs killed with SIGKILL at seeded
    random points after they consumed input, against the same deliveries drained without interruption."""
    replay, truth = shift
    records = records_of(replay)
    parts = [records[i * len(records) // 3:(i + 1) * len(records) // 3] for i in range(3)]
    clean, crashed = kafka_input(kafka_broker, []), kafka_input(kafka_broker, [])
    rng = random.Random(2026)
    kills = 0
    for part in parts:
        for env in (clean, crashed):
            produce(kafka_broker, part, topics_of(env))
        run_to_end(kafka_broker, clean, tmp_path / "uninterrupted", flow="gate")
        kills += drain_with_kills(kafka_broker, crashed, tmp_path / "crashed", rng, max_kills=2, flow="gate")
    assert kills >= 2, f"only {kills} kill(s) landed while the flow consumed"
    assert_same_totals(totals(tmp_path / "crashed"), totals(tmp_path / "uninterrupted"), truth)


def test_every_event_delivered_twice_changes_no_total(kafka_broker, shift, tmp_path):
    replay, truth = shift
    records = records_of(replay)
    run_to_end(kafka_broker, kafka_input(kafka_broker, records), tmp_path / "once", flow="gate")
    run_to_end(kafka_broker, kafka_input(kafka_broker, records, copies=2), tmp_path / "twice", flow="gate")
    assert_same_totals(totals(tmp_path / "twice"), totals(tmp_path / "once"), truth)


def shuffled(records: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, str]]:
    """The frames of each passage in a random order, and each notice moved up to 3 places among the notices
    (within the join's reach: a notice processed after a passage it concerns re-decides it)."""
    reads: dict[str, list[tuple[str, str]]] = {}
    out: list[tuple[str, str]] = []
    for stream, line in records:
        if stream == "gate.reads":
            pid = json.loads(line).get("passage_id", "")
            if pid not in reads:
                reads[pid] = []
                out.append(("passage", pid))
            reads[pid].append((stream, line))
        else:
            out.append((stream, line))
    notices = [i for i, r in enumerate(out) if r[0] == "gate.pregate"]
    for k in range(len(notices) - 1):
        j = min(len(notices) - 1, k + rng.randint(0, 3))
        out[notices[k]], out[notices[j]] = out[notices[j]], out[notices[k]]
    flat: list[tuple[str, str]] = []
    for stream, line in out:
        if stream == "passage":
            frames = reads[line]
            rng.shuffle(frames)
            flat += frames
        else:
            flat.append((stream, line))
    return flat


def test_arrival_order_within_the_join_s_reach_gives_the_same_decisions(kafka_broker, shift, tmp_path):
    replay, truth = shift
    records = records_of(replay)
    run_to_end(kafka_broker, kafka_input(kafka_broker, records, partitions=1), tmp_path / "p1", flow="gate")
    run_to_end(kafka_broker, kafka_input(kafka_broker, records, partitions=3), tmp_path / "p3", flow="gate")
    want = totals(tmp_path / "p1")
    assert_same_totals(totals(tmp_path / "p3"), want, truth)

    mixed = shuffled(records, random.Random(9))
    assert sorted(mixed) == sorted(records) and mixed != records
    run_to_end(kafka_broker, kafka_input(kafka_broker, mixed, partitions=1), tmp_path / "mixed", flow="gate")
    got = totals(tmp_path / "mixed")
    # the latest decision of each passage (an early answer on part of a passage's frames is a lower edition)
    final = [[r[0], *r[2:]] for r in got["decisions"]]
    assert final == [[r[0], *r[2:]] for r in want["decisions"]]
    assert [r[:2] + r[3:] for r in got["registrations"]] == [r[:2] + r[3:] for r in want["registrations"]]
    assert got["dead_letters"] == want["dead_letters"] and got["reads"] == want["reads"]
