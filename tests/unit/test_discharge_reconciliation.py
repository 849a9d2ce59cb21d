"""Discharge list vs summary declarations (G10, A.3.3), inspection not discharged (A.2.4), approval (A.1.13)."""

from datetime import timedelta

from operators.container_no import with_check_digit
from operators.discharge_reconciliation import DischargeParams, DischargeReconciler
from operators.port_events import Tick
from tests.unit.port_helpers import T0, H, ev

N = [with_check_digit(f"TGHU{i:06d}") for i in range(20)]
P = DischargeParams(quiet_period_h=6.0, retention_h=72.0)


def call_start(r, approved=True):
    r.on_item(ev("arrival", T0, vessel_call_id="V1", vessel_name="MSC X", voyage="A1"))
    if approved:
        r.on_item(ev("arrival_approved", T0 + H, vessel_call_id="V1", arrival_notification_no="VB1"))


def manifest(r, sd, bl, numbers=None, count=None):
    extra = {"container_numbers": numbers} if numbers is not None else {"container_count": count}
    r.on_item(ev("manifest_line", T0 - H, vessel_call_id="V1", summary_declaration_no=sd, bl_no=bl, **extra))


def discharge(r, n, sd, bl, at):
    return r.on_item(ev("discharged", at, container_no=n, vessel_call_id="V1", summary_declaration_no=sd, bl_no=bl,
                        load_status="full"))


def depart(r, at):
    """The departure, then every stream reaching its time (the watermark passes it)."""
    out = r.on_item(ev("departure", at, vessel_call_id="V1"))
    more = r.on_item(Tick(at))
    out.rows += more.rows
    out.alerts += more.alerts
    return out


def test_a_clean_discharge_raises_nothing_and_completes_at_departure():
    r = DischargeReconciler(P)
    call_start(r)
    manifest(r, "SD1", "BL1", N[:3])
    alerts = []
    for i in range(3):
        alerts += discharge(r, N[i], "SD1", "BL1", T0 + 2 * H + i * H).alerts
    out = depart(r, T0 + 10 * H)
    assert alerts + out.alerts == []
    decl = [row for row in out.rows if row["level"] == "declaration"]
    assert decl[0]["declared"] == decl[0]["discharged"] == 3 and decl[0]["status"] == "complete"


def test_running_counts_are_written_while_discharging():
    r = DischargeReconciler(P)
    manifest(r, "SD1", "BL1", N[:3])
    out = discharge(r, N[0], "SD1", "BL1", T0 + 2 * H)
    row = next(x for x in out.rows if x["level"] == "declaration")
    assert (row["declared"], row["discharged"], row["status"]) == (3, 1, "discharging")
    assert out.alerts == []


def test_missing_and_surplus_per_declaration_with_the_numbers():
    r = DischargeReconciler(P)
    call_start(r)
    manifest(r, "SD1", "BL1", N[:4])
    for i, n in enumerate([N[0], N[1], N[2], N[9]]):
        discharge(r, n, "SD1", "BL1", T0 + 2 * H + i * H)
    alerts = depart(r, T0 + 10 * H).alerts
    by = {a.kind: a for a in alerts}
    assert sorted(by) == ["discharge_missing", "discharge_surplus"]
    assert by["discharge_missing"].details["missing"] == [N[3]] and by["discharge_missing"].entity_id == "SD1"
    assert by["discharge_surplus"].details["surplus"] == [N[9]]


def test_a_declaration_with_several_bls_is_compared_per_bl():
    r = DischargeReconciler(P)
    call_start(r)
    manifest(r, "SD1", "BL1", N[:2])
    manifest(r, "SD1", "BL2", N[2:4])
    # N[1] declared on BL1 but reported on BL2: BL1 misses one, BL2 has one surplus, the declaration total is even
    for i, (n, bl) in enumerate([(N[0], "BL1"), (N[1], "BL2"), (N[2], "BL2"), (N[3], "BL2")]):
        discharge(r, n, "SD1", bl, T0 + 2 * H + i * H)
    out = depart(r, T0 + 10 * H)
    got = sorted((a.kind, a.discriminator, a.details.get("missing", a.details.get("surplus"))) for a in out.alerts)
    assert got == [("discharge_missing", "BL1", [N[1]]), ("discharge_surplus", "BL2", [N[1]])]
    rows = {(x["bl_no"], x["level"]): (x["declared"], x["discharged"]) for x in out.rows}
    assert rows[("", "declaration")] == (4, 4) and rows[("BL1", "bl")] == (2, 1) and rows[("BL2", "bl")] == (2, 3)


