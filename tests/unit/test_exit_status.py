"""The containers flow's exit-status stream as the gate reads it: as of the LPR time, whatever order it came in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from operators.declaration_balance import Balance
from operators.exit_status import (
    ContainerExit,
    DeclarationExit,
    ExitStatusBook,
    ExitStatusError,
    GateExit,
    PortExit,
    balance_as_of,
    container_message,
    declaration_message,
    decode_status,
)
from operators.gate_decision import DecisionPolicy, PassageView
from operators.gate_join import PregateJoin
from operators.pregate import decode_notice

T = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
M = timedelta(minutes=1)
C1 = "CSQU3054383"  # ISO 6346 worked example: check digit 3


def test_messages_round_trip_and_bad_ones_are_refused():
    msg = container_message(C1, T, False, ["open_hold"], ["X-ray ordered, not released"])
    assert msg.key == f"container:{C1}".encode()
    assert decode_status(msg.value) == ContainerExit(C1, T, False, ("open_hold",), ("X-ray ordered, not released",))
    body = {"declaration_no": "EX-1", "released_packages": 300, "released_kg": 30_000.0,
            "released_ts": "2026-03-02T07:00:00.000Z",
            "exits": [{"event_id": "g1", "ts": "2026-03-02T07:30:00.000Z", "container_no": "", "plate": "34 AB 1",
                       "packages": 100, "kg": 10_000.0}]}
    st = decode_status(declaration_message({"kind": "declaration", **body}, T).value)
    assert isinstance(st, DeclarationExit) and st.released_packages == 300 and st.exits[0].packages == 100
    for bad in ("not json", "[]", json.dumps({"kind": "container", "ts": "2026-03-02T08:00:00Z"}),
                json.dumps({"kind": "container", "ts": "x", "container_no": C1, "may_exit": True}),
                json.dumps({"kind": "container", "ts": "2026-03-02T08:00:00Z", "container_no": C1, "may_exit": "yes"}),
                json.dumps({"kind": "declaration", "ts": "2026-03-02T08:00:00Z", "declaration_no": "D",
                            "released_packages": 3}),
                json.dumps({"kind": "vessel", "ts": "2026-03-02T08:00:00Z"})):
        with pytest.raises(ExitStatusError):
            decode_status(bad)


def test_the_book_answers_as_of_a_time_in_any_arrival_order():
    held = ContainerExit(C1, T, False, ("open_hold",), ("X-ray ordered, not released (A.2.21)",))
    free = ContainerExit(C1, T + 10 * M, True)
    for order in ((held, free), (free, held)):
        book = ExitStatusBook()
        for st in order:
            book.add(st)
        assert book.may_exit(C1, T - M) == (False, "no exit status from container tracking (container unknown to "
                                                    "the port)")
        assert book.may_exit(C1, T + 5 * M) == (False, "X-ray ordered, not released (A.2.21)")
        assert book.may_exit(C1, T + 10 * M) == (True, "")


def test_declaration_statuses_merge_in_any_order():
    e1 = PortExit("g1", T + M, "", "34 AB 1", 100, 10_000.0)
    e2 = PortExit("g2", T + 2 * M, "", "34 AB 2", 100, 10_000.0)
    a = DeclarationExit("EX-1", T + M, 300, 30_000.0, T, (e1,))
    b = DeclarationExit("EX-1", T + 2 * M, 300, 30_000.0, T, (e1, e2))
    late = DeclarationExit("EX-1", T + M / 2, 300, 30_000.0, T, (PortExit("g0", T + M / 2, "", "34 AB 9", 5, 1.0),))
    books = []
    for order in ((a, b, late), (late, b, a), (b, late, a)):
        book = ExitStatusBook()
        for st in order:
            book.add(st)
        books.append(book.declaration("EX-1"))
    assert books[0] == books[1] == books[2]
    assert books[0] is not None and [e.event_id for e in books[0].exits] == ["g0", "g1", "g2"]


def test_balance_counts_a_vehicle_once_when_both_the_gate_and_the_port_report_it():
    status = DeclarationExit("EX-1", T, 300, 30_000.0, T - timedelta(hours=1),
                             (PortExit("g1", T + 3 * M, "", "34ab101", 100, 10_100.0),))
    own = [GateExit(T + M, "P1", "34 AB 101", 100, 10_000.0), GateExit(T + 5 * M, "P2", "34 AB 102", 100, 10_000.0)]
    window = timedelta(hours=2)
    # before the port reported P1's truck: both gate exits count
    assert balance_as_of(status, T + 2 * M, own[:1], window) == Balance(300, 30_000.0, 100, 10_000.0)
    # after: the port's figures replace the gate's for that truck (same plate within the window); P2 counts
    assert balance_as_of(status, T + 10 * M, own, window) == Balance(300, 30_000.0, 200, 20_100.0)
    # a release recorded after the vehicle, or none: no balance (the gate blocks: no release, A.5.2)
    assert balance_as_of(status, T - 2 * timedelta(hours=1), [], window) is None
    assert balance_as_of(None, T, [], window) is None


def passage(pid: str, plate: str, ts: datetime, containers: tuple[str, ...] = ()) -> PassageView:
    return PassageView(pid, "G1", "L9", ts, plate, None, containers, "42G1" if containers else None, False,
                       True if containers else None, frames=("k",))


def out_notice(nid: str, plate: str, ts: datetime, containers: list[dict[str, str]] | None = None,
               **kw: object) -> str:
    return json.dumps({"notice_id": nid, "ts": ts.isoformat(), "direction": "out", "plate": plate,
                       "containers": containers or [], "declaration_type": "import", "notifier": "port", **kw})


def test_gate_out_reads_the_hold_as_of_the_lpr_time_and_re_decides_on_a_late_status():
    j = PregateJoin(DecisionPolicy())
    j.on_notice(decode_notice(out_notice("X1", "34 ABC 123", T - 10 * M, [
        {"number": C1, "size_type": "42G1", "load_status": "full", "seal_no": "S1"}])))
    held = decode_status(container_message(C1, T - timedelta(hours=5), False, ["open_hold"],
                                           ["open inspection hold: X-ray ordered, not released (A.2.21)"]).value)
    j.on_status(held)
    (d,) = [e.decision for e in j.on_passage(passage("P1", "34 ABC 123", T, (C1,))) if e.decision]
    assert (d.decision, d.reasons) == ("divert", ("exit_blocked",)) and "X-ray" in d.details[0]
    # the release took effect a minute before the truck but reached the gate after it: re-decided, opens
    released = decode_status(container_message(C1, T - M, True, [], []).value)
    (d2,) = [e for e in j.on_status(released) if e.kind == "decision"]
    assert d2.decision is not None and (d2.decision.decision, d2.edition) == ("open", 1)
    # a release after the truck does not reach it
    j2 = PregateJoin(DecisionPolicy())
    j2.on_notice(decode_notice(out_notice("X1", "34 ABC 123", T - 10 * M, [
        {"number": C1, "size_type": "42G1", "load_status": "full", "seal_no": "S1"}])))
    j2.on_status(held)
    j2.on_passage(passage("P1", "34 ABC 123", T, (C1,)))
    assert j2.on_status(decode_status(container_message(C1, T + M, True, [], []).value)) == []


def test_three_vehicles_on_one_declaration_from_the_release_in_the_exit_status():
    j = PregateJoin(DecisionPolicy())
    release = {"kind": "declaration", "declaration_no": "EX-1", "released_packages": 300, "released_kg": 30_000.0,
               "released_ts": (T - timedelta(hours=2)).isoformat(), "exits": []}
    j.on_status(decode_status(declaration_message(release, T - timedelta(hours=2)).value))
    # 120 + 120 leave; the third carries 120 where 60 remain: any package difference blocks (B.3.2.5(b))
    figures = ((120, 12_000.0), (120, 12_000.0), (120, 6_000.0))
    got = []
    for i, (pk, kg) in enumerate(figures):
        plate, t = f"34 AB 10{i}", T + 10 * i * M
        j.on_notice(decode_notice(out_notice(f"X{i}", plate, t - 5 * M, declaration_no="EX-1", package_count=pk,
                                             weight_kg=kg)))
        (d,) = [e.decision for e in j.on_passage(passage(f"E{i}", plate, t)) if e.decision]
        got.append((d.decision, d.reasons))
    assert got == [("open", ()), ("open", ()), ("divert", ("package_count_mismatch",))]
    # a declaration with no release recorded: blocked with the reason
    j.on_notice(decode_notice(out_notice("X9", "34 AB 199", T + 40 * M, declaration_no="EX-2", package_count=1,
                                         weight_kg=1.0)))
    (d,) = [e.decision for e in j.on_passage(passage("E9", "34 AB 199", T + 45 * M)) if e.decision]
    assert d.reasons == ("exit_blocked",) and "no release" in d.details[0]


def test_the_book_is_bounded():
    book = ExitStatusBook(keep_per_container=2, max_containers=10)
    for i in range(25):
        book.add(ContainerExit(f"C{i:02d}", T + i * M, True))
    for k in range(5):
        book.add(ContainerExit("C24", T + (30 + k) * M, k % 2 == 0))
    assert len(book.containers) <= 10 and "C24" in book.containers and "C00" not in book.containers
    assert len(book.containers["C24"]) == 2
    assert book.may_exit("C24", T + 40 * M) == (True, "")  # the newest answer (k = 4) is kept


def test_a_snapshot_copy_is_independent():
    import copy

    book = ExitStatusBook()
    book.add(ContainerExit(C1, T, False, ("open_hold",)))
    snap = copy.deepcopy(book)
    book.add(ContainerExit(C1, T + M, True))
    assert snap.may_exit(C1, T + 2 * M)[0] is False and book.may_exit(C1, T + 2 * M)[0] is True
