"""Fusion of one passage's frames by voting, and per-lane passage grouping with bounded state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from operators.gate_fusion import fuse, passage_json
from operators.gate_passages import FrameMeta, LanePassages, gap_passage_id
from operators.iso6346 import ContainerCandidate, is_valid
from operators.ocr.marks import Mark
from operators.ocr.reader import FrameRead
from operators.plates import PlateCandidate
from operators.size_type import decode

CODE = "CSQU3054383"       # ISO 6346 published example


def _valid_rival() -> str:
    # a code two positions away from CODE whose check digit also validates: the dangerous misread
    from operators.iso6346 import check_digit

    for a in "0123456789":
        for b in "0123456789":
            base = f"CSQU30{a}4{b}8"
            if base != CODE[:10] and check_digit(base) == 3:
                return base + "3"
    raise AssertionError("no rival")


def read(camera="left", plate=None, subs=0, ambiguous=False, conf=0.9, spaced=True, confirmed=False, trailer=None,
         codes=(), size_type=None, placard=False, seal=None):
    return FrameRead(
        camera_id=camera,
        plate=PlateCandidate(plate, subs, conf, ambiguous, spaced, confirmed) if plate else None,
        trailer_plate=PlateCandidate(trailer, 0, 0.9) if trailer else None,
        containers=tuple(ContainerCandidate(c, 0, True, 0.9) for c in codes),
        rejected_codes=(), size_type=decode(size_type) if size_type else None, size_type_confidence=0.9,
        hazard_placard=Mark(placard, 0.8), seal=Mark(seal, 0.7 if seal is not None else 0.0), lines=(), ms=1.0)


def test_a_full_passage_is_fused():
    f = fuse([("a", read("left", codes=[CODE], size_type="22G1", placard=True)),
              ("b", read("right", codes=[CODE], size_type="22G1")),
              ("c", read("rear", trailer="34 ABC 123", seal=True)),
              ("d", read("lpr", plate="06 DE 4141"))])
    assert f.plate.value == "06 DE 4141" and f.plate.frames == ("d",)
    assert f.trailer_plate.value == "34 ABC 123"
    assert f.containers.value == (CODE,) and f.containers.frames == ("a", "b")
    assert f.size_type.value == "22G1"
    assert f.hazard_placard.value is True and f.hazard_placard.frames == ("a",)
    assert f.seal.value is True
    assert not f.review
    # two agreeing reads at 0.9 each: 1 - 0.1 * 0.1
    assert f.containers.confidence == 0.99
    j = passage_json(f)
    assert j["containers"] == [{"number": CODE, "check_digit_ok": True, "size_type": "22G1"}]


def test_ambiguous_plate_needs_a_second_read():
    one = fuse([("a", read("lpr", plate="26 B 8382", subs=1, ambiguous=True)),
                ("b", read("left", codes=[CODE]))])
    assert one.plate.value is None and one.review
    two = fuse([("a", read("lpr", plate="26 B 8382", subs=1, ambiguous=True)),
                ("b", read("lpr", plate="26 B 8382", subs=1, ambiguous=True)), ("c", read("left", codes=[CODE]))])
    assert two.plate.value == "26 B 8382" and not two.review


def test_unambiguous_substitution_validates_alone():
    f = fuse([("a", read("lpr", plate="64 I 64730", subs=1)), ("b", read("left", codes=[CODE]))])
    assert f.plate.value == "64 I 64730"
    # one substitution: confidence 0.9 * 0.8
    assert f.plate.confidence == 0.72


def test_single_plate_read_needs_confidence_and_spacing():
    low = fuse([("a", read("lpr", plate="29 DG 716", conf=0.8)), ("b", read("left", codes=[CODE]))])
    assert low.plate.value is None and low.review
    run_together = fuse([("a", read("lpr", plate="29 DG 716", conf=0.95, spaced=False)),
                         ("b", read("left", codes=[CODE]))])
    assert run_together.plate.value is None
    confirmed_read = fuse([("a", read("lpr", plate="29 DG 716", conf=0.9, spaced=False, confirmed=True)),
                           ("b", read("left", codes=[CODE]))])
    assert confirmed_read.plate.value == "29 DG 716"
    # a confirming read does not make up for a low confidence (EasyOCR repeats its own confusions)
    confirmed_low = fuse([("a", read("lpr", plate="15 AOL 503", conf=0.8, confirmed=True)),
                          ("b", read("left", codes=[CODE]))])
    assert confirmed_low.plate.value is None
    never = fuse([("a", read("lpr", plate="34 ABC 123", conf=0.99, confirmed=True)), ("b", read("left", codes=[CODE]))],
                 plate_min_confidence=1.01)
    assert never.plate.value is None
    ambiguous = fuse([("a", read("lpr", plate="26 B 8382", subs=1, ambiguous=True, confirmed=True)),
                      ("b", read("left", codes=[CODE]))])
    assert ambiguous.plate.value is None
    confirmed = fuse([("a", read("lpr", plate="29 DG 716", conf=0.5)), ("b", read("lpr", plate="29 DG 716", conf=0.5)),
                      ("c", read("left", codes=[CODE]))])
    assert confirmed.plate.value == "29 DG 716"
    assert confirmed.plate.confidence == 0.75  # 1 - 0.5 * 0.5


def test_conflicting_plates_give_none_and_review():
    f = fuse([("a", read("lpr", plate="34 ABC 123")), ("b", read("lpr", plate="34 ABC 128")),
              ("c", read("left", codes=[CODE]))])
    assert f.plate.value is None
    assert f.review and any("conflicting" in r for r in f.review_reasons)


def test_rival_code_in_fewer_frames_loses():
    rival = _valid_rival()
    f = fuse([("a", read(codes=[CODE])), ("b", read(codes=[CODE])), ("c", read(codes=[rival])),
              ("d", read("lpr", plate="34 ABC 123"))])
    assert f.containers.value == (CODE,)


def test_rival_codes_with_equal_support_are_both_rejected():
    rival = _valid_rival()
    f = fuse([("a", read(codes=[CODE])), ("c", read(codes=[rival])), ("d", read("lpr", plate="34 ABC 123"))])
    assert f.containers.value is None and f.review


def test_two_distinct_containers_are_kept():
    other = "MSCU1234566"  # check digit 6 from the annex A reference in test_iso6346
    assert is_valid(other)
    f = fuse([("a", read(codes=[CODE, other], size_type="22G1")), ("d", read("lpr", plate="34 ABC 123"))])
    assert f.containers.value == tuple(sorted([CODE, other]))


def test_no_container_read_means_review():
    f = fuse([("d", read("lpr", plate="34 ABC 123"))])
    assert f.containers.value is None and f.review
    assert f.seal.value is None and f.hazard_placard.value is False


T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def meta(sec, pid=None, lane="L1"):
    return FrameMeta("G1", lane, 1, "left", T0 + timedelta(seconds=sec), pid)


def test_passages_by_gap():
    lp = LanePassages(gap_s=5)
    p1, c1 = lp.on_frame("k1", meta(0), read(codes=[CODE]))
    p2, c2 = lp.on_frame("k2", meta(3), read(codes=[CODE]))
    p3, c3 = lp.on_frame("k3", meta(20), read())
    assert p1 == p2 == gap_passage_id("G1", "L1", T0) and p3 != p1
    assert c1 == [] and c2 == []
    assert len(c3) == 1 and c3[0].passage.passage_id == p1 and len(c3[0].passage.frames) == 2
    assert c3[0].fused.containers.value == (CODE,)
    (last,) = lp.finish()
    assert last.passage.passage_id == p3


def test_passages_by_id_and_late_frame_gives_a_new_edition():
    lp = LanePassages(gap_s=5, keep_closed=2)
    lp.on_frame("a1", meta(0, "A"), read(codes=[CODE]))
    _pid, closed = lp.on_frame("b1", meta(1, "B"), read())
    assert [c.passage.passage_id for c in closed] == ["A"]
    _pid, again = lp.on_frame("a2", meta(2, "A"), read(codes=[CODE]))
    assert len(again) == 1 and again[0].passage.edition == 1 and len(again[0].passage.frames) == 2
    # the same frame twice is not counted twice
    _pid, dup = lp.on_frame("a2", meta(2, "A"), read(codes=[CODE]))
    assert dup == []


def test_state_is_bounded():
    lp = LanePassages(gap_s=1, max_frames=3, keep_closed=4)
    for i in range(50):
        lp.on_frame(f"k{i}", meta(i * 10, f"P{i}"), read())
    assert len(lp.closed) == 4
    lp2 = LanePassages(gap_s=100, max_frames=3)
    closed = []
    for i in range(7):
        closed += lp2.on_frame(f"k{i}", meta(i), read())[1]
    assert [len(c.passage.frames) for c in closed] == [3, 3]


def test_gap_passage_closed_early_is_continued_by_a_frame_within_the_gap():
    lp = LanePassages(gap_s=5)
    pid, _ = lp.on_frame("k1", meta(0), read(codes=[CODE]))
    (early,) = lp.finish()  # e.g. the idle timer of a live run
    assert early.passage.edition == 0
    pid2, again = lp.on_frame("k2", meta(3), read(codes=[CODE]))
    assert pid2 == pid
    assert len(again) == 1 and again[0].passage.edition == 1 and len(again[0].passage.frames) == 2
    pid3, _ = lp.on_frame("k3", meta(30), read())
    assert pid3 != pid
