"""In-port rules of circular 2017/3: A.6.5 (form approval in port), B.3.18 (withdrawn export), A.4.14 (list of
empties), stuffing and stripping (A.3.7, A.4.3, A.2.19-22, A.4.4). Each rule with a stream that triggers it and
one that does not; the event streams are built from the clauses, not from the code."""

from dataclasses import replace
from datetime import timedelta

from operators.container_state import ContainerParams, ContainerTracker, may_exit
from operators.storage_clock import StorageClock, StorageParams
from tests.unit.port_helpers import C1, C2, T0, D, H, ev

P = ContainerParams(inspection_discharge_max_h=24.0, stuffing_seal_max_h=12.0)


def discharged(at=T0, load_status="full", foreign=False, seal_no="S1"):
    fields = {"seal_no": seal_no} if seal_no else {}
    return ev("discharged", at, container_no=C1, vessel_call_id="V1", summary_declaration_no="SD1", bl_no="BL1",
              load_status=load_status, foreign=foreign, **fields)


def run(*events, params=P):
    t = ContainerTracker(C1, params)
    alerts = []
    for e in events:
        alerts.extend(t.on_event(e).alerts)
    return t, alerts


def open_kinds(alerts):
    latest = {}
    for a in alerts:
        latest[a.alert_id] = a
    return sorted(a.kind for a in latest.values() if a.status == "open")


def approved_form(at, **kw):
    return ev("tracking_form_approved", at, form_no="KTF-1", container_numbers=[C1], **kw)


# A.6.5 -------------------------------------------------------------------------------------------------------
def test_form_approved_while_the_container_is_in_the_port_is_fine():
    _t, alerts = run(discharged(foreign=True), ev("storage_entry", T0 + H, container_no=C1), approved_form(T0 + 5 * H))
    assert alerts == []


def test_form_approved_for_a_container_not_in_the_port_is_reported():
    # never arrived
    _t, alerts = run(approved_form(T0))
    assert open_kinds(alerts) == ["tracking_form_not_in_port"]
    assert alerts[0].details["status"] == "unknown" and "A.6.5" in alerts[0].message
    # approved after it left: a new visit, not in the port
    _t, alerts = run(discharged(foreign=True), ev("storage_exit", T0 + H, container_no=C1),
                     ev("gate_out", T0 + 2 * H, container_no=C1, plate="33 A 1"), approved_form(T0 + 3 * H))
    assert "tracking_form_not_in_port" in open_kinds(alerts)


def test_a_late_discharge_report_placed_before_the_approval_resolves_the_finding():
    t = ContainerTracker(C1, P)
    first = t.on_event(approved_form(T0 + 5 * H)).alerts
    assert [a.kind for a in first] == ["tracking_form_not_in_port"]
    later = t.on_event(discharged(at=T0, foreign=True)).alerts
    assert [(a.kind, a.status) for a in later] == [("tracking_form_not_in_port", "resolved")]


# B.3.18 ------------------------------------------------------------------------------------------------------
def export_in(at=T0):
    return ev("gate_in", at, container_no=C1, load_status="full", declaration_no="EX1", plate="34 B 2")


def test_export_given_up_leaves_only_with_the_exit_approval():
    t, _ = run(export_in())
    answer = may_exit(t.state)
    assert not answer.allowed and answer.codes == ("export_withdrawal",) and "B.3.18" in answer.reason
    _t, alerts = run(export_in(), ev("gate_out", T0 + D, container_no=C1, plate="34 B 2"))
    assert open_kinds(alerts) == ["abandoned_export_exit"] and alerts[0].severity == "critical"

    approval = ev("export_withdrawal_approved", T0 + 5 * H, declaration_no="EX1", container_numbers=[C1])
    t, _ = run(export_in(), approval)
    assert may_exit(t.state).allowed
    _t, alerts = run(export_in(), approval, ev("gate_out", T0 + D, container_no=C1, plate="34 B 2"))
    assert alerts == []


def test_an_export_loaded_on_its_vessel_needs_no_withdrawal_approval():
    _t, alerts = run(export_in(), ev("declaration_completed", T0 + H, declaration_no="EX1", container_numbers=[C1]),
                     ev("loaded", T0 + D, container_no=C1, vessel_call_id="V9"))
    assert alerts == []


