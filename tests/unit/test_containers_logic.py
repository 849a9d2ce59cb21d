"""The Bytewax glue of the containers flow: state dropped after the retention, kept for a new visit."""

from datetime import timedelta

from bytewax.operators import StatefulLogic

from flows.containers import _ContainerLogic, _DeclarationLogic, may_container_exit
from operators.container_state import ContainerParams
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
    lg = _DeclarationLogic(None, 2.0)
    key = "declaration:IM1"
    rel = ev("declaration_released", T0, declaration_no="IM1", package_count=10, gross_kg=100.0)
    assert lg.on_item((key, rel))[1] is StatefulLogic.RETAIN
    out = ev("gate_out", T0 + H, container_no=C1, plate="P", declaration_no="IM1", package_count=10, gross_kg=100.0)
    assert lg.on_item((key, out)) == ([], StatefulLogic.DISCARD)
