"""Scale-out (issue 8, issue 9): a flow run as two Bytewax processes (``quaywatch run -i/-a``) writes exactly
the rows one process writes.

Each process writes to its own embedded warehouse (chDB allows one path per process); the union of their
rows is what shared ClickHouse tables would hold. The comparison is of whole rows, every table, not totals
only: a stateful step split across workers (a transfer judged on one meter's records while the other's are
still on their way, a float sum taken in arrival order) shows as a differing row.

Two parts of a row may legitimately differ: ``recorded_at`` (the wall clock at insert) and the audit
chain's order columns (``seq``, ``prev_hash``, ``hash``): rows reach the single chain writer from several
workers, so the chain may list the same entries in another order; each entry (subject, payload and its
SHA-256) must still be there exactly once. The configuration is audited once per cluster, by process 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from operators.events import METER_STREAMS
from tests.integration.faults_support import create_topics, produce, replay_lines, topic_env
from tests.integration.scale_out_support import WALL_CLOCK_COLUMNS, differences, dump, run_cluster, union

pytestmark = pytest.mark.integration

ORDER_COLUMNS = {"seq", "prev_hash", "hash"}


def _simulate(what: str, out: Path) -> None:
    code = "import sys; from flows.cli import main; sys.exit(main(sys.argv[1:]))"
    subprocess.run([sys.executable, "-c", code, "simulate", what, "--out", str(out)], check=True,
                   capture_output=True, timeout=300)


def _compare(flow: str, source: str, base: Path, extra: list[str] | None = None,
             env: dict[str, str] | None = None) -> dict[str, int]:
    one = [dump(d) for d in run_cluster(flow, source, base, 1, extra, env)]
    two = [dump(d) for d in run_cluster(flow, source, base, 2, extra, env)]
    # every process did part of the work (else this would not test scale-out)
    written = [sum(len(rows) for t, rows in d.items() if t != "audit_log") for d in two]
    assert all(n > 0 for n in written), written
    # the configuration entry is written once per cluster (its ts is the wall clock): compared on its own
    configs = [r for d in two for r in d["audit_log"] if r["chain"] == "config"]
    assert len(configs) == 1 and [r for r in two[0]["audit_log"] if r["chain"] == "config"] == configs
    one_config = [r for r in one[0]["audit_log"] if r["chain"] == "config"]
    assert json.loads(one_config[0]["payload"])["config"] == json.loads(configs[0]["payload"])["config"]
    for d in one + two:
        d["audit_log"] = [r for r in d["audit_log"] if r["chain"] != "config"]
    drop = WALL_CLOCK_COLUMNS | ORDER_COLUMNS
    u1, u2 = union(one, drop), union(two, drop)
    assert differences(u1, u2) == {}
    return {t: len(rows) for t, rows in u1.items() if rows}


def test_meters_two_processes_write_what_one_writes(tmp_path: Path) -> None:
    replay = tmp_path / "replay"
    _simulate("campaign", replay)  # two discharges, several meters and tanks per transfer, planted faults
    counts = _compare("meters", f"file:{replay}", tmp_path)
    # independent of the flow: every reading line is a meter_readings row, every transfer document a row
    lines = sum(1 for _ in (replay / "meter.readings.jsonl").open())
    docs = sum(1 for _ in (replay / "transfers.jsonl").open())
    assert counts["meter_readings"] + counts.get("dead_letters", 0) == lines
    assert counts["transfers"] == docs
    assert counts["reconciliations"] >= 2 and counts["alerts"] >= 1


@pytest.mark.slow
def test_vgm_two_processes_write_what_one_writes(tmp_path: Path) -> None:
    replay = tmp_path / "replay"
    _simulate("vgm", replay)
    counts = _compare("vgm", f"file:{replay}", tmp_path)
    assert counts["vgm_weighings"] > 0 and counts["vgm_violations"] > 0


@pytest.mark.slow
def test_containers_two_processes_write_what_one_writes(tmp_path: Path) -> None:
    replay = tmp_path / "replay"
    _simulate("containers", replay)
    counts = _compare("containers", f"file:{replay}", tmp_path)
    assert counts["container_state"] > 2000


@pytest.mark.slow
def test_meters_from_kafka_two_processes_write_what_one_writes(kafka_broker: str, tmp_path: Path) -> None:
    """Issue 8's wording: against a local Kafka broker (tansu), topics of 4 partitions shared by the processes'
    workers; each run reads the topics to their end (``--no-tail``).

    Exact, floats and payload hashes included: how the reorder step releases events into decoder batches
    depends on arrival, and a meter operation adds its readings one after another, so batch sizes do not
    change its sums (they used to, in the last bits, when this was compared to 6 decimals).
    """
    replay = tmp_path / "replay"
    _simulate("campaign", replay)
    env = topic_env(f"scale{uuid.uuid4().hex[:8]}")
    topics = {s: env[f"QUAYWATCH__KAFKA__TOPICS__{s.replace('.', '_').upper()}"] for s in METER_STREAMS}
    create_topics(kafka_broker, [*topics.values(), env["QUAYWATCH__KAFKA__TOPICS__ALERTS"],
                                 env["QUAYWATCH__KAFKA__TOPICS__DEAD_LETTERS"]], partitions=4)
    lines = replay_lines(replay)
    assert produce(kafka_broker, lines, topics) == len(lines)
    counts = _compare("meters", f"kafka://{kafka_broker}", tmp_path, ["--no-tail"], env)
    readings = sum(1 for s, _line in lines if s == "meter.readings")
    assert counts["meter_readings"] + counts.get("dead_letters", 0) == readings
    assert counts["reconciliations"] >= 2


@pytest.mark.slow
def test_two_processes_keep_one_recovery_partition_each_and_resume(tmp_path: Path) -> None:
    """With ``--recovery`` process i of n keeps partition i on its own disk (a pod's volume); run again, the
    cluster resumes from them and changes nothing."""
    replay = tmp_path / "replay"
    _simulate("campaign", replay)
    dsns = run_cluster("meters", f"file:{replay}", tmp_path, 2, ["--recovery"])
    parts = [sorted(p.name for p in (tmp_path / f"data-2-{i}/recovery/meters").iterdir()) for i in range(2)]
    assert parts == [["part-0.sqlite3"], ["part-1.sqlite3"]]
    drop = WALL_CLOCK_COLUMNS | ORDER_COLUMNS
    first = union([dump(d) for d in dsns], drop)
    wrote = [(tmp_path / f"log-2-{i}.txt").read_text() for i in range(2)]
    assert any("meter_readings" in w for w in wrote)
    assert run_cluster("meters", f"file:{replay}", tmp_path, 2, ["--recovery"]) == dsns
    # resumed at the end of the replay: nothing read again, nothing written again
    assert not any("meter_readings" in (tmp_path / f"log-2-{i}.txt").read_text() for i in range(2))
    assert differences(first, union([dump(d) for d in dsns], drop)) == {}
    assert sum(first["meter_readings"].values()) > 0
