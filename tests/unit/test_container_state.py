"""Per-container customs state and the checks raised on the way (A.2, A.5, B.3)."""

from datetime import timedelta

from operators.container_state import ContainerParams, ContainerTracker, exit_answer_from_row, fold, may_exit
from tests.unit.port_helpers import C1, T0, H, ev

P = ContainerParams(inspection_discharge_max_h=24.0)


def discharged(at=T0, foreign=False):
    return ev("discharged", at, container_no=C1, vessel_call_id="V1", summary_declaration_no="SD1", bl_no="BL1",
              load_status="full", seal_no="S1", foreign=foreign)


def run(*events):
    t = ContainerTracker(C1, P)
    alerts = []
    for e in events:
        alerts.extend(t.on_event(e).alerts)
    return t, alerts


def kinds(alerts):
    return sorted((a.kind, a.status) for a in alerts)


def test_a_cleared_import_container_may_leave():
    t, alerts = run(discharged(), ev("storage_entry", T0 + H, container_no=C1),
                    ev("storage_exit", T0 + 30 * H, container_no=C1))
    assert may_exit(t.state).allowed and alerts == []
    _t, alerts = run(discharged(), ev("storage_exit", T0 + 30 * H, container_no=C1),
                     ev("gate_out", T0 + 31 * H, container_no=C1, plate="33 A 1"))
    assert alerts == []


def test_each_reason_against_the_exit_is_named():
    t, _ = run(discharged(foreign=True), ev("inspection_ordered", T0 + H, container_no=C1, inspection="xray",
                                            source="risk_system"), ev("storage_entry", T0 + 2 * H, container_no=C1))
    a = may_exit(t.state)
    assert not a.allowed and a.codes == ("open_hold", "no_storage_exit", "tracking_form")
    assert "X-ray ordered" in a.reason and "not scanned" in a.reason and "A.5.5" in a.reason


def test_xray_scan_search_and_release():
    base = [discharged(), ev("inspection_ordered", T0 + H, container_no=C1, inspection="xray", source="officer"),
            ev("storage_exit", T0 + 9 * H, container_no=C1)]
    t, _ = run(*base, ev("xray_result", T0 + 2 * H, container_no=C1, result="clear"))
    assert t.state.customs_status == "scanned" and not may_exit(t.state).allowed  # scanned is not released
    t, _ = run(*base, ev("xray_result", T0 + 2 * H, container_no=C1, result="search"))
    assert t.state.holds == {"xray", "search"} and "search decided" in may_exit(t.state).reason
    t, _ = run(*base, ev("xray_result", T0 + 2 * H, container_no=C1, result="search"),
               ev("search_result", T0 + 3 * H, container_no=C1, result="clear"),
               ev("hold_released", T0 + 4 * H, container_no=C1, officer_id="O1"))
    assert t.state.customs_status == "released" and may_exit(t.state).allowed
    t, _ = run(*base, ev("search_result", T0 + 3 * H, container_no=C1, result="seizure"),
               ev("hold_released", T0 + 4 * H, container_no=C1, officer_id="O1"))
    assert t.state.holds == {"seizure"} and not may_exit(t.state).allowed


def test_leaving_with_an_open_hold_and_without_a_storage_exit_raises_both():
    _t, alerts = run(discharged(), ev("inspection_ordered", T0 + H, container_no=C1, inspection="physical",
                                      source="officer"), ev("gate_out", T0 + 5 * H, container_no=C1, plate="33 A 1"))
    assert kinds(alerts) == [("exit_with_open_hold", "open"), ("exit_without_storage_exit", "open")]
    assert all(a.severity == "critical" and a.entity_id == C1 for a in alerts)


def test_foreign_container_needs_an_approved_tracking_form():
    common = [discharged(foreign=True), ev("storage_exit", T0 + 9 * H, container_no=C1),
              ev("tracking_form_registered", T0 + 2 * H, form_no="F1", container_numbers=[C1])]
    _t, alerts = run(*common, ev("gate_out", T0 + 10 * H, container_no=C1, plate="P"))
    assert kinds(alerts) == [("exit_without_tracking_form", "open")]
    _t, alerts = run(*common, ev("tracking_form_approved", T0 + 3 * H, form_no="F1", container_numbers=[C1]),
                     ev("gate_out", T0 + 10 * H, container_no=C1, plate="P"))
    assert alerts == []


