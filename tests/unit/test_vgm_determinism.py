"""VGM results depend on event time and content only (issue 9): not on arrival order of same-instant events,
not on where the input was cut into batches, not on redelivery, not on which Kafka partition is fetched first.

Each test compares two deliveries of the same events; the expected side is the one in event-time order
(computed by the same state fed the events sorted, an independent arrangement of the input)."""

from __future__ import annotations

from typing import Any

import bytewax.operators as op
from bytewax.testing import TestingSource

import flows.run as run
from flows.config import load_config
from operators.vgm_events import Declaration, Weighing
from operators.vgm_state import PRUNE_EVERY, VgmOutput, VgmState
from tests.unit.vgm_fixtures import C1, C2, C3, POLICY, declaration, weighing

Event = Weighing | Declaration


def _summary(outs: list[VgmOutput]) -> dict[str, Any]:
    rows: dict[str, list[str]] = {}
    for out in outs:
        for table, rs in out.rows.items():
            rows.setdefault(table, []).extend(
                repr(sorted((k, v) for k, v in r.items() if k not in ("source_position", "payload", "hash",
                                                                        "prev_hash")))
                for r in rs)
    return {"rows": {t: sorted(v) for t, v in rows.items()},
            "violations": sorted(f"{v.kind} {v.entity_id} {v.ts.isoformat()}" for out in outs for v in out.violations),
            "resolved": sorted(a.alert_id for out in outs for a in out.resolved)}


def _deliver(batches: list[list[Event]]) -> dict[str, Any]:
    s = VgmState()
    outs = [s.offer(b, POLICY) for b in batches]
    outs.append(s.flush(POLICY))
    return _summary(outs)


def test_same_instant_weighings_are_numbered_alike_whatever_their_arrival_order():
    # two container-alone weighings on WB-1 at the same instant: both certified, the sequence must not follow arrival
    a = weighing("W7", 0, 20_000.0, "crane 1", (C3,), "container")
    b = weighing("W3", 0, 21_000.0, "crane 2", (C1,), "container")
    decl = declaration(C1, -10, 21_000.0)  # CSC data for C1 (C3 has its plate in the configuration)
    first = _deliver([[decl, a, b]])
    second = _deliver([[decl, b, a]])
    certs = [c for c in first["rows"]["vgm_certificates"] if "'seq', 1" in c]
    assert len(first["rows"]["vgm_certificates"]) == 2 and len(certs) == 1
    assert second == first


def test_lateness_does_not_depend_on_where_the_batches_were_cut():
    # the same arrival sequence: the weighing of C1, a later unrelated event, then C1's declaration without VGM
    # (five minutes older than the weighing, so more than the 120 s window behind the newest event seen)
    w = weighing("W1", 1, 20_000.0, "crane", (C1,), "container")
    later = weighing("W2", 10, 15_000.0, "33 TR 5", (), "empty")
    decl = declaration(C1, -4, None)
    one_batch = _deliver([[w, later, decl]])
    per_event = _deliver([[w], [later], [decl]])
    assert per_event == one_batch


def test_a_redelivered_weighing_is_not_applied_again_once_its_vehicle_was_pruned():
    s = VgmState()
    gross = weighing("W1", 0, 36_000.0, "33 TR 1", (C3,), "gross")
    s.on_event(gross, POLICY)
    done = s.on_event(weighing("W2", 30, 15_000.0, "33 TR 1", (), "empty"), POLICY)
    assert len(done.rows["vgm_certificates"]) == 1 and done.rows["vgm_status"][-1]["loadable"] is True
    s.prune(gross.ts, POLICY)  # the vehicle has nothing pending: forgotten
    assert "33 TR 1" not in s.vehicles
    again = s.on_event(gross, POLICY)  # the broker delivers it once more
    assert again.rows == {} and again.violations == [] and again.resolved == []
    assert s.containers[C3].last is not None and s.containers[C3].last[0] is True  # still loadable


def test_redeliveries_do_not_move_the_pruning_points():
    s = VgmState()
    events = [weighing(f"W{i}", i, 20_000.0, f"crane {i}", (C2,), "container") for i in range(PRUNE_EVERY - 1)]
    s.on_events(events, POLICY)
    s.on_events(events[:5], POLICY)  # redelivered: not events of the site
    assert s.events == PRUNE_EVERY - 1


def test_one_worker_waits_for_every_partition_of_every_topic(monkeypatch, tmp_path):
    # a topic heard from on one partition must not let the others' records be overtaken by the rest of the day
    seen: dict[str, Any] = {}

    def fake_partitions(brokers: list[str], topics: list[str], client: Any = None, timeout_s: float = 10.0):
        return tuple(f"{t}/{p}" for t in topics for p in (0, 1))

    def fake_raw(step_id: str, flow: Any, *args: Any, **kwargs: Any):
        s = op.input(step_id, flow, TestingSource([]))
        return s, op.filter_map(f"{step_id}_errs", s, lambda _x: None)

    def fake_ordered(step_id: str, up: Any, topics: tuple[str, ...] = (), **kwargs: Any):
        seen["expected"] = topics
        return up

    monkeypatch.setattr(run, "topic_partitions", fake_partitions)
    monkeypatch.setattr(run, "kafka_raw_events", fake_raw)
    monkeypatch.setattr(run, "event_time_ordered", fake_ordered)
    monkeypatch.setattr(run, "kafka_publisher", lambda *a, **k: lambda name, stream: None)
    cfg = load_config(environ={})
    run.build("vgm", cfg, run.RunOptions("kafka://127.0.0.1:9"), sink=None)  # type: ignore[arg-type]
    topics = [cfg.kafka.topic(s) for s in ("vgm.weighings", "vgm.declarations")]
    assert sorted(seen["expected"]) == sorted(f"{t}/{p}" for t in topics for p in (0, 1))