def test_count_only_manifest_and_undeclared_declaration():
    r = DischargeReconciler(P)
    call_start(r)
    manifest(r, "SD1", "BL1", count=3)
    discharge(r, N[0], "SD1", "BL1", T0 + 2 * H)
    discharge(r, N[1], "SDX", "BLX", T0 + 3 * H)
    alerts = depart(r, T0 + 10 * H).alerts
    got = sorted((a.kind, a.entity_type, a.entity_id, a.discriminator) for a in alerts)
    assert got == [("discharge_missing", "declaration", "SD1", ""), ("discharge_surplus", "vessel", "V1", "undeclared")]
    missing = next(a for a in alerts if a.kind == "discharge_missing")
    assert missing.details["missing_count"] == 2 and missing.details["missing"] == []


def test_quiet_period_completes_the_discharge_at_last_discharge_plus_the_period():
    r = DischargeReconciler(P)
    call_start(r)
    manifest(r, "SD1", "BL1", N[:2])
    discharge(r, N[0], "SD1", "BL1", T0 + 2 * H)
    assert r.on_item(Tick(T0 + 2 * H + timedelta(hours=5, minutes=59))).alerts == []
    alerts = r.on_item(Tick(T0 + 9 * H)).alerts
    assert [a.kind for a in alerts] == ["discharge_missing"]
    assert alerts[0].window_end == T0 + 8 * H  # last discharge + 6 h, not the tick time


def test_discharge_before_approval_and_inspection_not_discharged():
    r = DischargeReconciler(P)
    call_start(r, approved=False)
    manifest(r, "SD1", "BL1", N[:2])
    r.on_item(ev("inspection_ordered", T0, container_no=N[1], inspection="xray", source="risk_system",
                 vessel_call_id="V1"))
    discharge(r, N[0], "SD1", "BL1", T0 + 30 * 60 * timedelta(seconds=1))
    r.on_item(ev("arrival_approved", T0 + H, vessel_call_id="V1", arrival_notification_no="VB1"))
    alerts = depart(r, T0 + 10 * H).alerts
    got = sorted((a.kind, a.entity_id) for a in alerts)
    assert got == [("discharge_before_approval", "V1"), ("discharge_missing", "SD1"), ("inspection_not_discharged",
                                                                                      N[1])]


def test_a_departure_read_before_the_containers_waits_for_the_watermark():
    r = DischargeReconciler(P)
    call_start(r)
    manifest(r, "SD1", "BL1", N[:2])
    # a Kafka source read the vessels topic ahead of the containers topic: the departure comes first
    assert r.on_item(ev("departure", T0 + 10 * H, vessel_call_id="V1")).alerts == []
    r.on_item(Tick(T0 + 11 * H, "port.customs"))
    discharge(r, N[0], "SD1", "BL1", T0 + 2 * H)
    discharge(r, N[1], "SD1", "BL1", T0 + 3 * H)
    out = r.on_item(Tick(T0 + 10 * H, "port.containers"))
    assert out.alerts == [] and {x["status"] for x in out.rows} == {"complete"}
    assert r.calls["V1"].closed_at == T0 + 10 * H


def test_a_late_discharge_after_completion_resolves_the_missing_alert():
    r = DischargeReconciler(P)
    call_start(r)
    manifest(r, "SD1", "BL1", N[:2])
    discharge(r, N[0], "SD1", "BL1", T0 + 2 * H)
    (missing,) = depart(r, T0 + 10 * H).alerts
    out = discharge(r, N[1], "SD1", "BL1", T0 + 3 * H)  # recorded late, happened before departure
    assert [(a.alert_id, a.status) for a in out.alerts] == [(missing.alert_id, "resolved")]


def test_completed_calls_are_dropped_after_the_retention():
    r = DischargeReconciler(P)
    call_start(r)
    discharge(r, N[0], "SD1", "BL1", T0 + 2 * H)
    depart(r, T0 + 3 * H)
    r.on_item(Tick(T0 + 3 * H + timedelta(hours=71)))
    assert "V1" in r.calls
    r.on_item(Tick(T0 + 3 * H + timedelta(hours=72)))
    assert r.calls == {}
    # a discharge reported after that is not counted into a new, empty call but reported
    out = discharge(r, N[1], "SD1", "BL1", T0 + 80 * H)
    assert [(a.kind, a.entity_id, a.details["container_no"]) for a in out.alerts] == [
        ("discharge_after_completion", "V1", N[1])]
    assert r.calls == {} and out.rows == []


def test_duplicate_discharges_count_once():
    r = DischargeReconciler(P)
    manifest(r, "SD1", "BL1", N[:1])
    discharge(r, N[0], "SD1", "BL1", T0 + 2 * H)
    out = discharge(r, N[0], "SD1", "BL1", T0 + 2 * H)
    assert next(x for x in out.rows if x["level"] == "declaration")["discharged"] == 1
