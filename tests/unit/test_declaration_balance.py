"""Goods of one declaration leaving on several vehicles: running package/kg balance (A.5.2–3)."""

from operators.declaration_balance import DeclarationBalance, exit_allowance
from operators.port_events import route
from tests.unit.port_helpers import C1, C2, C3, T0, H, ev


def release(packages=100, kg=20_000.0, at=T0):
    return ev("declaration_released", at, declaration_no="IM1", package_count=packages, gross_kg=kg)


def out(no, at, packages, kg, event_id=None):
    return ev("gate_out", at, event_id, container_no=no, plate="33 A 1", declaration_no="IM1",
              package_count=packages, gross_kg=kg)


def test_exits_are_deducted_and_routed_to_the_declaration():
    b = DeclarationBalance("IM1", kg_tolerance_pct=2.0)
    e = out(C1, T0 + H, 30, 6000.0)
    assert "declaration:IM1" in route(e) and "declaration:IM1" in route(release())
    assert b.on_event(release()) == [] and b.on_event(e) == []
    assert (b.packages_left, b.kg_left) == (70, 14_000.0) and not b.complete
    assert b.on_event(out(C2, T0 + 2 * H, 70, 14_000.0)) == [] and b.complete


def test_more_packages_than_released_is_alerted_at_the_exit_that_overdraws():
    b = DeclarationBalance("IM1")
    b.on_event(release(60, 15_000.0))
    assert b.on_event(out(C1, T0 + H, 40, 9000.0)) == []
    (a,) = b.on_event(out(C2, T0 + 2 * H, 30, 6000.0))
    assert a.kind == "exit_over_declared_packages" and a.entity_id == "IM1" and a.details["container_no"] == C2
    assert (a.details["out_packages"], a.details["released_packages"]) == (70, 60)


def test_weight_beyond_the_tolerance():
    b = DeclarationBalance("IM1", kg_tolerance_pct=2.0)
    b.on_event(release(100, 10_000.0))
    assert b.on_event(out(C1, T0 + H, 50, 10_200.0)) == []  # exactly +2 %: tolerated
    (a,) = b.on_event(out(C2, T0 + 2 * H, 0, 1.0))
    assert a.kind == "exit_over_declared_weight"


def test_a_release_recorded_late_judges_the_earlier_exits_and_duplicates_count_once():
    b = DeclarationBalance("IM1")
    e = out(C1, T0 + H, 80, 1000.0, event_id="g1")
    assert b.on_event(e) == [] and b.on_event(e) == []
    b.on_event(out(C3, T0 + 2 * H, 30, 1000.0))
    (a,) = b.on_event(release(100, 20_000.0, at=T0))
    assert a.kind == "exit_over_declared_packages" and a.details["container_no"] == C3


def test_the_gate_asks_before_the_next_vehicle():
    assert exit_allowance(None, 1, 1.0)[0] is False
    b = DeclarationBalance("IM1", kg_tolerance_pct=2.0)
    b.on_event(release(100, 10_000.0))
    b.on_event(out(C1, T0 + H, 60, 6000.0))
    assert exit_allowance(b, 40, 4000.0) == (True, "")
    allowed, reason = exit_allowance(b, 41, 4000.0)
    assert not allowed and "40 left" in reason
    assert exit_allowance(b, 40, 4200.0)[0] is True and exit_allowance(b, 40, 4201.0)[0] is False