def test_an_import_container_is_not_an_export_given_up():
    t, _ = run(discharged(), ev("storage_exit", T0 + H, container_no=C1))
    assert may_exit(t.state).allowed


# A.4.14 ------------------------------------------------------------------------------------------------------
def empties(kind, at, no=C1):
    return ev(kind, at, list_no="BOS-1", container_numbers=[no])


def test_an_approved_list_of_empties_is_the_storage_exit_record():
    t, alerts = run(discharged(load_status="empty", seal_no=""), ev("storage_entry", T0 + H, container_no=C1),
                    empties("empty_list_registered", T0 + 2 * H), empties("empty_list_approved", T0 + 3 * H))
    assert alerts == [] and t.state.status == "storage_exited" and t.state.storage_exited_at == T0 + 3 * H
    assert t.state.empty_list_status == "approved" and may_exit(t.state).allowed
    _t, alerts = run(discharged(load_status="empty", seal_no=""), ev("storage_entry", T0 + H, container_no=C1),
                     empties("empty_list_approved", T0 + 3 * H), ev("gate_out", T0 + 4 * H, container_no=C1,
                                                                    plate="33 C 3"))
    assert alerts == []  # no exit_without_storage_exit: the list was the record


def test_a_registered_list_is_not_yet_an_exit_record():
    t, _ = run(discharged(load_status="empty", seal_no=""), ev("storage_entry", T0 + H, container_no=C1),
               empties("empty_list_registered", T0 + 2 * H))
    assert t.state.status == "in_storage" and "no_storage_exit" in may_exit(t.state).codes


def test_a_full_or_declared_container_on_the_list_of_empties_is_reported():
    _t, alerts = run(discharged(load_status="full"), empties("empty_list_approved", T0 + 3 * H))
    assert open_kinds(alerts) == ["empty_list_check_failed"]
    assert alerts[0].details["problems"] == ["entered full, not empty", "full now"]
    # entered empty, stuffed in the port under a declaration: no longer an empty without a declaration
    _t, alerts = run(discharged(load_status="empty", seal_no=""),
                     ev("stuffed", T0 + H, container_no=C1, declaration_no="EX7", seal_no="N1"),
                     empties("empty_list_approved", T0 + 3 * H))
    assert open_kinds(alerts) == ["empty_list_check_failed"]
    assert alerts[0].details["problems"] == ["full now (stuffed in the port)", "subject of declaration EX7"]
    _t, alerts = run(empties("empty_list_approved", T0 + 3 * H))
    assert alerts[0].details["problems"] == ["not in the port (status unknown)"]


def test_the_storage_clock_takes_the_approved_list_as_the_exit():
    params = StorageParams(limit_days=45, warn_days=5)

    def overdue(*events):
        clock = StorageClock(params)
        found = []
        for e in events:
            found.extend(clock.on_item(e).alerts)
        found.extend(clock.finish().alerts)
        return open_kinds(found)

    entry = ev("storage_entry", T0, container_no=C1)
    much_later = ev("storage_entry", T0 + 60 * D, container_no=C2)
    assert "storage_overdue" in overdue(entry, much_later)
    assert overdue(entry, empties("empty_list_approved", T0 + D), much_later) == []


# stuffing and stripping --------------------------------------------------------------------------------------
def test_stuffing_under_a_declaration_then_sealed_is_fine():
    _t, alerts = run(discharged(load_status="empty", seal_no=""),
                     ev("stuffed", T0 + H, container_no=C1, declaration_no="EX1"),
                     ev("sealed", T0 + 3 * H, container_no=C1, seal_no="N1"),
                     ev("gate_out", T0 + 40 * H, container_no=C1, plate="1"))
    assert "stuffed_not_sealed" not in open_kinds(alerts)
    _t, alerts = run(discharged(load_status="empty", seal_no=""),
                     ev("stuffed", T0 + H, container_no=C1, officer_id="GM-1", seal_no="N1"))
    assert alerts == []


