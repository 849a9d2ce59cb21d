"""The shift simulator plants what it says: checked on its files, independently of the decision code."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

import pytest

from connectors.simulate.gate_shift import ShiftScenario, planted_counts, simulate_shift


@pytest.fixture(scope="module")
def shift(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("shift")
    truth = simulate_shift(out)
    reads = [json.loads(x) for x in (out / "gate.reads.jsonl").read_text().splitlines()]
    notices = [json.loads(x) for x in (out / "gate.pregate.jsonl").read_text().splitlines()]
    return out, truth, reads, notices


def ts(x: str) -> datetime:
    return datetime.fromisoformat(x)


def test_a_shift_of_a_few_hundred_passages_on_three_lanes_over_eight_hours(shift):
    _out, truth, reads, _n = shift
    sc = ShiftScenario()
    assert 250 <= len(truth) <= 500 and {t["lane_id"] for t in truth} == {"L1", "L2", "L3"}
    span = max(ts(t["lpr_ts"]) for t in truth) - min(ts(t["lpr_ts"]) for t in truth)
    assert timedelta(hours=7.5) < span <= timedelta(hours=sc.hours)
    assert Counter(r["passage_id"] for r in reads) == dict.fromkeys((t["passage_id"] for t in truth), 5)
    assert [r["ts"] for r in reads] == sorted(r["ts"] for r in reads)
    # a realistic share of mismatches: most trucks match, every kind of mismatch is there
    shares = Counter(t["decision"] for t in truth)
    assert 0.7 < shares["open"] / len(truth) < 0.9
    kinds = {t["scenario"] for t in truth}
    assert kinds >= {"wrong_plate", "missing_container", "wrong_size", "placard", "seal_missing",
                     "unreadable_plate", "unreadable_container", "no_notice", "notice_after_truck",
                     "duplicate_notice", "conflicting_notices", "correction", "degraded_regularised",
                     "degraded_unregularised", "degraded_late_notice"}


def test_the_outage_is_a_silence_of_the_feed_longer_than_thirty_minutes(shift):
    _out, truth, _r, notices = shift
    sc = ShiftScenario()
    t0 = sc.start + timedelta(hours=sc.outage_at_h)
    t1 = t0 + timedelta(minutes=sc.outage_min)
    sent = sorted(ts(n["ts"]) for n in notices)
    assert not [s for s in sent if t0 <= s < t1]
    for t in truth:
        lpr = ts(t["lpr_ts"])
        silence = lpr - max(s for s in sent if s <= lpr)
        if t["scenario"].startswith("degraded"):  # admitted degraded: the feed silent > 30 min (G8)
            assert silence > timedelta(minutes=30) and t["reasons"] == ["degraded_mode"]
        if t["scenario"] == "outage_undetected":
            assert silence <= timedelta(minutes=30) and t["reasons"] == ["no_notice"]


def test_late_notices_regularise_within_24_hours_and_the_rest_do_not(shift):
    _out, truth, _r, notices = shift
    by_plate: dict[str, list[datetime]] = {}
    for n in notices:
        by_plate.setdefault(n["plate"], []).append(ts(n["ts"]))
    for t in truth:
        lpr, later = ts(t["lpr_ts"]), [s for s in by_plate.get(t["plate"], []) if s > ts(t["lpr_ts"])]
        if t["scenario"] == "degraded_regularised":
            assert later and min(later) - lpr <= timedelta(hours=24) and t["registration"] == "regularised"
        elif t["scenario"] == "degraded_unregularised":
            assert not later and t["registration"] == "degraded"
        elif t["scenario"] == "degraded_late_notice":
            assert later and min(later) - lpr > timedelta(hours=24) and t["registration"] == "degraded"
    counts = planted_counts(truth)
    assert counts["degraded"] == counts["regularised"] + counts["awaiting"] and counts["awaiting"] > 0


def test_each_mismatch_is_in_the_files(shift):
    _out, truth, reads, notices = shift
    ns: dict[str, list[dict]] = {}
    for n in notices:
        ns.setdefault(n["notice_id"].removesuffix("-B"), []).append(n)
    rs: dict[str, list[dict]] = {}
    for r in reads:
        rs.setdefault(r["passage_id"], []).append(r)
    for t in truth:
        mine, frames = ns.get(f"N-{t['passage_id']}", []), rs[t["passage_id"]]
        plates = {r["plate"] for r in frames if r["camera_id"] in ("front", "lpr")}
        codes = {c for r in frames for c in r["containers"]}
        s = t["scenario"]
        if s == "no_notice":
            assert mine == []
        elif s == "notice_after_truck":
            assert len(mine) == 1 and ts(mine[0]["ts"]) > ts(t["lpr_ts"])
        elif s == "wrong_plate":
            assert mine[0]["plate"] != t["plate"] and mine[0]["containers"][0]["number"] in codes
        elif s == "missing_container":
            assert mine[0]["containers"][0]["number"] not in codes and codes
        elif s == "wrong_size":
            side = next(r for r in frames if r["camera_id"] == "left")
            assert mine[0]["containers"][0]["size_type"][0] != side["size_type"][0]
        elif s == "placard":
            assert not mine[0]["hazardous"] and any(r["hazard_placard"] for r in frames)
        elif s == "seal_missing":
            assert [r["seal"] for r in frames if r["camera_id"] == "rear"] == [False]
        elif s == "unreadable_plate":
            assert plates == {None}
        elif s == "unreadable_container":
            assert not codes and all(r["rejected_codes"] for r in frames if r["camera_id"] in ("left", "right"))
        elif s == "conflicting_notices":
            assert len({n["notice_id"] for n in mine}) == 2
        elif s in ("duplicate_notice", "correction"):
            assert len(mine) == 2 and len({n["notice_id"] for n in mine}) == 1
        if s not in ("unreadable_plate",):
            assert plates == {t["plate"]}


def test_the_same_seed_writes_the_same_files(tmp_path, shift):
    out, truth, _r, _n = shift
    assert simulate_shift(tmp_path) == truth
    for name in ("gate.reads.jsonl", "gate.pregate.jsonl"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes()
