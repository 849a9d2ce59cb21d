"""Read records as input: the OCR stage's ``gate_reads`` row decodes back to the read it was made from."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from operators.events import iso_ms
from operators.gate_passages import FrameMeta
from operators.gate_read_events import ReadError, decode_read
from operators.gate_rows import read_record
from operators.iso6346 import ContainerCandidate
from operators.ocr.marks import Mark
from operators.ocr.reader import FrameRead
from operators.plates import PlateCandidate
from operators.size_type import decode

TS = datetime(2026, 3, 3, 8, 0, 0, 700000, tzinfo=UTC)
SHA = "ab" * 32


def record(**over: object) -> dict[str, object]:
    read = FrameRead("left", PlateCandidate("34 ABC 123", 0, 0.9), None,
                     (ContainerCandidate("CSQU3054383", 0, True, 0.93),), ("CSQU3054384",), decode("22G1"), 0.8,
                     Mark(True, 0.7), Mark(None, 0.0), (), 12.5)
    rec = read_record(FrameMeta("G2", "L1", 1, "left", TS, "P1"), SHA, "P1", "simulated", read, "x:1")
    rec["ts"] = iso_ms(TS)
    rec.update(over)
    return rec


def test_a_read_record_decodes_to_the_read_it_was_written_from():
    meta, key, read = decode_read(json.dumps(record()))
    assert meta == FrameMeta("G2", "L1", 1, "left", TS, "P1") and key == SHA
    assert read.plate is not None and (read.plate.plate, read.plate.confidence) == ("34 ABC 123", 0.9)
    assert [c.code for c in read.containers] == ["CSQU3054383"]  # CSQU305438-3 is the ISO 6346 example
    assert read.rejected_codes == ("CSQU3054384",)
    assert read.size_type is not None and read.size_type.length_ft == 20
    assert read.hazard_placard == Mark(True, 0.7) and read.seal.present is None and read.ms == 12.5


def test_a_code_failing_its_check_digit_never_counts_as_read():
    _m, _k, read = decode_read(json.dumps(record(containers=["CSQU3054384"], rejected_codes=[])))
    assert read.containers == () and read.rejected_codes == ("CSQU3054384",)


@pytest.mark.parametrize(("over", "reason"), [
    ({"ts": "2026-03-03T08:00:00"}, "offset"),
    ({"lane_id": ""}, "lane_id missing"),
    ({"frame_sha256": "xyz"}, "frame_sha256"),
    ({"checkpoint": 4}, "checkpoint"),
    ({"plate": "ABC"}, "not a valid plate"),
    ({"size_type": "99Z9"}, "size/type"),
    ({"plate_confidence": float("nan")}, "plate_confidence"),
    ({"seal": "yes"}, "seal"),
    ({"containers": "CSQU3054383"}, "containers"),
])
def test_a_record_that_breaks_the_contract_says_why(over, reason):
    with pytest.raises(ReadError, match=reason):
        decode_read(json.dumps(record(**over)))


def test_not_json_or_not_an_object():
    for payload in ("{", "[1]"):
        with pytest.raises(ReadError):
            decode_read(payload)
