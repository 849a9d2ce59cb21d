"""The site's ordered VGM state: events in, rows and alerts out; stale state pruned by event time."""

from __future__ import annotations

from datetime import timedelta

from operators.vgm_state import RETAIN_DAYS, VgmState
from tests.unit.vgm_fixtures import C1, C2, C3, POLICY, declaration, weighing


def test_pair_across_instruments_gives_one_certificate_and_chain_entry():
    s = VgmState()
    s.on_event(declaration(C1, 0, 21_000.0), POLICY)
    s.on_event(weighing("W1", 10, 36_000.0, "33 TR 1", (C1,), "gross", instrument="WB-2"), POLICY)
    out = s.on_event(weighing("W2", 50, 15_000.0, "33 TR 1", (), "empty", instrument="WB-1"), POLICY)
    (cert,) = out.rows["vgm_certificates"]
    (entry,) = out.rows["audit_log"]
    assert cert["vgm_kg"] == 21_000.0 and cert["certificate_no"] == "33-0118-2026-000001"  # loaded weighing's
    assert entry["subject_key"] == cert["certificate_no"] and entry["seq"] == 1
    assert out.rows["vgm_status"][-1]["loadable"] is True and not out.violations


def test_violations_of_a_rejected_weighing_reach_the_output():
    s = VgmState()
    out = s.on_event(weighing("W1", 0, 41_000.0, "t", (C1, C2), "gross"), POLICY)
    assert sorted(v.kind for v in out.violations) == ["missing_vgm", "missing_vgm", "multiple_containers"]
    assert out.rows["vgm_weighings"][0]["accepted"] is False


def test_prune_forgets_stale_containers_and_idle_vehicles():
    s = VgmState()
    s.on_event(weighing("W1", 0, 20_000.0, "crane", (C3,), "container"), POLICY)  # CSC from config: certified
    s.on_event(weighing("W2", 1, 36_000.0, "33 TR 9", (C2,), "gross"), POLICY)
    s.prune(s.touched[C3] + timedelta(days=RETAIN_DAYS), POLICY)
    assert C3 in s.containers  # exactly at the horizon: kept
    s.prune(s.touched[C2] + timedelta(days=RETAIN_DAYS, milliseconds=1), POLICY)
    assert C3 not in s.containers and C2 not in s.containers
    assert not s.vehicles  # the pending loaded weighing is older than the pairing window
    assert s.registry.sequences == {"33-0117/2026": 1}  # numbers are never forgotten


def test_events_arriving_out_of_order_within_the_window_are_applied_in_event_time():
    s = VgmState()
    # the weighing (08:05) arrives before the declaration announcing the container without VGM (08:00)
    first = s.offer([weighing("W1", 5, 20_000.0, "crane", (C1,), "container")], POLICY)
    assert not first.rows and not first.violations  # waits: nothing 120 s newer seen yet
    second = s.offer([declaration(C1, 0, None)], POLICY)
    assert [v.kind for v in second.violations] == ["missing_vgm"]  # applied first, as in event time
    assert "vgm_certificates" not in second.rows
    rest = s.flush(POLICY)
    assert [a.kind for a in rest.resolved] == ["vgm_missing"]
    assert rest.rows["vgm_certificates"][0]["vgm_kg"] == 20_000.0


def test_an_event_older_than_one_already_applied_is_applied_at_once():
    s = VgmState()
    s.offer([weighing("W1", 0, 20_000.0, "crane", (C3,), "container"),
             weighing("W2", 10, 15_000.0, "p", (), "empty")], POLICY)  # W1 released: W2 is 10 min newer
    behind = s.offer([declaration(C2, 1, None)], POLICY)  # more than 120 s behind the newest: applied now
    assert [v.kind for v in behind.violations] == ["missing_vgm"]
    s.flush(POLICY)
    very_late = s.offer([declaration(C1, 2, None)], POLICY)  # older than W2, which was applied
    assert [v.kind for v in very_late.violations] == ["missing_vgm"]
