"""Decoding of weighbridge readings and VGM declarations; bad input becomes a dead letter with the reason."""

from __future__ import annotations

import json

import pytest

from operators.events import DeadLetter, RawEvent
from operators.vgm_events import Declaration, VgmDecoder, Weighing
from tests.unit.vgm_fixtures import POLICY

DEC = VgmDecoder("vgm", POLICY)
W = {"weighing_id": "W1", "instrument_id": "WB-1", "ts": "2026-03-02T08:00:00.000Z", "reading_kg": 36420,
     "vehicle_plate": "33 TR 1", "container_numbers": ["csqu 305438 3"], "kind": "gross", "operator_id": "OP-1"}
D = {"container_number": "CSQU3054383", "ts": "2026-03-02T07:00:00+03:00", "vgm_kg": 21000, "method": 2,
     "shipper": "Ege Tekstil", "authorization_no": "A-1", "signer": "Selin", "max_gross_kg": 30480, "tare_kg": 2230}


def raw(stream: str, obj: object) -> RawEvent:
    return RawEvent(stream, obj if isinstance(obj, str) else json.dumps(obj), "f:1")


def test_valid_weighing_and_declaration():
    w = DEC.decode(raw("vgm.weighings", W))
    assert isinstance(w, Weighing) and w.container_numbers == ("CSQU3054383",) and w.reading_kg == 36420.0
    d = DEC.decode(raw("vgm.declarations", D))
    assert isinstance(d, Declaration) and d.ts.hour == 4 and d.method == 2 and d.max_gross_kg == 30480.0
    nullable = DEC.decode(raw("vgm.declarations", {**D, "vgm_kg": None}))
    assert isinstance(nullable, Declaration) and nullable.vgm_kg is None


@pytest.mark.parametrize(("stream", "obj", "reason"), [
    ("vgm.weighings", "{nope", "undecodable JSON"),
    ("vgm.weighings", {**W, "container_numbers": ["CSQU3054384"]}, "check digit is 4, expected 3"),
    ("vgm.weighings", {**W, "instrument_id": "WB-9"}, "unknown instrument_id"),
    ("vgm.weighings", {**W, "operator_id": "X"}, "unknown operator_id"),
    ("vgm.weighings", {**W, "reading_kg": -5}, "reading_kg"),
    ("vgm.weighings", {**W, "reading_kg": "NaN"}, "reading_kg"),
    ("vgm.weighings", {**W, "kind": "loaded"}, "kind"),
    ("vgm.weighings", {**W, "kind": "empty"}, "must be empty"),
    ("vgm.weighings", {**W, "container_numbers": []}, "must name the container"),
    ("vgm.weighings", {**W, "ts": "2026-03-02T08:00:00"}, "no UTC offset"),
    ("vgm.weighings", {**W, "load_status": {"CSQU3054383": "half"}}, "load_status"),
    ("vgm.declarations", {**D, "method": 3}, "method"),
    ("vgm.declarations", {**D, "shipper": ""}, "shipper"),
    ("vgm.other", {}, "unknown stream"),
])
def test_bad_input_is_a_dead_letter_with_the_reason(stream, obj, reason):
    d = DEC.decode(raw(stream, obj))
    assert isinstance(d, DeadLetter) and reason in d.reason
