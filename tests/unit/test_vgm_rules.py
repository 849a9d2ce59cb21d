"""The directive's checks, at their boundaries (vgm-yonergesi.txt Art. 5(16), 7, 8, 9, 20, 24)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from operators.vgm_policy import CscPlate, VgmPolicy, vgm_policy
from operators.vgm_rules import (
    beyond_tolerance,
    deviation_pct,
    instrument_usable,
    local_date,
    method2_refusal,
    needs_vgm,
    over_payload,
    payload_limit,
)


def test_instrument_usable_for_one_year_after_inspection_art20():
    inspected = date(2025, 3, 10)
    assert instrument_usable(inspected, date(2025, 3, 10))
    assert instrument_usable(inspected, date(2026, 3, 10))  # exactly one year: not beyond
    assert not instrument_usable(inspected, date(2026, 3, 11))
    assert not instrument_usable(inspected, date(2025, 3, 9))  # before its inspection: no valid card yet


def test_instrument_inspected_on_leap_day():
    assert instrument_usable(date(2024, 2, 29), date(2025, 2, 28))
    assert not instrument_usable(date(2024, 2, 29), date(2025, 3, 1))


def test_local_date_uses_the_site_offset():
    three = timedelta(hours=3)
    assert local_date(datetime(2026, 12, 31, 20, 59, tzinfo=UTC), three) == date(2026, 12, 31)
    assert local_date(datetime(2026, 12, 31, 21, 0, tzinfo=UTC), three) == date(2027, 1, 1)


@pytest.mark.parametrize(("declared", "verified", "beyond"), [
    (21000.0, 20000.0, False),   # +5 % exactly: 1000 = 5 % of 20000
    (19000.0, 20000.0, False),   # −5 % exactly
    (21010.0, 20000.0, True),    # +5.05 %
    (18990.0, 20000.0, True),    # −5.05 %
    (20000.0, 20000.0, False),
])
def test_tolerance_five_percent_of_the_verified_mass(declared, verified, beyond):
    assert beyond_tolerance(declared, verified, 5.0) is beyond


def test_tolerance_is_configurable_and_deviation_signed():
    assert beyond_tolerance(20700.0, 20000.0, 3.0)  # 3.5 % > 3 %
    assert not beyond_tolerance(20700.0, 20000.0, 5.0)
    assert deviation_pct(21600.0, 20000.0) == pytest.approx(8.0)
    assert deviation_pct(18000.0, 20000.0) == pytest.approx(-10.0)


def test_payload_limit_from_any_two_csc_figures_then_config():
    a = payload_limit(30480.0, None, 2230.0, None)
    assert a is not None and (a.max_gross_kg, a.max_payload_kg, a.source) == (30480.0, 28250.0, "declaration")
    b = payload_limit(None, 28250.0, 2230.0, None)
    assert b is not None and b.max_gross_kg == 30480.0
    c = payload_limit(30480.0, 28250.0, None, None)
    assert c is not None and c.tare_kg == 2230.0
    d = payload_limit(None, None, None, CscPlate(32500.0, 3800.0))
    assert d is not None and (d.max_gross_kg, d.max_payload_kg, d.source) == (32500.0, 28700.0, "config")
    assert payload_limit(30480.0, None, None, None) is None


def test_over_payload_exactly_at_the_limit_is_allowed_art8():
    limit = payload_limit(30480.0, None, 2230.0, None)
    assert limit is not None
    assert not over_payload(30480.0, limit)
    assert over_payload(30480.5, limit)


def test_empties_exempt_dirty_tanks_count_as_packed_art9():
    assert not needs_vgm("empty")
    assert needs_vgm("full") and needs_vgm("dirty_tank")


def test_method2_only_authorised_shippers_and_never_excluded_cargo_art24():
    policy = VgmPolicy(authorised_method2=frozenset({"Ege Tekstil"}))
    assert method2_refusal("Ege Tekstil", "general", policy) is None
    assert "not authorised" in (method2_refusal("Other Ltd", "general", policy) or "")
    for cargo in ("scrap_metal", "unbagged_grain", "bulk", "raw_marble"):
        assert "Art. 24(5)" in (method2_refusal("Ege Tekstil", cargo, policy) or "")


def test_policy_from_toml_mapping():
    p = vgm_policy({"deviation_pct": 3, "ceiling_price": 1000, "instruments": [
        {"instrument_id": "WB-1", "number": "33-1", "last_inspection": "2025-01-02"}],
        "signers": [{"operator_id": "OP", "name": "A", "national_id": "1"}],
        "vehicle_tares": {"33 A 1": 14000}, "csc": {"CSQU3054383": {"max_gross_kg": 30480, "tare_kg": 2230}}})
    assert p.deviation_pct == 3.0 and p.instruments["WB-1"].last_inspection == date(2025, 1, 2)
    assert p.vehicle_tares["33 A 1"] == 14000.0 and p.csc["CSQU3054383"].tare_kg == 2230.0
    with pytest.raises(ValueError):
        vgm_policy({"deviation_pct": -1})