def test_a_release_recorded_late_resolves_the_exit_alert():
    order = ev("inspection_ordered", T0 - H, container_no=C1, inspection="xray", source="officer")
    out = ev("gate_out", T0 + 10 * H, container_no=C1, plate="P")
    _t, alerts = run(order, discharged(), ev("storage_exit", T0 + 9 * H, container_no=C1), out,
                     ev("hold_released", T0 + 5 * H, container_no=C1, officer_id="O1"))  # arrives after the exit
    assert kinds(alerts) == [("exit_with_open_hold", "open"), ("exit_with_open_hold", "resolved")]
    assert alerts[0].alert_id == alerts[1].alert_id


def test_duplicates_change_nothing():
    d = discharged()
    t = ContainerTracker(C1, P)
    first = t.on_event(d)
    again = t.on_event(d)
    assert len(first.rows) == 1 and again.rows == [] and t.state.events == 1


def test_inspection_discharged_late_only_beyond_the_limit():
    order = ev("inspection_ordered", T0, container_no=C1, inspection="xray", source="risk_system")
    _t, alerts = run(order, discharged(T0 + timedelta(hours=24)))
    assert alerts == []
    _t, alerts = run(order, discharged(T0 + timedelta(hours=24, minutes=1)))
    assert kinds(alerts) == [("inspection_discharged_late", "open")]
    assert alerts[0].details["late_h"] == round(24 + 1 / 60, 2)


def test_seal_without_reason():
    _t, alerts = run(discharged(), ev("seal_replaced", T0 + H, container_no=C1, seal_no="S1", new_seal_no="S2",
                                      reason="physical inspection"))
    assert alerts == []
    t, alerts = run(discharged(), ev("seal_broken", T0 + H, container_no=C1, seal_no="S1"))
    assert kinds(alerts) == [("seal_without_reason", "open")] and t.state.seal_no == ""


def test_export_loading_needs_a_completed_declaration_and_no_hold():
    gate_in = ev("gate_in", T0, container_no=C1, load_status="full", declaration_no="EX1")
    loaded = ev("loaded", T0 + 5 * H, container_no=C1, vessel_call_id="V2")
    _t, alerts = run(gate_in, loaded)
    assert kinds(alerts) == [("loading_incomplete_declaration", "open")]
    t, alerts = run(gate_in, ev("declaration_completed", T0 + H, declaration_no="EX1", container_numbers=[C1]),
                    loaded)
    assert alerts == [] and t.state.status == "loaded"
    _t, alerts = run(gate_in, ev("declaration_completed", T0 + H, declaration_no="EX1", container_numbers=[C1]),
                     ev("inspection_ordered", T0 + 2 * H, container_no=C1, inspection="xray", source="officer"),
                     loaded)
    assert kinds(alerts) == [("loading_with_open_hold", "open")]


def test_a_new_visit_starts_fresh_and_the_old_state_expires():
    t, _ = run(discharged(), ev("storage_exit", T0 + 5 * H, container_no=C1),
               ev("gate_out", T0 + 6 * H, container_no=C1, plate="P"))
    assert t.state.exited and not t.expired(T0 + 6 * H + timedelta(hours=167), timedelta(hours=168))
    assert t.expired(T0 + 6 * H + timedelta(hours=168), timedelta(hours=168))
    t.on_event(discharged(T0 + 30 * 24 * H))
    assert t.state.status == "discharged" and t.state.events == 1 and len(t.events) == 1


def test_the_warehouse_row_gives_the_same_answer():
    t, _ = run(discharged(), ev("inspection_ordered", T0 + H, container_no=C1, inspection="xray", source="officer"))
    row = t.on_event(ev("storage_entry", T0 + 2 * H, container_no=C1)).rows[0].records[0]
    assert exit_answer_from_row(row) == may_exit(t.state)
    assert row["may_exit"] is False and row["holds"] == ["xray"]


def test_fold_is_order_independent():
    events = [discharged(), ev("inspection_ordered", T0 + H, container_no=C1, inspection="xray", source="officer"),
              ev("xray_result", T0 + 2 * H, container_no=C1, result="clear"),
              ev("hold_released", T0 + 3 * H, container_no=C1, officer_id="O")]
    t1, _ = run(*events)
    t2, _ = run(*reversed(events))
    s1, _ = fold(C1, t1.events, P)
    assert (t1.state.status, t1.state.customs_status, t1.state.holds) == (
        t2.state.status, t2.state.customs_status, t2.state.holds) == (s1.status, "released", set())
