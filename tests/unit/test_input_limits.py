"""Input size limits on raw bytes, before parsing: boundaries computed here from the limits, not from the code."""

from __future__ import annotations

import json

import pytest

from flows.config import ConfigError, load_config
from operators.input_limits import InputLimits, limit_violation, truncated_raw

SMALL = InputLimits(max_message_bytes=200, max_frame_bytes=1000, max_id_chars=16, max_string_chars=50)


def message_of(size: int) -> str:
    """A JSON object of exactly ``size`` bytes (no id field, every string under the string limit)."""
    text = '{"ts": "2026-03-01T06:00:00.000Z"' + "".join(f', "p{i}": "{"y" * 30}"' for i in range((size - 40) // 40))
    return text + " " * (size - len(text) - 1) + "}"


def test_message_exactly_at_the_limit_passes_and_one_byte_more_is_oversize():
    at, over = message_of(200), message_of(201)
    assert len(at.encode()) == 200 and len(over.encode()) == 201
    json.loads(at), json.loads(over)  # both valid JSON: only the size decides
    assert limit_violation("meter.readings", at, SMALL) is None
    reason = limit_violation("meter.readings", over.encode(), SMALL)
    assert reason is not None and reason.startswith("oversize message: 201 bytes")


def test_utf8_bytes_not_characters_are_counted():
    text = '{"ts": "x", "n": "' + "é" * 95 + '"}'  # 95 characters, 190 bytes in the string
    assert len(text) < 200 < len(text.encode())
    assert (limit_violation("vgm.weighings", text, SMALL) or "").startswith("oversize message")


@pytest.mark.parametrize("field", ["meter_id", "container_no", "passage_id", "id", "declaration_ref"])
def test_id_fields_longer_than_the_limit_are_oversize(field):
    ok = json.dumps({field: "A" * 16, "ts": "2026-03-01T06:00:00.000Z"})
    bad = json.dumps({field: "A" * 17, "ts": "2026-03-01T06:00:00.000Z"})
    assert limit_violation("port.containers", ok, SMALL) is None
    assert limit_violation("port.containers", bad, SMALL) == f"oversize id: {field} has 17 bytes > max_id_chars 16"


def test_an_id_after_a_string_with_escaped_quotes_is_still_found():
    text = json.dumps({"note": 'a "quoted" \\ word', "meter_id": "M" * 20})
    assert '\\"' in text
    assert (limit_violation("meter.readings", text, SMALL) or "").startswith("oversize id: meter_id has 20")


def test_other_strings_have_their_own_longer_limit():
    ok = json.dumps({"ship": "S" * 50, "pad": "p" * 20})
    bad = json.dumps({"ship": "S" * 51, "pad": "p" * 20})
    assert limit_violation("port.vessels", ok, SMALL) is None
    assert (limit_violation("port.vessels", bad, SMALL) or "").startswith("oversize string: 51 bytes")


def test_frames_have_the_frame_limit_and_no_json_checks():
    jpeg = b"\xff\xd8" + b"\x00" * 996 + b"\xff\xd9"  # 1000 bytes: larger than a JSON message may be
    assert limit_violation("camera.frames", jpeg, SMALL) is None
    assert limit_violation("gate.frames", jpeg + b"\x00", SMALL) == "oversize frame: 1001 bytes > max_frame_bytes 1000"
    assert (limit_violation("meter.readings", jpeg, SMALL) or "").startswith("oversize message")


def test_truncated_raw_keeps_the_start_and_says_how_large_the_record_was():
    raw = truncated_raw(b"x" * 5000, keep=10)
    assert raw == "xxxxxxxxxx... [5000 bytes, truncated]"
    assert truncated_raw("short") == "short"


def test_limits_come_from_the_configuration_and_the_environment(tmp_path):
    cfg = load_config(environ={"QUAYWATCH__LIMITS__MAX_ID_CHARS": "32"})
    assert cfg.limits.max_id_chars == 32
    assert cfg.limits.max_message_bytes == load_config(environ={}).limits.max_message_bytes
    with pytest.raises(ConfigError):
        load_config(environ={"QUAYWATCH__LIMITS__MAX_FRAME_BYTES": "0"})
