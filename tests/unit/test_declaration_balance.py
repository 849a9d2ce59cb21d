"""One package/kg balance rule for a declaration leaving on several vehicles (A.5.2–3, B.3.2.5–7, G7, G9).

Expected values are worked by hand from the circular: any package difference blocks; a kg difference warns
(B.3.2.5(c)); above 10 % of the declared kg it blocks (B.3.2.6–7), exactly 10 % is not above it.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from operators.declaration_balance import Balance, BalanceRule, DeclarationBalance, check_exit, judge_kg
from operators.port_events import route
from tests.unit.port_helpers import C1, C2, C3, T0, H, ev


def test_three_vehicles_deduct_one_declaration():
    b = Balance(300, 30_000.0)
    first = check_exit(b, 100, 10_000.0)
    assert first.reasons == () and first.after.remaining_packages == 200
    second = check_exit(first.after, 100, 10_200.0)
    assert second.reasons == () and second.after.removed_kg == 20_200.0
    third = check_exit(second.after, 100, 9_900.0)  # total 30 100 kg: 0.33 % off → warning only
    assert third.reasons == () and third.warnings == ("weight_difference",)
    assert third.after.remaining_packages == 0
    # a fourth vehicle for the exhausted declaration is refused
    assert check_exit(third.after, 1, 10.0).reasons == ("package_count_mismatch",)


def test_more_packages_than_remain_or_none_blocks():
    assert check_exit(Balance(50, 5_000.0, 40, 4_000.0), 11, 1_000.0).reasons == ("package_count_mismatch",)
    assert check_exit(Balance(50, 5_000.0), 0, 100.0).reasons == ("package_count_mismatch",)


DECLARED = 10_000.0
TEN_PCT = float(Fraction(DECLARED) * Fraction(10, 100))  # 1 000 kg, computed exactly here


@pytest.mark.parametrize(("kg", "reasons", "warnings"), [
    (DECLARED + TEN_PCT, (), ("weight_difference",)),          # exactly 10 % over: not above it
    (DECLARED + TEN_PCT + 0.5, ("weight_over_10pct",), ()),
    (DECLARED - TEN_PCT, (), ("weight_difference",)),          # exactly 10 % under
    (DECLARED - TEN_PCT - 1.0, ("weight_over_10pct",), ()),
    (DECLARED, (), ()),
])
def test_ten_percent_boundary_on_the_last_vehicle(kg, reasons, warnings):
    c = check_exit(Balance(10, DECLARED), 10, kg)
    assert (c.reasons, c.warnings) == (reasons, warnings)


def test_ten_percent_boundary_with_float_noise():
    # 3 000 kg × 1.1 is 3 300.0000000000005 in binary floating point: still exactly 10 % in decimal
    assert 3_000 * 1.1 != 3_300
    c = check_exit(Balance(3, 3_000.0), 3, 3_000 * 1.1)
    assert (c.reasons, c.warnings) == ((), ("weight_difference",))
    assert check_exit(Balance(3, 3_000.0), 3, 3_300.01).reasons == ("weight_over_10pct",)


def test_intermediate_vehicle_blocks_only_on_excess_beyond_ten_percent():
    assert check_exit(Balance(10, DECLARED), 5, DECLARED + TEN_PCT).reasons == ()
    assert check_exit(Balance(10, DECLARED), 5, DECLARED + TEN_PCT + 1).reasons == ("weight_over_10pct",)
    assert check_exit(Balance(10, DECLARED), 5, 100.0).warnings == ()  # too light? only the last vehicle tells


def test_warning_band_and_block_threshold_are_configurable():
    rule = BalanceRule(warn_pct=2.0, block_pct=5.0)
    assert judge_kg(1_000.0, 1_015.0, rule) == "ok"        # 1.5 %: inside the band
    assert judge_kg(1_000.0, 1_020.0, rule) == "ok"        # exactly 2 %
    assert judge_kg(1_000.0, 1_030.0, rule) == "warning"   # 3 %
    assert judge_kg(1_000.0, 1_050.0, rule) == "warning"   # exactly 5 %
    assert judge_kg(1_000.0, 1_060.0, rule) == "block"     # 6 %
    assert check_exit(Balance(1, 1_000.0), 1, 1_060.0, rule).reasons == ("weight_over_10pct",)
    with pytest.raises(ValueError):
        BalanceRule(warn_pct=11.0, block_pct=10.0)


def release(packages=100, kg=20_000.0, at=T0):
    return ev("declaration_released", at, declaration_no="IM1", package_count=packages, gross_kg=kg)


def out(no, at, packages, kg, event_id=None, plate="33 A 1"):
    return ev("gate_out", at, event_id, container_no=no, plate=plate, declaration_no="IM1",
              package_count=packages, gross_kg=kg)


def test_exits_are_deducted_and_routed_to_the_declaration():
    b = DeclarationBalance("IM1")
    e = out(C1, T0 + H, 30, 6000.0)
    assert "declaration:IM1" in route(e) and "declaration:IM1" in route(release())
    assert b.on_event(release()) == [] and b.on_event(e) == []
    assert (b.packages_left, b.kg_left) == (70, 14_000.0) and not b.complete
    assert b.on_event(out(C2, T0 + 2 * H, 70, 14_000.0)) == [] and b.complete
    st = b.status()
    assert (st["released_packages"], st["released_kg"], len(st["exits"])) == (100, 20_000.0, 2)
    assert [x["packages"] for x in st["exits"]] == [30, 70]


def test_more_packages_than_released_is_alerted_at_the_exit_that_overdraws():
    b = DeclarationBalance("IM1")
    b.on_event(release(60, 15_000.0))
    assert b.on_event(out(C1, T0 + H, 40, 9000.0)) == []
    (a,) = b.on_event(out(C2, T0 + 2 * H, 30, 6000.0))
    assert a.kind == "exit_over_declared_packages" and a.entity_id == "IM1" and a.details["container_no"] == C2
    assert (a.details["out_packages"], a.details["released_packages"]) == (70, 60)


def test_weight_beyond_ten_percent_blocks_and_exactly_ten_percent_warns():
    b = DeclarationBalance("IM1")
    b.on_event(release(100, 10_000.0))
    assert b.on_event(out(C1, T0 + H, 50, 11_000.0)) == []  # exactly +10 % of the released kg, packages remain
    (a,) = b.on_event(out(C2, T0 + 2 * H, 50, 1.0))           # the last 50 packages: 11 001 kg in all
    assert a.kind == "exit_over_declared_weight" and a.details["block_pct"] == 10.0
    b2 = DeclarationBalance("IM2")
    b2.on_event(release(100, 10_000.0))
    b2.on_event(out(C1, T0 + H, 60, 6_000.0))
    (w,) = b2.on_event(out(C2, T0 + 2 * H, 40, 5_000.0))      # 11 000 kg in all: exactly 10 % → warning
    assert (w.kind, w.severity) == ("exit_weight_difference", "warning")


def test_a_release_recorded_late_judges_the_earlier_exits_and_duplicates_count_once():
    b = DeclarationBalance("IM1")
    e = out(C1, T0 + H, 80, 1000.0, event_id="g1")
    assert b.on_event(e) == [] and b.on_event(e) == []
    b.on_event(out(C3, T0 + 2 * H, 30, 1000.0))
    (a,) = b.on_event(release(100, 20_000.0, at=T0))
    assert a.kind == "exit_over_declared_packages" and a.details["container_no"] == C3
