"""The port operator's and customs' container events (contracts in ``docs/contracts-port.md``): decoding.

Four streams, one replay file and one Kafka topic each: ``port.vessels`` (vessel calls and export exit
notices), ``port.manifests`` (summary declaration lines), ``port.containers`` (what the port operator
does with a container) and ``port.customs`` (what customs decides about it). Every event carries
``event`` (its kind), ``event_id`` (unique per producer: a repeated id is a duplicate) and ``ts``.

:class:`PortDecoder` turns a batch of raw records into keyed items for the flow: container events (and
customs decisions fanned out per container of ``container_numbers``) under ``container:NUMBER``, what the
discharge reconciliation needs under :data:`KEY_DISCHARGE`, what the storage clock needs under
:data:`KEY_CLOCK`, exit notices under :data:`KEY_NOTICES`, rejected records under :data:`KEY_DEAD`, and the
``container_events`` rows of every accepted event under :data:`KEY_EVENT_ROWS`; each batch ends with a
:class:`Tick` per stream (that stream's latest event time) for the two clocked keys.

Event time across streams: a Kafka source reads its topics independently, so one topic can run days ahead
of another. The clocked checks therefore judge time by a :class:`Watermark`: the least of the latest event
times of the busy streams (``port.containers`` and ``port.customs``), so a departure read early from the
vessels topic does not complete a discharge whose containers have not been read yet. A replay merges the
files in event-time order, so there the watermark is simply the event time reached.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from operators.container_no import ContainerNumberError, validate
from operators.event_fields import text_field
from operators.events import DeadLetter, EventError, RawEvent, parse_ts
from operators.rows import Rows

STREAM_VESSELS = "port.vessels"
STREAM_MANIFESTS = "port.manifests"
STREAM_CONTAINERS = "port.containers"
STREAM_CUSTOMS = "port.customs"
PORT_STREAMS = (STREAM_VESSELS, STREAM_MANIFESTS, STREAM_CONTAINERS, STREAM_CUSTOMS)

KEY_DISCHARGE = "discharge"
KEY_CLOCK = "clock"
KEY_NOTICES = "exit_notices"
KEY_DEAD = "dead_letters"
KEY_EVENT_ROWS = "container_events"
DECLARATION_KEY = "declaration:"
CONTAINER_KEY = "container:"

#: Allowed values of enumerated fields.
ENUMS: Mapping[str, frozenset[str]] = {
    "load_status": frozenset({"full", "empty"}),
    "inspection": frozenset({"physical", "xray"}),
    "source": frozenset({"risk_system", "officer"}),
}
RESULTS: Mapping[str, frozenset[str]] = {
    "xray_result": frozenset({"clear", "search"}),
    "search_result": frozenset({"clear", "seizure"}),
}

#: Event kind → (stream, required fields). Fields named ``*_count``/``days`` are non-negative integers,
#: ``*_kg`` finite non-negative numbers, ``container_numbers``/``declarations`` non-empty lists, the rest
#: non-empty strings.
KINDS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "arrival": (STREAM_VESSELS, ("vessel_call_id", "vessel_name", "voyage")),
    "arrival_approved": (STREAM_VESSELS, ("vessel_call_id", "arrival_notification_no")),
    "departure": (STREAM_VESSELS, ("vessel_call_id",)),
    "exit_notice": (STREAM_VESSELS, ("vessel_call_id", "exit_notice_no", "package_count", "gross_kg",
                                     "declarations")),
    "manifest_line": (STREAM_MANIFESTS, ("vessel_call_id", "summary_declaration_no", "bl_no")),
    "discharged": (STREAM_CONTAINERS, ("container_no", "vessel_call_id", "summary_declaration_no", "bl_no",
                                       "load_status")),
    "loaded": (STREAM_CONTAINERS, ("container_no", "vessel_call_id")),
    "storage_entry": (STREAM_CONTAINERS, ("container_no",)),
    "storage_exit": (STREAM_CONTAINERS, ("container_no",)),
    "stuffed": (STREAM_CONTAINERS, ("container_no",)),
    "stripped": (STREAM_CONTAINERS, ("container_no",)),
    "seal_broken": (STREAM_CONTAINERS, ("container_no", "seal_no")),
    "seal_replaced": (STREAM_CONTAINERS, ("container_no", "seal_no", "new_seal_no")),
    "sealed": (STREAM_CONTAINERS, ("container_no", "seal_no")),
    "gate_in": (STREAM_CONTAINERS, ("container_no", "load_status", "declaration_no")),
    "gate_out": (STREAM_CONTAINERS, ("container_no", "plate")),
    "inspection_ordered": (STREAM_CUSTOMS, ("container_no", "inspection", "source")),
    "xray_result": (STREAM_CUSTOMS, ("container_no", "result")),
    "search_result": (STREAM_CUSTOMS, ("container_no", "result")),
    "hold_released": (STREAM_CUSTOMS, ("container_no", "officer_id")),
    "storage_extension": (STREAM_CUSTOMS, ("container_no", "days")),
    "tracking_form_registered": (STREAM_CUSTOMS, ("form_no", "container_numbers")),
    "tracking_form_approved": (STREAM_CUSTOMS, ("form_no", "container_numbers")),
    "declaration_completed": (STREAM_CUSTOMS, ("declaration_no", "container_numbers")),
    "declaration_released": (STREAM_CUSTOMS, ("declaration_no", "package_count", "gross_kg")),
    "export_withdrawal_approved": (STREAM_CUSTOMS, ("declaration_no", "container_numbers")),
    "empty_list_registered": (STREAM_CUSTOMS, ("list_no", "container_numbers")),
    "empty_list_approved": (STREAM_CUSTOMS, ("list_no", "container_numbers")),
}
#: Kinds the discharge reconciliation reads (inspection orders only with a ``vessel_call_id``).
DISCHARGE_KINDS = frozenset({"arrival", "arrival_approved", "departure", "manifest_line", "discharged",
                             "inspection_ordered"})
#: Kinds the storage clock reads (storage periods, and exits for the state retention).
CLOCK_KINDS = frozenset({"storage_entry", "storage_exit", "storage_extension", "gate_out", "loaded",
                         "discharged", "gate_in", "empty_list_approved"})
#: Kinds that are a temporary-storage exit record (an approved list of empties is one, A.4.14 b).
STORAGE_EXIT_KINDS = frozenset({"storage_exit", "empty_list_approved"})
#: Kinds that end a container's stay in the port.
EXIT_KINDS = frozenset({"gate_out", "loaded"})


@dataclass(frozen=True, slots=True)
class PortEvent:
    """One accepted port or customs event (for fanned-out customs decisions: one per container).

    Attributes:
        stream: The stream it arrived on.
        event: Its kind (``discharged``, ``xray_result`` ...).
        event_id: The producer's id (duplicates share it).
        ts: Event time (UTC).
        container_no: The validated container number (empty for vessel and manifest events).
        fields: Every field of the record as received (container numbers normalized).
        position: Source position.
    """

    stream: str
    event: str
    event_id: str
    ts: datetime
    container_no: str
    fields: Mapping[str, Any]
    position: str

    def get(self, name: str, default: Any = None) -> Any:
        """A field of the record."""
        return self.fields.get(name, default)

    def text(self, name: str) -> str:
        """A field as text (empty when absent)."""
        v = self.fields.get(name)
        return "" if v is None else str(v)

    @property
    def sort_key(self) -> tuple[datetime, str, str]:
        """Event-time order, ties broken deterministically."""
        return self.ts, self.event_id, self.event


@dataclass(frozen=True, slots=True)
class Tick:
    """The event time reached by one stream (its latest ``ts`` in a decoded batch; ``""``: every stream)."""

    ts: datetime
    stream: str = ""


#: Streams whose progress the clocked checks wait for (sparse streams — vessels, manifests — are not awaited:
#: manifests precede the arrival by regulation, A.1.2.2, and a late one re-evaluates the call).
WATERMARK_STREAMS = (STREAM_CONTAINERS, STREAM_CUSTOMS)


@dataclass
class Watermark:
    """Event time every busy stream has reached: the least of their latest event times."""

    latest: dict[str, datetime] = field(default_factory=dict)
    high: datetime | None = None

    def advance(self, stream: str, ts: datetime) -> datetime | None:
        """Record that a stream (``""``: every stream) reached ``ts``; returns the watermark."""
        if self.high is None or ts > self.high:
            self.high = ts
        for s in (WATERMARK_STREAMS if stream == "" else (stream,)):
            if s not in self.latest or ts > self.latest[s]:
                self.latest[s] = ts
        return self.value

    def finish(self) -> datetime | None:
        """End of input: every stream has delivered everything, the watermark is the latest time seen."""
        return None if self.high is None else self.advance("", self.high)

    @property
    def value(self) -> datetime | None:
        """The watermark (``None`` until every busy stream has delivered an event)."""
        if any(s not in self.latest for s in WATERMARK_STREAMS):
            return None
        return min(self.latest[s] for s in WATERMARK_STREAMS)


def _check_field(kind: str, obj: dict[str, Any], name: str) -> None:
    v = obj.get(name)
    if name.endswith("_count") or name == "days":
        if isinstance(v, bool) or not isinstance(v, int) or v < 0 or (name == "days" and v == 0):
            raise EventError(f"{name}: expected a {'positive' if name == 'days' else 'non-negative'} integer, "
                             f"got {v!r}")
    elif name.endswith("_kg"):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            raise EventError(f"{name}: expected a finite non-negative number, got {v!r}")
    elif name == "container_numbers":
        if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
            raise EventError(f"{name}: expected a non-empty list of container numbers, got {v!r}")
        obj[name] = [validate(x) for x in v]
    elif name == "declarations":
        if not isinstance(v, list) or not v:
            raise EventError(f"{name}: expected a non-empty list, got {v!r}")
        for d in v:
            if not isinstance(d, dict):
                raise EventError(f"{name}: expected objects, got {d!r}")
            text_field(d, "declaration_no")
            _check_field(kind, d, "package_count")
            _check_field(kind, d, "gross_kg")
    elif name == "container_no":
        obj[name] = validate(text_field(obj, name))
    else:
        text_field(obj, name)
        if name in ENUMS and v not in ENUMS[name]:
            raise EventError(f"{name}: expected one of {sorted(ENUMS[name])}, got {v!r}")
        if name == "result" and v not in RESULTS[kind]:
            raise EventError(f"result of {kind}: expected one of {sorted(RESULTS[kind])}, got {v!r}")


def decode(raw: RawEvent) -> list[PortEvent]:
    """Validate one record against its contract.

    Args:
        raw: The record.

    Returns:
        The event; customs decisions naming several containers give one event per container.

    Raises:
        EventError: When the record is undecodable or violates its contract (the message is the reason).
    """
    try:
        obj = json.loads(raw.payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventError(f"undecodable JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise EventError("expected a JSON object")
    kind = obj.get("event")
    if not isinstance(kind, str) or kind not in KINDS:
        raise EventError(f"event: unknown kind {kind!r}")
    stream, required = KINDS[kind]
    if raw.stream != stream:
        raise EventError(f"event {kind!r} belongs on stream {stream!r}, not {raw.stream!r}")
    event_id = text_field(obj, "event_id")
    ts = parse_ts(obj.get("ts"))
    try:
        for name in required:
            if name not in obj:
                raise EventError(f"{name}: missing")
            _check_field(kind, obj, name)
        for name in ("summary_declaration_no", "bl_no", "declaration_no", "reason", "seal_no", "officer_id"):
            if name in obj and obj[name] is not None and not isinstance(obj[name], str):
                raise EventError(f"{name}: expected a string, got {obj[name]!r}")
        for name in ("package_count", "gross_kg"):
            if name in obj and obj[name] is not None and name not in required:
                _check_field(kind, obj, name)
        if "foreign" in obj and not isinstance(obj["foreign"], bool):
            raise EventError(f"foreign: expected true or false, got {obj['foreign']!r}")
        if kind == "manifest_line" and "container_numbers" in obj:
            _check_field(kind, obj, "container_numbers")
        if kind == "manifest_line" and "container_count" in obj:
            _check_field(kind, obj, "container_count")
        if kind == "manifest_line" and "container_numbers" not in obj and "container_count" not in obj:
            raise EventError("manifest_line: give container_numbers or container_count")
    except ContainerNumberError as exc:
        raise EventError(str(exc)) from exc
    if "container_numbers" in obj and kind != "manifest_line":
        return [PortEvent(stream, kind, event_id, ts, n, obj, raw.position) for n in obj["container_numbers"]]
    return [PortEvent(stream, kind, event_id, ts, str(obj.get("container_no", "")), obj, raw.position)]


def route(ev: PortEvent) -> list[str]:
    """The keys an accepted event goes to."""
    keys = [CONTAINER_KEY + ev.container_no] if ev.container_no else []
    if ev.event in DISCHARGE_KINDS and (ev.event != "inspection_ordered" or ev.get("vessel_call_id")):
        keys.append(KEY_DISCHARGE)
    if ev.event in CLOCK_KINDS:
        keys.append(KEY_CLOCK)
    if ev.event == "exit_notice":
        keys.append(KEY_NOTICES)
    if ev.event == "declaration_released" or (ev.event == "gate_out" and ev.get("declaration_no") and (
            ev.get("package_count") is not None or ev.get("gross_kg") is not None)):
        keys.append(DECLARATION_KEY + ev.text("declaration_no"))
    return keys


class PortDecoder:
    """Decodes batches of raw records into keyed items (see the module docstring).

    Args:
        flow: Flow name recorded on dead letters.
    """

    def __init__(self, flow: str) -> None:
        self.flow = flow

    def decode_batch(self, batch: Iterable[RawEvent]) -> list[tuple[str, Any]]:
        """Keyed events, dead letters and a closing tick for one batch of records."""
        out: list[tuple[str, Any]] = []
        records: list[dict[str, Any]] = []
        latest: dict[str, datetime] = {}
        for raw in batch:
            try:
                events = decode(raw)
            except EventError as exc:
                out.append((KEY_DEAD, DeadLetter.of(self.flow, raw, str(exc), _ts_or_none(raw))))
                continue
            for ev in events:
                out.extend((key, ev) for key in route(ev))
                records.append(event_record(ev))
            if raw.stream not in latest or events[0].ts > latest[raw.stream]:
                latest[raw.stream] = events[0].ts
        if records:
            out.append((KEY_EVENT_ROWS, Rows.from_dicts("container_events", records)))
        for stream, ts in sorted(latest.items()):
            out.append((KEY_DISCHARGE, Tick(ts, stream)))
            out.append((KEY_CLOCK, Tick(ts, stream)))
        return out


def event_record(ev: PortEvent) -> dict[str, Any]:
    """The ``container_events`` row of an accepted event (vessel and manifest events: no container)."""
    return {
        "event_id": ev.event_id, "ts": ev.ts, "container_no": ev.container_no, "event": ev.event,
        "stream": ev.stream, "vessel_call_id": ev.text("vessel_call_id"),
        "summary_declaration_no": ev.text("summary_declaration_no"), "bl_no": ev.text("bl_no"),
        "declaration_no": ev.text("declaration_no"),
        "fields": json.dumps(dict(ev.fields), sort_keys=True, ensure_ascii=False), "source_position": ev.position,
    }


def _ts_or_none(raw: RawEvent) -> datetime | None:
    try:
        obj = json.loads(raw.payload)
        return parse_ts(obj.get("ts")) if isinstance(obj, dict) else None
    except (ValueError, UnicodeDecodeError):
        return None
