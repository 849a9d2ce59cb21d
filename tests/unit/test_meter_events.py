import json

import numpy as np
import pytest

from operators.events import EventError, RawEvent, parse_ts
from operators.meter_events import KEY_DEAD_LETTERS, MeterChunk, SiteDecoder, Transfer


def reading(**kw):
    base = {"meter_id": "M-01", "ts": "2026-03-01T06:00:00.000Z", "gov_total_m3": 100.0, "flow_m3h": 900.0,
            "temp_c": 20.0, "pressure_kpa": 400.0, "density_kgm3": 830.0, "status": "ok"}
    base.update(kw)
    return RawEvent("meter.readings", json.dumps(base), "meter.readings.jsonl:1")


def decoder():
    return SiteDecoder("meters", ["M-01", "M-02"], ["T-101"])


def test_parse_ts_requires_offset_and_normalises_to_utc():
    assert parse_ts("2026-03-01T09:00:00+03:00").isoformat() == "2026-03-01T06:00:00+00:00"
    with pytest.raises(EventError, match="no UTC offset"):
        parse_ts("2026-03-01T06:00:00")
    with pytest.raises(EventError, match="not ISO 8601"):
        parse_ts("yesterday")


def test_consecutive_readings_become_one_columnar_chunk_per_meter():
    out = decoder().decode_batch([
        reading(ts="2026-03-01T06:00:00.000Z"),
        reading(meter_id="M-02", ts="2026-03-01T06:00:00.000Z", gov_total_m3=5.0),
        reading(ts="2026-03-01T06:00:01.000Z", gov_total_m3=100.25),
    ])
    chunks = {k: v for k, v in out}
    m1 = chunks["meter:M-01"]
    assert isinstance(m1, MeterChunk) and len(m1) == 2
    np.testing.assert_array_equal(m1.gov_total_m3, [100.0, 100.25])
    assert m1.ts_ms[1] - m1.ts_ms[0] == 1000
    assert len(chunks["meter:M-02"]) == 1


@pytest.mark.parametrize("kw, reason", [
    ({"meter_id": "M-99"}, "unknown meter_id"),
    ({"flow_m3h": "fast"}, "flow_m3h: expected a number"),
    ({"temp_c": None}, "temp_c: missing"),
    ({"status": "broken"}, "status: expected one of"),
    ({"ts": "2026-03-01 06:00:00"}, "no UTC offset"),
    ({"gov_total_m3": -1}, "negative totalizer"),
    ({"density_kgm3": 50.0}, "outside 300..1300"),
    ({"temp_c": 400}, "outside -50..150"),
])
def test_invalid_readings_become_dead_letters_with_reason(kw, reason):
    bad = reading(**kw)
    out = decoder().decode_batch([reading(), bad])
    dead = [v for k, v in out if k == KEY_DEAD_LETTERS]
    assert len(dead) == 1
    assert reason in dead[0].reason
    assert dead[0].raw == bad.payload and dead[0].position == bad.position
    assert sum(len(v) for k, v in out if k == "meter:M-01") == 1  # the good reading is kept


def test_undecodable_payloads_are_dead_lettered_not_raised():
    raws = [RawEvent("meter.readings", "{not json", "f:1"), RawEvent("meter.readings", b"\xff\xfe", "f:2"),
            RawEvent("meter.readings", "[1,2]", "f:3"), RawEvent("weird.stream", "{}", "f:4")]
    out = decoder().decode_batch(raws)
    assert [k for k, _ in out] == [KEY_DEAD_LETTERS] * 4
    assert "undecodable JSON" in out[0][1].reason and "unknown stream" in out[3][1].reason
    assert len({d.dead_letter_id for _, d in out}) == 4


def test_transfer_is_routed_after_the_readings_that_preceded_it():
    t = {"transfer_id": "TR-1", "event": "open", "ts": "2026-03-01T06:00:00.500Z", "direction": "discharge",
         "meter_ids": ["M-01"], "tank_ids": ["T-101"], "bl_no": "BL1"}
    out = decoder().decode_batch([reading(), RawEvent("transfers", json.dumps(t), "transfers.jsonl:1"),
                                  reading(ts="2026-03-01T06:00:01.000Z")])
    meter_items = [v for k, v in out if k == "meter:M-01"]
    assert [type(v).__name__ for v in meter_items] == ["MeterChunk", "Transfer", "MeterChunk"]
    assert any(k == "tank:T-101" and isinstance(v, Transfer) for k, v in out)
    assert any(k == "transfers" for k, _ in out)


def test_columnar_fast_path_and_per_record_path_agree():
    good = [reading(ts=f"2026-03-01T06:00:0{i}.000Z", gov_total_m3=100.0 + i, temp_c=20.0 + i / 10) for i in range(5)]
    good.append(reading(ts="2026-03-01T09:00:05.250+03:00", density_kgm3=None, gov_total_m3=106.0))
    fast = dict(decoder().decode_batch(good))["meter:M-01"]
    # one malformed line makes Arrow reject the block: every row then takes the per-record path
    slow_out = decoder().decode_batch([*good, RawEvent("meter.readings", "{oops", "f:9")])
    slow = dict(slow_out)["meter:M-01"]
    for name in ("ts_ms", "gov_total_m3", "flow_m3h", "temp_c", "pressure_kpa", "density_kgm3"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name))
    assert fast.status == slow.status and fast.positions == slow.positions
    assert np.isnan(fast.density_kgm3[-1]) and fast.ts_ms[-1] - fast.ts_ms[0] == 5250


def test_null_status_is_rejected_but_missing_status_means_ok():
    raws = [reading(status=None), RawEvent("meter.readings", json.dumps(
        {"meter_id": "M-01", "ts": "2026-03-01T06:00:01Z", "gov_total_m3": 1, "flow_m3h": 0, "temp_c": 20,
         "pressure_kpa": 0}), "f:2")]
    out = decoder().decode_batch(raws)
    assert [k for k, _ in out] == [KEY_DEAD_LETTERS, "meter:M-01"]
    assert out[1][1].status == ["ok"]
