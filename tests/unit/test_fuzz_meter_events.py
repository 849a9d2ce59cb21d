"""Bad input, property-based (hypothesis): batches of fuel-terminal events, valid ones mutated in every way the
contract forbids (malformed JSON, wrong types, missing fields, NaN/inf, absurd values, timestamps without an
offset, far future/past, oversize) mixed with raw garbage. The site decoder never raises, and every record comes
out exactly once: accepted (a meter reading in a chunk, a tank reading, a transfer, a lab density) or
dead-lettered with a reason. Example counts stay modest so the default run stays fast."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from operators.events import DeadLetter, RawEvent
from operators.meter_events import KEY_DEAD_LETTERS, KEY_TRANSFERS, LabDensity, MeterChunk, SiteDecoder, TankReading

pytestmark = pytest.mark.faults

METERS, TANKS = ("M-01", "M-02"), ("T-101", "T-102", "T-103")
TS = "2026-03-01T06:00:00.000Z"
VALID: dict[str, dict[str, Any]] = {
    "meter.readings": {"meter_id": "M-01", "ts": TS, "gov_total_m3": 1712700.48, "flow_m3h": 420.0, "temp_c": 23.4,
                       "pressure_kpa": 49.6, "density_kgm3": 830.6, "status": "ok"},
    "tank.readings": {"tank_id": "T-101", "ts": TS, "level_mm": 4609, "temp_c": 19.04, "water_mm": 8,
                      "density_kgm3": 833.7},
    "transfers": {"transfer_id": "TR-1", "event": "open", "ts": TS, "direction": "discharge", "meter_ids": ["M-01"],
                  "tank_ids": ["T-101"], "product_group": "refined", "bl_quantity_kg_air": 4186431},
    "lab.density": {"transfer_id": "TR-1", "ts": TS, "officer_id": "G-7", "density_15c_kgm3": 835.1,
                    "source": "customs_lab"},
}
BAD_VALUES = st.one_of(
    st.none(), st.booleans(), st.text(max_size=20), st.lists(st.integers(), max_size=3), st.dictionaries(
        st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e308, -1e308, -1.0, 0.0, 10**30, -(10**18)]),
    st.floats(allow_nan=True, allow_infinity=True),
)
BAD_TS = st.sampled_from([
    "2026-03-01T06:00:00", "2026-03-01 06:00:00", "2026-03-01T06:00:00+03:00", "9999-12-31T23:59:59.999Z",
    "0001-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000Z", "2026-02-30T06:00:00.000Z", "yesterday", "",
    "2026-03-01T06:00:00.000+00:00", "2026-03-01T24:00:00.000Z",
])


@st.composite
def record(draw: st.DrawFn) -> RawEvent:
    stream = draw(st.sampled_from(sorted(VALID)))
    obj = dict(VALID[stream])
    kind = draw(st.sampled_from(["valid", "drop", "wrong", "ts", "garbage", "truncated", "non_object", "oversize",
                                 "unknown_id"]))
    if kind == "drop":
        del obj[draw(st.sampled_from(sorted(obj)))]
    elif kind == "wrong":
        for name in draw(st.lists(st.sampled_from(sorted(obj)), min_size=1, max_size=3)):
            obj[name] = draw(BAD_VALUES)
    elif kind == "ts":
        obj["ts"] = draw(BAD_TS)
    elif kind == "oversize":
        obj["note"] = "x" * draw(st.integers(10_000, 300_000))
    elif kind == "unknown_id":
        obj[next(k for k in ("meter_id", "tank_id") if k in obj) if stream.endswith("readings") else "meter_ids"] = (
            "M-99" if stream == "meter.readings" else "T-99" if stream == "tank.readings" else ["M-99"])
    text = json.dumps(obj)  # NaN/Infinity are written as the non-standard literals Python reads back
    if kind == "garbage":
        payload: bytes | str = draw(st.one_of(st.binary(max_size=60), st.text(max_size=60)))
    elif kind == "truncated":
        payload = text[: draw(st.integers(0, len(text) - 1))]
    elif kind == "non_object":
        payload = json.dumps(draw(st.one_of(st.lists(st.integers(), max_size=3), st.integers(), st.text(max_size=5))))
    else:
        payload = text.encode() if draw(st.booleans()) else text
    return RawEvent(stream, payload, f"{stream}/0@{draw(st.integers(0, 10**9))}")


def accounted(out: list[tuple[str, Any]]) -> tuple[int, int]:
    accepted = dead = 0
    for key, value in out:
        if key == KEY_DEAD_LETTERS:
            assert isinstance(value, DeadLetter) and value.reason
            dead += 1
        elif isinstance(value, MeterChunk):
            accepted += len(value)
        else:
            accepted += int(key == KEY_TRANSFERS or (isinstance(value, TankReading | LabDensity) and key in (
                "lab_density", *(f"tank:{t}" for t in TANKS))))
    return accepted, dead


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(record(), min_size=1, max_size=25))
def test_decoder_never_raises_and_accounts_for_every_record(batch):
    out = SiteDecoder("meters", METERS, TANKS, ticks=True).decode_batch(batch)
    accepted, dead = accounted(out)
    assert accepted + dead == len(batch)
    # a dead letter carries the record verbatim, for the officer and for a replay after a fix
    raws = {r.payload if isinstance(r.payload, str) else r.payload.decode("utf-8", "replace") for r in batch}
    assert all(v.raw in raws for k, v in out if k == KEY_DEAD_LETTERS)


def test_the_valid_templates_are_accepted_and_each_mutation_kind_can_be_rejected():
    """Guards the generator: the templates pass, so rejections in the property come from the mutations."""
    valid = [RawEvent(s, json.dumps(o), f"{s}/0@1") for s, o in VALID.items()]
    assert accounted(SiteDecoder("meters", METERS, TANKS).decode_batch(valid)) == (4, 0)
    bad = [RawEvent("meter.readings", json.dumps({**VALID["meter.readings"], "ts": "2026-03-01T06:00:00"}), "m/0@2"),
           RawEvent("tank.readings", json.dumps({**VALID["tank.readings"], "temp_c": float("nan")}), "t/0@2"),
           RawEvent("transfers", '{"transfer_id": "TR-1", "event": "op', "x/0@2"),
           RawEvent("lab.density", json.dumps({**VALID["lab.density"], "density_15c_kgm3": "835"}), "l/0@2")]
    assert accounted(SiteDecoder("meters", METERS, TANKS).decode_batch(bad)) == (0, 4)


def test_events_dated_after_decoding_are_dead_lettered_with_the_reason():
    """One reading dated in year 9999 would make every later reading of its meter late: with a clock, events
    more than ``max_future_s`` after the time of decoding are rejected (all four streams)."""
    now = 1_772_344_800.0  # 2026-03-01T06:00:00Z
    dec = SiteDecoder("meters", METERS, TANKS, clock=lambda: now, max_future_s=3600.0)
    ok = [RawEvent(s, json.dumps({**o, "ts": "2026-03-01T06:59:59.000Z"}), f"{s}/0@1") for s, o in VALID.items()]
    late = [RawEvent(s, json.dumps({**o, "ts": "9999-01-01T00:00:00.000Z"}), f"{s}/0@2") for s, o in VALID.items()]
    out = dec.decode_batch([*ok, *late])
    assert accounted(out) == (4, 4)
    reasons = [v.reason for k, v in out if k == KEY_DEAD_LETTERS]
    assert all("9999-01-01T00:00:00.000Z is in the future" in r for r in reasons)
    assert accounted(SiteDecoder("meters", METERS, TANKS).decode_batch(late)) == (4, 0)  # no clock: no check
