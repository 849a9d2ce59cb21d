"""Exit notice vs declarations (B.3 5–7): package count equal, weight warning, above 10 % loading blocked."""

import pytest

from operators.exit_notice import check_exit_notice
from tests.unit.port_helpers import T0, ev


def notice(packages, kg, decls):
    return ev("exit_notice", T0, vessel_call_id="V", exit_notice_no="CB1", package_count=packages, gross_kg=kg,
              declarations=[{"declaration_no": f"EX{i}", "package_count": p, "gross_kg": k}
                            for i, (p, k) in enumerate(decls)])


def test_a_matching_notice_raises_nothing():
    assert check_exit_notice(notice(30, 3000.0, [(10, 1000.0), (20, 2000.0)])) == []


def test_package_mismatch_is_critical():
    (a,) = check_exit_notice(notice(29, 3000.0, [(10, 1000.0), (20, 2000.0)]))
    assert a.kind == "exit_notice_package_mismatch" and a.severity == "critical"
    assert (a.details["declared_packages"], a.details["notice_packages"]) == (30, 29)


@pytest.mark.parametrize("kg, kind", [(3300.0, "exit_notice_weight_difference"),   # exactly 10 %: a warning
                                      (3300.3, "exit_notice_weight_blocked"),      # above 10 %: blocked
                                      (2999.0, "exit_notice_weight_difference"),
                                      (2600.0, "exit_notice_weight_blocked")])
def test_weight_difference_warning_and_block_above_ten_percent(kg, kind):
    (a,) = check_exit_notice(notice(30, kg, [(10, 1000.0), (20, 2000.0)]))
    assert a.kind == kind
    assert a.details["difference_kg"] == pytest.approx(kg - 3000.0)
