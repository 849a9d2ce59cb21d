"""Bad input, property-based (hypothesis), for the event types of the other flows: VGM weighings and declarations,
port events (vessels, manifests, containers, customs), gate pre-gate notices and camera frames (gate and camera
health). Valid records (shaped as the simulators write them) are mutated every way the contracts forbid —
malformed and truncated JSON, wrong types, missing fields, NaN/inf, absurd values, timestamps without offsets,
far future/past, oversize records, corrupt/truncated/empty JPEGs, broken frame metadata — and mixed with garbage.

Each record goes through what the flow does first: the input-size guard, then the flow's decoder. Nothing raises,
and every record comes out exactly once: accepted or dead-lettered with a reason (count in = accepted +
dead-lettered). The valid templates are accepted, so the properties are not met by rejecting everything.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from connectors.frames import ERROR_HEADER
from flows import cameras
from flows.config import load_config
from operators.events import DeadLetter, EventError, RawEvent
from operators.input_limits import InputLimits, limit_violation
from operators.port_events import PortDecoder
from operators.port_events import decode as decode_port
from operators.pregate import NoticeError, decode_notice
from operators.vgm_events import Declaration, VgmDecoder, Weighing

pytestmark = pytest.mark.faults

LIMITS = InputLimits(max_message_bytes=65_536, max_frame_bytes=200_000, max_id_chars=64, max_string_chars=16_384)
TS = "2026-03-01T06:00:00.000Z"
JSON_TEMPLATES: dict[str, dict[str, Any]] = {
    "vgm.weighings": {"weighing_id": "W0000006", "instrument_id": "WB-1", "ts": TS, "reading_kg": 33520.0,
                      "vehicle_plate": "33 TR 00003", "container_numbers": ["TCLU8149832"], "kind": "gross",
                      "operator_id": "OP-23"},
    "vgm.declarations": {"container_number": "TCLU4384854", "ts": TS, "vgm_kg": 12390, "method": 2,
                         "shipper": "Anadolu Gida Dis Ticaret Ltd.", "authorization_no": "DBA-Y2-3449",
                         "signer": "Selin Aydin", "max_gross_kg": 30480.0, "tare_kg": 2230.0, "cargo_kind": "general",
                         "load_status": "full"},
    "port.containers": {"event": "discharged", "event_id": "E00000010", "ts": TS, "container_no": "TGHU4971280",
                        "vessel_call_id": "VC-20260301-01", "summary_declaration_no": "SD2600000",
                        "bl_no": "BL00000-1", "load_status": "full", "seal_no": "S8794082", "foreign": False},
    "port.customs": {"event": "inspection_ordered", "event_id": "E00000015", "ts": TS, "container_no": "MAEU4547101",
                     "inspection": "xray", "source": "officer", "vessel_call_id": "VC-20260301-01"},
    "port.manifests": {"event": "manifest_line", "event_id": "E00000003", "ts": TS, "vessel_call_id": "VC-20260301-01",
                       "summary_declaration_no": "SD2600000", "bl_no": "BL00000-1",
                       "container_numbers": ["CMAU1782613", "OOLU1593675"]},
    "port.vessels": {"event": "arrival", "event_id": "E00000001", "ts": TS, "vessel_call_id": "VC-20260301-01",
                     "vessel_name": "MSC Akdeniz", "voyage": "AK612R"},
    "gate.pregate": {"notice_id": "N-1", "ts": TS, "direction": "in", "plate": "34 ABC 123",
                     "containers": [{"number": "TCLU8149832", "size_type": "22G1", "load_status": "full"}],
                     "declaration_type": "export", "hazardous": False, "notifier": "Forwarder A"},
}
BAD_VALUES = st.one_of(
    st.none(), st.booleans(), st.text(max_size=20), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e308, -1e308, -1.0, 0.0, 10**30, -(10**18)]),
    st.floats(allow_nan=True, allow_infinity=True),
)
BAD_TS = st.sampled_from([
    "2026-03-01T06:00:00", "2026-03-01 06:00:00", "2026-03-01T06:00:00+03:00", "9999-12-31T23:59:59.999Z",
    "0001-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000Z", "2026-02-30T06:00:00.000Z", "yesterday", "",
    "2026-03-01T24:00:00.000Z",
])
JSON_KINDS = ["valid", "drop", "wrong", "ts", "garbage", "truncated", "non_object", "oversize", "long_id"]


@st.composite
def json_record(draw: st.DrawFn, streams: tuple[str, ...]) -> tuple[RawEvent, str]:
    stream = draw(st.sampled_from(streams))
    obj = dict(JSON_TEMPLATES[stream])
    kind = draw(st.sampled_from(JSON_KINDS))
    if kind == "drop":
        del obj[draw(st.sampled_from(sorted(obj)))]
    elif kind == "wrong":
        for name in draw(st.lists(st.sampled_from(sorted(obj)), min_size=1, max_size=3)):
            obj[name] = draw(BAD_VALUES)
    elif kind == "ts":
        obj["ts"] = draw(BAD_TS)
    elif kind == "oversize":
        obj["note"] = "x" * draw(st.integers(LIMITS.max_string_chars + 1, 2 * LIMITS.max_message_bytes))
    elif kind == "long_id":
        name = next((k for k in obj if k.endswith(("_id", "_no", "_number"))), "event_id")
        obj[name] = "A" * draw(st.integers(LIMITS.max_id_chars + 1, 10_000))
    text = json.dumps(obj)
    if kind == "garbage":
        payload: bytes | str = draw(st.one_of(st.binary(max_size=60), st.text(max_size=60)))
    elif kind == "truncated":
        payload = text[: draw(st.integers(0, len(text) - 1))]
    elif kind == "non_object":
        payload = json.dumps(draw(st.one_of(st.lists(st.integers(), max_size=3), st.integers(), st.text(max_size=5))))
    else:
        payload = text.encode() if draw(st.booleans()) else text
    return RawEvent(stream, payload, f"{stream}/0@{draw(st.integers(0, 10**9))}"), kind


def guarded(raw: RawEvent, kind: str) -> str | None:
    """The input guard's reason, as the flows apply it before decoding (planted oversize records always have one,
    valid records never; a mutated value may be oversize too, e.g. an id of escaped control characters)."""
    reason = limit_violation(raw.stream, raw.payload, LIMITS)
    if kind in ("oversize", "long_id"):
        assert reason is not None, kind
    if kind == "valid":
        assert reason is None, reason
    assert reason is None or reason.startswith("oversize ")
    return reason


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])


@FUZZ
@given(st.lists(json_record(("vgm.weighings", "vgm.declarations")), min_size=1, max_size=20))
def test_vgm_events_are_accepted_or_dead_lettered_never_raise(batch):
    decoder = VgmDecoder("vgm", load_config(environ={}).vgm)
    accepted = dead = 0
    for raw, kind in batch:
        if guarded(raw, kind):
            dead += 1
            continue
        out = decoder.decode(raw)
        if isinstance(out, DeadLetter):
            assert out.reason and out.position == raw.position
            dead += 1
        else:
            assert isinstance(out, Weighing | Declaration)
            accepted += 1
        if kind == "valid":
            assert not isinstance(out, DeadLetter), out
    assert accepted + dead == len(batch)


def test_a_declaration_whose_load_status_is_a_list_is_dead_lettered():
    """Found by the property above: a list where the contract has a string raised TypeError (unhashable)."""
    obj = {**JSON_TEMPLATES["vgm.declarations"], "load_status": []}
    out = VgmDecoder("vgm", load_config(environ={}).vgm).decode(RawEvent("vgm.declarations", json.dumps(obj), "x:1"))
    assert isinstance(out, DeadLetter) and out.reason.startswith("load_status: expected one of")


PORT_STREAMS = ("port.containers", "port.customs", "port.manifests", "port.vessels")


@FUZZ
@given(st.lists(json_record(PORT_STREAMS), min_size=1, max_size=20))
def test_port_events_are_accepted_or_dead_lettered_never_raise(batch):
    accepted = rejected = 0
    passed = []
    for i, (drawn, kind) in enumerate(batch):
        raw = replace(drawn, position=f"{drawn.stream}/0@{i}")  # one position per record
        if guarded(raw, kind):
            rejected += 1
            continue
        passed.append(raw)
        try:
            events = decode_port(raw)
        except EventError as exc:
            assert str(exc)
            rejected += 1
            continue
        assert events
        accepted += 1
    assert accepted + rejected == len(batch)
    # the flow's batch decoder dead-letters exactly the records the decoder rejects, and raises for none
    out = PortDecoder("containers").decode_batch(passed)
    dead = [v for _k, v in out if isinstance(v, DeadLetter)]
    assert len(dead) == len(passed) - accepted
    assert len({d.position for d in dead}) == len(dead)


@FUZZ
@given(st.lists(json_record(("gate.pregate",)), min_size=1, max_size=20))
def test_pregate_notices_are_accepted_or_rejected_never_raise(batch):
    accepted = rejected = 0
    for raw, kind in batch:
        if guarded(raw, kind):
            rejected += 1
            continue
        try:
            decode_notice(raw.payload)
        except NoticeError as exc:
            assert str(exc)
            rejected += 1
            continue
        accepted += 1
        assert kind != "truncated" or raw.payload.strip().endswith(("}", b"}"))
    assert accepted + rejected == len(batch)


def _jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=80)
    return buf.getvalue()


JPEG = _jpeg(1)
FRAME_META = {"camera_id": "entry", "ts": TS, "width": "64", "height": "48"}
FRAME_KINDS = ["valid", "flip", "truncated", "empty", "garbage", "no_soi", "oversize", "meta_drop", "meta_bad",
               "manifest_error"]


@st.composite
def frame_record(draw: st.DrawFn) -> tuple[RawEvent, str]:
    kind = draw(st.sampled_from(FRAME_KINDS))
    data = JPEG
    meta = dict(FRAME_META)
    if kind == "flip":
        buf = bytearray(data)
        for _ in range(draw(st.integers(1, 40))):
            i = draw(st.integers(0, len(buf) - 1))
            buf[i] = draw(st.integers(0, 255))
        data = bytes(buf)
    elif kind == "truncated":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif kind == "empty":
        data = b""
    elif kind == "garbage":
        data = draw(st.binary(max_size=300))
    elif kind == "no_soi":
        data = data[2:]
    elif kind == "oversize":
        data = data + b"\x00" * (LIMITS.max_frame_bytes + 1 - len(data) + draw(st.integers(0, 1000)))
    elif kind == "meta_drop":
        del meta[draw(st.sampled_from(sorted(meta)))]
    elif kind == "meta_bad":
        meta[draw(st.sampled_from(sorted(meta)))] = draw(st.one_of(BAD_TS, st.text(max_size=10)))
    headers = tuple((k, v.encode()) for k, v in meta.items())
    if kind == "manifest_error":  # the replay source's event for a manifest line naming no readable file
        data = json.dumps({"file": "x.jpg", **meta}).encode()
        headers = ((ERROR_HEADER, b"frame file missing: 'x.jpg'"),)
    return RawEvent("camera.frames", data, f"camera.frames/0@{draw(st.integers(0, 10**9))}", headers), kind


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(frame_record(), min_size=1, max_size=12))
def test_camera_frames_are_decoded_or_dead_lettered_never_raise(batch):
    accepted = dead = 0
    for raw, kind in batch:
        if reason := guarded(raw, kind):
            assert kind == "oversize" and reason.startswith("oversize frame")
            dead += 1
            continue
        out = cameras.decode_frame(raw)
        if isinstance(out, DeadLetter):
            assert out.reason and out.position == raw.position
            assert len(out.raw) < 2_000  # the dead letter describes the frame; it does not hold its bytes
            dead += 1
        else:
            assert out.image.ndim >= 2 and out.image.size > 0
            accepted += 1
        if kind in ("valid",):
            assert not isinstance(out, DeadLetter), out
        if kind in ("truncated", "empty", "garbage", "no_soi", "manifest_error"):
            assert isinstance(out, DeadLetter), kind
    assert accepted + dead == len(batch)