def test_stuffed_and_not_sealed_in_time_or_before_leaving_is_reported_once():
    stuffed = ev("stuffed", T0 + H, container_no=C1, declaration_no="EX1")
    # 13 h after the stuffing, beyond the 12 h limit, the next event shows no seal
    _t, alerts = run(discharged(load_status="empty", seal_no=""), stuffed,
                     ev("storage_entry", T0 + 14 * H, container_no=C1),
                     ev("sealed", T0 + 20 * H, container_no=C1, seal_no="N1"))
    assert open_kinds(alerts) == ["stuffed_not_sealed"]
    a = alerts[0]
    assert a.window_start == T0 + H and a.window_end == T0 + 13 * H and a.details["limit_h"] == 12.0
    # a seal 11 h after the stuffing is in time
    _t, alerts = run(discharged(load_status="empty", seal_no=""), stuffed,
                     ev("sealed", T0 + 12 * H, container_no=C1, seal_no="N1"),
                     ev("storage_entry", T0 + 14 * H, container_no=C1))
    assert alerts == []
    # leaving unsealed before the limit
    _t, alerts = run(discharged(load_status="empty", seal_no=""), stuffed,
                     ev("storage_exit", T0 + 2 * H, container_no=C1),
                     ev("gate_out", T0 + 3 * H, container_no=C1, plate="1"))
    assert open_kinds(alerts) == ["stuffed_not_sealed"]
    # configurable: with 48 h the same late seal is in time
    _t, alerts = run(discharged(load_status="empty", seal_no=""), stuffed,
                     ev("storage_entry", T0 + 14 * H, container_no=C1),
                     ev("sealed", T0 + 20 * H, container_no=C1, seal_no="N1"),
                     params=replace(P, stuffing_seal_max_h=48.0))
    assert alerts == []


def test_stuffing_or_stripping_under_an_open_hold_is_reported():
    order = ev("inspection_ordered", T0 + H, container_no=C1, inspection="physical", source="officer")
    broken = ev("seal_broken", T0 + 2 * H, container_no=C1, seal_no="S1", reason="physical inspection")
    _t, alerts = run(discharged(), order, broken, ev("stripped", T0 + 3 * H, container_no=C1, officer_id="GM-1"))
    assert open_kinds(alerts) == ["stuffing_with_open_hold"] and alerts[0].severity == "critical"
    _t, alerts = run(discharged(), order, broken, ev("hold_released", T0 + 2 * H + 1800 * SECOND, container_no=C1,
                                                     officer_id="GM-1"),
                     ev("stripped", T0 + 3 * H, container_no=C1, officer_id="GM-1"))
    assert alerts == []


SECOND = timedelta(seconds=1)


def test_stripping_without_reference_or_without_a_recorded_seal_break_is_reported():
    _t, alerts = run(discharged(), ev("stripped", T0 + 3 * H, container_no=C1, declaration_no="IM1"))
    assert open_kinds(alerts) == ["stripping_seal_not_recorded"] and alerts[0].details["seal_no"] == "S1"
    _t, alerts = run(discharged(), ev("seal_broken", T0 + 2 * H, container_no=C1, seal_no="S1", reason="stripping"),
                     ev("stripped", T0 + 3 * H, container_no=C1))
    assert open_kinds(alerts) == ["stuffing_without_reference"]
    t, alerts = run(discharged(), ev("seal_broken", T0 + 2 * H, container_no=C1, seal_no="S1", reason="stripping"),
                    ev("stripped", T0 + 3 * H, container_no=C1, declaration_no="IM1"))
    assert alerts == [] and t.state.load_status == "empty"


def test_a_storage_entry_redelivered_after_the_exit_does_not_open_a_new_stay():
    clock = StorageClock(StorageParams(limit_days=45, warn_days=5))
    entry = ev("storage_entry", T0, container_no=C1)
    found = []
    for e in (entry, ev("storage_exit", T0 + D, container_no=C1), entry,
              ev("storage_entry", T0 + 60 * D, container_no=C2), ev("hold_released", T0 + 60 * D, container_no=C2,
                                                                   officer_id="O")):
        found.extend(clock.on_item(e).alerts)
    assert found == []
    # a real re-entry after the exit is a new stay, judged on its own
    again = clock.on_item(ev("storage_entry", T0 + 2 * D, container_no=C1)).alerts + clock.finish().alerts
    assert "storage_overdue" in open_kinds(again)
