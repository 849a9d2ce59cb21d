"""The Bytewax glue of the containers flow: state dropped after the retention, kept for a new visit."""

import json
from datetime import timedelta

from bytewax.operators import StatefulLogic

from flows.containers import _ContainerLogic, _DeclarationLogic, may_container_exit
from operators.container_state import ContainerParams
from operators.declaration_balance import BalanceRule
from operators.exit_status import StatusMessage
from operators.storage_clock import Expire
from tests.unit.port_helpers import C1, T0, H, ev

RETENTION = timedelta(hours=168)


def logic():
    return _ContainerLogic(None, ContainerParams(), RETENTION)


def visit(lg, start):
    key = f"container:{C1}"
    for e in (ev("discharged", start, container_no=C1, vessel_call_id="V1", summary_declaration_no="SD1",
                 bl_no="BL1", load_status="full"),
              ev("storage_exit", start + H, container_no=C1), ev("gate_out", start + 2 * H, container_no=C1,
                                                                   plate="P")):
        _out, keep = lg.on_item((key, e))
        assert keep == StatefulLogic.RETAIN


def test_state_is_dropped_a_retention_after_the_exit_and_not_before():
    lg = logic()
    visit(lg, T0)
    assert lg.on_item((f"container:{C1}", Expire(C1, T0 + 2 * H + RETENTION - timedelta(seconds=1))))[1] is \
        StatefulLogic.RETAIN
    assert lg.on_item((f"container:{C1}", Expire(C1, T0 + 2 * H + RETENTION)))[1] is StatefulLogic.DISCARD


def test_a_container_back_in_the_port_keeps_its_state():
    lg = logic()
    visit(lg, T0)
    lg.on_item((f"container:{C1}", ev("discharged", T0 + 3 * H + timedelta(days=1), container_no=C1,
                                      vessel_call_id="V2", summary_declaration_no="SD9", bl_no="B9",
                                      load_status="empty")))
    assert lg.on_item((f"container:{C1}", Expire(C1, T0 + 2 * H + RETENTION)))[1] is StatefulLogic.RETAIN
    answer = may_container_exit(lg.tracker)
    assert not answer.allowed and answer.codes == ("no_storage_exit",)
    assert may_container_exit(None).codes == ("not_in_port",)


def test_a_declaration_balance_is_forgotten_when_everything_has_left():
    lg = _DeclarationLogic(None, BalanceRule())
    key = "declaration:IM1"
    rel = ev("declaration_released", T0, declaration_no="IM1", package_count=10, gross_kg=100.0)
    items, keep = lg.on_item((key, rel))
    assert keep is StatefulLogic.RETAIN
    (msg,) = items  # the exit status for the gate: released, nothing left yet
    assert isinstance(msg, StatusMessage) and msg.key == b"declaration:IM1" and msg.ts == T0
    assert json.loads(msg.value)["released_packages"] == 10 and json.loads(msg.value)["exits"] == []
    out = ev("gate_out", T0 + H, container_no=C1, plate="P", declaration_no="IM1", package_count=10, gross_kg=100.0)
    items, keep = lg.on_item((key, out))
    assert keep is StatefulLogic.DISCARD and [type(x) for x in items] == [StatusMessage]
    assert [x["packages"] for x in json.loads(items[0].value)["exits"]] == [10]


def statuses(items):
    return [(json.loads(x.value)["ts"], json.loads(x.value)["may_exit"], json.loads(x.value)["exit_codes"])
            for x in items if isinstance(x, StatusMessage)]


def test_exit_status_messages_follow_the_answer_in_event_time():
    lg = logic()
    key = f"container:{C1}"
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
    feed = [ev("discharged", T0, container_no=C1, vessel_call_id="V1", summary_declaration_no="SD1", bl_no="BL1",
               load_status="full"),
            ev("inspection_ordered", T0 + H, container_no=C1, inspection="xray", source="officer"),
            ev("storage_exit", T0 + 2 * H, container_no=C1),
            ev("hold_released", T0 + 4 * H, "rel", container_no=C1, officer_id="GM-1")]
    got = [statuses(lg.on_item((key, e))[0]) for e in feed]
    # discharged: no storage exit (A.5); X-ray ordered: open hold too (A.2.21); storage exit: the hold only;
    # released: may leave
    assert got == [[(iso(T0), False, ["no_storage_exit"])], [(iso(T0 + H), False, ["open_hold", "no_storage_exit"])],
                   [(iso(T0 + 2 * H), False, ["open_hold"])], [(iso(T0 + 4 * H), True, [])]]
    assert statuses(lg.on_item((key, feed[-1]))[0]) == []  # a duplicate changes nothing
    # a hold ordered at T0+5H, then a late release at T0+3H (before it): the answer between 3 h and 5 h changes
    # from "held" to "may leave", and the old change point at 4 h is corrected to the answer now in force there
    assert statuses(lg.on_item((key, ev("inspection_ordered", T0 + 5 * H, container_no=C1, inspection="physical",
                                        source="officer")))[0]) == [(iso(T0 + 5 * H), False, ["open_hold"])]
    late = statuses(lg.on_item((key, ev("hold_released", T0 + 3 * H, container_no=C1, officer_id="GM-1")))[0])
    assert late == [(iso(T0 + 3 * H), True, []), (iso(T0 + 4 * H), True, [])]
