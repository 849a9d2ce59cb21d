"""Per-container checks (Art. 7, 8, 9, 12, 24): status, violations, certificate requests."""

from __future__ import annotations

from operators.vgm_container import ContainerVgm
from operators.vgm_weighing import ContainerNotice, Measurement
from tests.unit.vgm_fixtures import C1, C3, POLICY, at, declaration


def measured(container: str, vgm: float, minutes: float = 30, ids: tuple[str, ...] = ("W1", "W2")) -> Measurement:
    return Measurement(container, vgm, at(minutes - 20), at(minutes), "WB-1", "OP-1", "in_out_pair", ids,
                       vgm + 15_000.0, 15_000.0)


def kinds(res) -> list[str]:
    return [v.kind for v in res.violations]


def test_deviation_beyond_five_percent_verified_prevails_art7():
    c = ContainerVgm(C1)
    c.on_declaration(declaration(C1, 0, 21_600.0), POLICY)  # +8 % of 20 000
    res = c.on_measurement(measured(C1, 20_000.0), POLICY)
    assert kinds(res) == ["tolerance"]
    assert res.violations[0].details["deviation_pct"] == 8.0
    (req,) = res.requests
    assert req.vgm_kg == 20_000.0 and req.max_payload_kg == 30_480.0 - 2_230.0 and req.shipper == "Akdeniz"
    assert res.status_rows[-1]["loadable"] is True and res.status_rows[-1]["vgm_kg"] == 20_000.0


def test_exactly_five_percent_is_no_violation_and_the_order_does_not_matter():
    c = ContainerVgm(C1)
    c.on_measurement(measured(C1, 20_000.0), POLICY)
    res = c.on_declaration(declaration(C1, 60, 21_000.0), POLICY)
    assert kinds(res) == []


def test_declaration_after_the_weighing_is_compared_too():
    c = ContainerVgm(C1)
    first = c.on_measurement(measured(C1, 20_000.0), POLICY)
    assert not first.requests  # no CSC data yet: no certificate
    assert first.status_rows[-1]["loadable"] is False and "maximum payload unknown" in first.status_rows[-1]["reason"]
    res = c.on_declaration(declaration(C1, 60, 18_900.0), POLICY)  # −5.5 %
    assert kinds(res) == ["tolerance"] and len(res.requests) == 1
    assert res.status_rows[-1]["loadable"] is True


def test_over_payload_no_certificate_not_loadable_art8():
    c = ContainerVgm(C1)
    c.on_declaration(declaration(C1, 0, 30_400.0), POLICY)
    res = c.on_measurement(measured(C1, 31_200.0), POLICY)
    assert kinds(res) == ["payload_exceeded"] and not res.requests
    assert res.status_rows[-1]["loadable"] is False and "Art. 8" in res.status_rows[-1]["reason"]


def test_exactly_at_the_maximum_gross_mass_is_certified():
    c = ContainerVgm(C1)
    c.on_declaration(declaration(C1, 0, 30_480.0), POLICY)
    res = c.on_measurement(measured(C1, 30_480.0), POLICY)
    assert kinds(res) == [] and len(res.requests) == 1


def test_packed_container_without_vgm_is_blocked_then_released_when_weighed_art12():
    c = ContainerVgm(C1)
    first = c.on_declaration(declaration(C1, 0, None), POLICY)
    assert kinds(first) == ["missing_vgm"]
    assert first.status_rows[-1]["loadable"] is False and "Art. 12" in first.status_rows[-1]["reason"]
    res = c.on_measurement(measured(C1, 18_340.0), POLICY)
    assert kinds(res) == [] and len(res.requests) == 1
    (resolved,) = res.resolved
    assert resolved.kind == "vgm_missing" and resolved.status == "resolved" and resolved.status_ts == at(30)
    assert resolved.alert_id == first.violations[0].alert().alert_id
    assert res.status_rows[-1]["loadable"] is True


def test_method2_from_an_unauthorised_shipper_is_refused_art24_3():
    c = ContainerVgm(C1)
    res = c.on_declaration(declaration(C1, 0, 16_000.0, method=2, shipper="Kuzey Hurda"), POLICY)
    assert kinds(res) == ["method2_not_allowed", "missing_vgm"]
    assert res.declaration_rows[0]["accepted"] is False
    assert res.status_rows[-1]["loadable"] is False


def test_method2_for_scrap_refused_even_from_an_authorised_shipper_art24_5():
    c = ContainerVgm(C1)
    res = c.on_declaration(declaration(C1, 0, 24_000.0, method=2, shipper="Ege Tekstil", cargo="scrap_metal"), POLICY)
    assert kinds(res) == ["method2_not_allowed", "missing_vgm"]


def test_accepted_declaration_makes_the_container_loadable_without_a_certificate():
    c = ContainerVgm(C1)
    res = c.on_declaration(declaration(C1, 0, 16_000.0, method=2, shipper="Ege Tekstil"), POLICY)
    assert kinds(res) == [] and not res.requests
    assert res.declaration_rows[0]["accepted"] is True and res.status_rows[-1]["loadable"] is True


def test_csc_plate_from_config_when_there_is_no_declaration():
    res = ContainerVgm(C3).on_measurement(measured(C3, 22_150.0), POLICY)
    (req,) = res.requests
    assert req.max_gross_kg == 30_480.0 and req.max_payload_kg == 28_250.0 and req.shipper == ""


def test_empty_container_notice_is_exempt_art9():
    res = ContainerVgm(C1).on_notice(ContainerNotice(C1, at(0), "empty", "empty", "W1"), POLICY)
    assert kinds(res) == [] and res.status_rows[-1]["loadable"] is True


def test_awaiting_pair_is_blocked_without_an_alert_and_rejection_raises_missing():
    c = ContainerVgm(C1)
    res = c.on_notice(ContainerNotice(C1, at(0), "awaiting_pair", "awaiting", "W1"), POLICY)
    assert kinds(res) == [] and res.status_rows[-1]["loadable"] is False
    res = c.on_notice(ContainerNotice(C1, at(1), "rejected", "overdue instrument", "W1"), POLICY)
    assert kinds(res) == ["missing_vgm"]


def test_status_versions_increase_and_unchanged_status_writes_nothing():
    c = ContainerVgm(C1)
    a = c.on_declaration(declaration(C1, 0, None), POLICY)
    b = c.on_notice(ContainerNotice(C1, at(1), "rejected", "", "W1"), POLICY)
    d = c.on_measurement(measured(C1, 20_000.0), POLICY)
    versions = [r["version"] for r in a.status_rows + b.status_rows + d.status_rows]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    again = c.on_measurement(measured(C1, 20_000.0), POLICY)
    assert not again.status_rows and not again.requests
