"""Gate-out balance checks (B.3.2.5–7, A.5.3); expected values worked by hand from the circular's rules."""

from __future__ import annotations

import pytest

from operators.exit_balance import Balance, check_exit


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


def test_more_packages_than_remain_blocks():
    assert check_exit(Balance(50, 5_000.0, 40, 4_000.0), 11, 1_000.0).reasons == ("package_count_mismatch",)


@pytest.mark.parametrize(("kg", "reasons", "warnings"), [
    (11_000.0, (), ("weight_difference",)),           # exactly 10 % over: not above it
    (11_000.5, ("weight_over_10pct",), ()),
    (9_000.0, (), ("weight_difference",)),            # exactly 10 % under
    (8_999.0, ("weight_over_10pct",), ()),
    (10_000.0, (), ()),
])
def test_ten_percent_boundary_on_the_last_vehicle(kg, reasons, warnings):
    c = check_exit(Balance(10, 10_000.0), 10, kg)
    assert (c.reasons, c.warnings) == (reasons, warnings)


def test_intermediate_vehicle_blocks_only_on_excess_beyond_ten_percent():
    assert check_exit(Balance(10, 10_000.0), 5, 11_000.0).reasons == ()
    assert check_exit(Balance(10, 10_000.0), 5, 11_001.0).reasons == ("weight_over_10pct",)
