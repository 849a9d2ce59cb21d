import json

import pytest

from operators.events import EventError, RawEvent
from operators.port_events import (
    KEY_CLOCK,
    KEY_DEAD,
    KEY_DISCHARGE,
    KEY_NOTICES,
    PortDecoder,
    Tick,
    decode,
    route,
)
from tests.unit.port_helpers import C1, C2, T0, H, ev


def raw(stream, **obj):
    return RawEvent(stream, json.dumps(obj), "f:1")


GOOD = {"event": "discharged", "event_id": "e1", "ts": "2026-03-01T09:00:00+03:00", "container_no": "csqu 305438-3",
        "vessel_call_id": "V1", "summary_declaration_no": "SD1", "bl_no": "BL1", "load_status": "full"}


def test_a_discharge_is_decoded_with_its_number_normalized_and_time_in_utc():
    (e,) = decode(raw("port.containers", **GOOD))
    assert e.container_no == "CSQU3054383" and e.ts.isoformat() == "2026-03-01T06:00:00+00:00"
    assert route(e) == ["container:CSQU3054383", KEY_DISCHARGE, KEY_CLOCK]


@pytest.mark.parametrize("change, reason", [
    ({"container_no": "CSQU3054384"}, "check digit"),
    ({"event": "teleported"}, "unknown kind"),
    ({"ts": "2026-03-01T09:00:00"}, "no UTC offset"),
    ({"load_status": "half"}, "load_status"),
    ({"bl_no": ""}, "bl_no"),
    ({"foreign": "yes"}, "foreign"),
])
def test_contract_violations_are_refused_with_the_reason(change, reason):
    with pytest.raises(EventError, match=reason):
        decode(raw("port.containers", **{**GOOD, **change}))


def test_missing_field_and_wrong_stream():
    obj = dict(GOOD)
    del obj["summary_declaration_no"]
    with pytest.raises(EventError, match="summary_declaration_no: missing"):
        decode(raw("port.containers", **obj))
    with pytest.raises(EventError, match=r"belongs on stream 'port\.containers'"):
        decode(raw("port.customs", **GOOD))


def test_a_tracking_form_fans_out_per_container():
    events = decode(raw("port.customs", event="tracking_form_approved", event_id="f1", ts="2026-03-02T00:00:00Z",
                        form_no="KTF-1", container_numbers=[C1, C2]))
    assert [e.container_no for e in events] == [C1, C2]
    assert {e.event_id for e in events} == {"f1"}


def test_inspection_orders_reach_the_discharge_check_only_with_a_vessel_call():
    assert route(ev("inspection_ordered", T0, container_no=C1, inspection="xray", source="officer")) == [
        f"container:{C1}"]
    assert KEY_DISCHARGE in route(ev("inspection_ordered", T0, container_no=C1, inspection="xray",
                                     source="officer", vessel_call_id="V1"))


def test_exit_notice_numbers_are_checked():
    obj = {"event": "exit_notice", "event_id": "n1", "ts": "2026-03-01T00:00:00Z", "vessel_call_id": "V",
           "exit_notice_no": "CB1", "package_count": 3, "gross_kg": 10.0,
           "declarations": [{"declaration_no": "EX1", "package_count": 3, "gross_kg": -1}]}
    with pytest.raises(EventError, match="gross_kg"):
        decode(raw("port.vessels", **obj))
    obj["declarations"][0]["gross_kg"] = 10
    (e,) = decode(raw("port.vessels", **obj))
    assert route(e) == [KEY_NOTICES]


def test_a_batch_gives_dead_letters_and_ends_with_ticks_at_its_latest_time():
    batch = [raw("port.containers", **GOOD), RawEvent("port.containers", "{bad", "f:2"),
             raw("port.containers", **{**GOOD, "event_id": "e2", "ts": "2026-03-01T05:00:00Z"})]
    out = PortDecoder("containers").decode_batch(batch)
    dead = [v for k, v in out if k == KEY_DEAD]
    assert len(dead) == 1 and "undecodable JSON" in dead[0].reason and dead[0].position == "f:2"
    latest = decode(batch[0])[0].ts  # 06:00Z, later than the second one (05:00Z)
    assert out[-2:] == [(KEY_DISCHARGE, Tick(latest, "port.containers")), (KEY_CLOCK, Tick(latest, "port.containers"))]
    rows = next(v for k, v in out if k == "container_events")
    assert [r["event_id"] for r in rows.records] == ["e1", "e2"]


def test_the_watermark_waits_for_every_busy_stream():
    from operators.port_events import Watermark

    w = Watermark()
    assert w.advance("port.vessels", T0) is None and w.advance("port.containers", T0) is None
    assert w.advance("port.customs", T0 + H) == T0
    assert w.advance("port.containers", T0 + 2 * H) == T0 + H
    assert w.advance("", T0 + 5 * H) == T0 + 5 * H
