"""Input event envelopes, dead letters and strict timestamp parsing (see the README's event contracts)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

STREAM_METER_READINGS = "meter.readings"
STREAM_TANK_READINGS = "tank.readings"
STREAM_TRANSFERS = "transfers"
STREAM_LAB_DENSITY = "lab.density"
METER_STREAMS = (STREAM_METER_READINGS, STREAM_TANK_READINGS, STREAM_TRANSFERS, STREAM_LAB_DENSITY)


class EventError(ValueError):
    """An input event is undecodable or violates its contract; the message is the dead-letter reason."""


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One undecoded input record, as read from a replay file or a Kafka topic.

    Attributes:
        stream: Logical stream name (``meter.readings``, ``transfers``, ...).
        payload: The record's bytes or text, exactly as received.
        position: Where it came from (``file:line`` or ``topic/partition@offset``), for audit.
        headers: Kafka message headers (or a replay manifest's fields), for events whose metadata travels
            beside a binary payload (camera frames); empty for JSON events.
    """

    stream: str
    payload: bytes | str
    position: str
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected input record with the reason; stored and published, never dropped.

    Attributes:
        flow: Dataflow that rejected it.
        stream: Logical stream the record arrived on.
        position: Source position of the record.
        reason: Human-readable reason.
        raw: The record exactly as received (decoded as UTF-8 with replacement for the table).
        event_ts: The event's own timestamp when it could be read.
    """

    flow: str
    stream: str
    position: str
    reason: str
    raw: str
    event_ts: datetime | None = None

    @property
    def dead_letter_id(self) -> str:
        """Deterministic id: the same record at the same position always gets the same id."""
        h = hashlib.blake2b(digest_size=16)
        for part in (self.flow, self.stream, self.position, self.raw):
            h.update(part.encode("utf-8", "replace"))
            h.update(b"\x00")
        return h.hexdigest()

    @classmethod
    def of(cls, flow: str, raw: RawEvent, reason: str, event_ts: datetime | None = None) -> DeadLetter:
        """Dead letter for a raw event."""
        text = raw.payload.decode("utf-8", "replace") if isinstance(raw.payload, bytes) else raw.payload
        return cls(flow, raw.stream, raw.position, reason, text, event_ts)


def load_object(raw: RawEvent) -> dict[str, Any]:
    """The JSON object of a raw event.

    Raises:
        EventError: When the payload is not JSON or not an object (the message is the dead-letter reason).
    """
    try:
        obj = json.loads(raw.payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventError(f"undecodable JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise EventError(f"expected a JSON object, got {type(obj).__name__}")
    return obj


def dead_letter_message(d: DeadLetter) -> tuple[bytes, bytes]:
    """The ``(key, JSON value)`` message publishing a dead letter (key = source stream)."""
    body = {
        "dead_letter_id": d.dead_letter_id, "flow": d.flow, "stream": d.stream, "source_position": d.position,
        "event_ts": iso_ms(d.event_ts) if d.event_ts else None, "reason": d.reason, "raw": d.raw,
    }
    return d.stream.encode(), json.dumps(body, ensure_ascii=False).encode()


def ts_text(line: str) -> str:
    """The raw ``ts`` value of a JSON line, found without parsing the JSON (``""`` when absent)."""
    i = line.find('"ts"')
    if i < 0:
        return ""
    j = line.find('"', line.find(":", i + 4) + 1)
    k = line.find('"', j + 1)
    if j < 0 or k < 0:
        return ""
    return line[j + 1 : k]


def is_canonical_ts(value: str) -> bool:
    """Whether a timestamp is in the canonical ``YYYY-MM-DDTHH:MM:SS.mmmZ`` form (sorts as time)."""
    return len(value) == 24 and value[-1] == "Z" and value[10] == "T"


def parse_ts(value: Any, field: str = "ts") -> datetime:
    """Parse an ISO 8601 timestamp with an explicit offset into an aware UTC datetime.

    Args:
        value: The JSON value.
        field: Field name, for the error message.

    Returns:
        The instant in UTC.

    Raises:
        EventError: When the value is not a string, not ISO 8601, or has no offset.
    """
    if not isinstance(value, str):
        raise EventError(f"{field}: expected an ISO 8601 string with offset, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise EventError(f"{field}: not ISO 8601: {value!r}") from exc
    if parsed.tzinfo is None:
        raise EventError(f"{field}: timestamp {value!r} has no UTC offset")
    return parsed.astimezone(UTC)


def ts_from_ms(ms: int) -> datetime:
    """Aware UTC datetime from epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000.0, tz=UTC)


def ms_from_ts(ts: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return round(ts.timestamp() * 1000.0)


def iso_ms(ts: datetime) -> str:
    """ISO 8601 with milliseconds and ``Z``."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"
