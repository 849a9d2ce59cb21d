"""Decoding of the VGM input events: weighbridge readings and shippers' VGM declarations.

Contract (CONTRACTS.md) plus optional fields this flow understands:

- weighing: optional ``load_status`` {container number: ``full`` | ``empty`` | ``dirty_tank``} (default
  ``full``; Art. 9).
- declaration: ``vgm_kg`` may be ``null`` (the shipper announced a packed container without a VGM, Art. 12);
  optional ``cargo_kind`` (``general``, ``bulk``, ``scrap_metal``, ``unbagged_grain``, ``raw_marble`` ...)
  and ``load_status``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from operators.event_fields import number_field, optional_number, text_field
from operators.events import DeadLetter, EventError, RawEvent, load_object, parse_ts
from operators.vgm_container_no import ContainerNumberError, validate
from operators.vgm_policy import VgmPolicy

STREAM_WEIGHINGS = "vgm.weighings"
STREAM_DECLARATIONS = "vgm.declarations"
VGM_STREAMS = (STREAM_WEIGHINGS, STREAM_DECLARATIONS)
WEIGHING_KINDS = frozenset({"gross", "empty", "container"})
LOAD_STATUSES = frozenset({"full", "empty", "dirty_tank"})


@dataclass(frozen=True, slots=True)
class Weighing:
    """One weighbridge reading.

    Attributes:
        weighing_id: Unique id of the weighing.
        instrument_id: The weighing instrument.
        ts: Event time.
        reading_kg: The instrument's reading, unchanged.
        vehicle_plate: The vehicle on the platform.
        container_numbers: Containers on it (validated ISO 6346).
        kind: ``gross`` (loaded vehicle), ``empty`` (vehicle without container), ``container`` (alone).
        operator_id: The weighing operator's person on duty.
        load_status: Per container ``full`` | ``empty`` | ``dirty_tank``.
        position: Source position.
    """

    weighing_id: str
    instrument_id: str
    ts: datetime
    reading_kg: float
    vehicle_plate: str
    container_numbers: tuple[str, ...]
    kind: str
    operator_id: str
    load_status: Mapping[str, str] = field(default_factory=dict)
    position: str = ""

    def status_of(self, container: str) -> str:
        """Load status of a container on this weighing (``full`` unless told otherwise)."""
        return self.load_status.get(container, "full")


@dataclass(frozen=True, slots=True)
class Declaration:
    """A shipper's VGM declaration (or a notice of a packed container without one)."""

    container_number: str
    ts: datetime
    vgm_kg: float | None
    method: int
    shipper: str
    authorization_no: str
    signer: str
    max_payload_kg: float | None = None
    tare_kg: float | None = None
    max_gross_kg: float | None = None
    cargo_kind: str = ""
    load_status: str = "full"
    position: str = ""


VgmEvent = Weighing | Declaration | DeadLetter


def _str(obj: Mapping[str, Any], name: str) -> str:
    return text_field(obj, name, strip=True)


def _kg(obj: Mapping[str, Any], name: str) -> float:
    return number_field(obj, name, positive=True)


def _opt_kg(obj: Mapping[str, Any], name: str) -> float | None:
    return optional_number(obj, name, positive=True)


def _container(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise EventError(f"{name}: expected a container number string, got {value!r}")
    try:
        return validate(value)
    except ContainerNumberError as exc:
        raise EventError(f"{name}: {exc}") from exc


def decode_weighing(raw: RawEvent, policy: VgmPolicy) -> Weighing:
    """Decode and validate a weighbridge reading.

    Raises:
        EventError: With the reason, when the record breaks the contract.
    """
    obj = load_object(raw)
    ts = parse_ts(obj.get("ts"))
    instrument_id = _str(obj, "instrument_id")
    if instrument_id not in policy.instruments:
        raise EventError(f"unknown instrument_id {instrument_id!r} (not a registered weighing instrument)")
    operator_id = _str(obj, "operator_id")
    if operator_id not in policy.signers:
        raise EventError(f"unknown operator_id {operator_id!r} (not an authorised person of the operator)")
    kind = _str(obj, "kind")
    if kind not in WEIGHING_KINDS:
        raise EventError(f"kind: expected one of {sorted(WEIGHING_KINDS)}, got {kind!r}")
    numbers = obj.get("container_numbers", [])
    if not isinstance(numbers, list):
        raise EventError(f"container_numbers: expected a list, got {numbers!r}")
    containers = tuple(_container(n, "container_numbers") for n in numbers)
    if len(set(containers)) != len(containers):
        raise EventError("container_numbers: a container is listed twice")
    if kind == "empty" and containers:
        raise EventError("an 'empty' weighing is of the vehicle without containers; container_numbers must be empty")
    if kind != "empty" and not containers:
        raise EventError(f"a {kind!r} weighing must name the container(s) weighed")
    status_raw = obj.get("load_status") or {}
    if not isinstance(status_raw, dict):
        raise EventError(f"load_status: expected an object {{container: status}}, got {status_raw!r}")
    status: dict[str, str] = {}
    for k, v in status_raw.items():
        c = _container(k, "load_status")
        if c not in containers or not isinstance(v, str) or v not in LOAD_STATUSES:
            raise EventError(f"load_status: {k!r}: {v!r} is not a status of a listed container")
        status[c] = str(v)
    reading = _kg(obj, "reading_kg")
    assert reading is not None
    return Weighing(_str(obj, "weighing_id"), instrument_id, ts, reading, _str(obj, "vehicle_plate"), containers,
                    kind, operator_id, status, raw.position)


def decode_declaration(raw: RawEvent) -> Declaration:
    """Decode and validate a VGM declaration.

    Raises:
        EventError: With the reason, when the record breaks the contract.
    """
    obj = load_object(raw)
    ts = parse_ts(obj.get("ts"))
    method = obj.get("method")
    if method not in (1, 2) or isinstance(method, bool):
        raise EventError(f"method: expected 1 or 2, got {method!r}")
    load_status = obj.get("load_status", "full")
    if not isinstance(load_status, str) or load_status not in LOAD_STATUSES:  # a list/dict is unhashable
        raise EventError(f"load_status: expected one of {sorted(LOAD_STATUSES)}, got {load_status!r}")
    cargo = obj.get("cargo_kind", "")
    if not isinstance(cargo, str):
        raise EventError(f"cargo_kind: expected a string, got {cargo!r}")
    return Declaration(
        container_number=_container(obj.get("container_number"), "container_number"), ts=ts,
        vgm_kg=_opt_kg(obj, "vgm_kg"), method=int(method), shipper=_str(obj, "shipper"),
        authorization_no=str(obj.get("authorization_no") or ""), signer=_str(obj, "signer"),
        max_payload_kg=_opt_kg(obj, "max_payload_kg"), tare_kg=_opt_kg(obj, "tare_kg"),
        max_gross_kg=_opt_kg(obj, "max_gross_kg"), cargo_kind=cargo.strip().lower(),
        load_status=str(load_status), position=raw.position)


@dataclass(frozen=True)
class VgmDecoder:
    """Decodes raw VGM events into weighings, declarations or dead letters."""

    flow: str
    policy: VgmPolicy

    def decode(self, raw: RawEvent) -> VgmEvent:
        """One raw event → a weighing, a declaration or a dead letter with the reason."""
        try:
            if raw.stream == STREAM_WEIGHINGS:
                return decode_weighing(raw, self.policy)
            if raw.stream == STREAM_DECLARATIONS:
                return decode_declaration(raw)
            return DeadLetter.of(self.flow, raw, f"unknown stream {raw.stream!r}")
        except EventError as exc:
            return DeadLetter.of(self.flow, raw, str(exc), _event_ts(raw))

    def decode_batch(self, raws: Iterable[RawEvent]) -> list[VgmEvent]:
        """Decode a batch, keeping order."""
        return [self.decode(r) for r in raws]


def _event_ts(raw: RawEvent) -> datetime | None:
    try:
        return parse_ts(json.loads(raw.payload).get("ts"))
    except (EventError, ValueError, AttributeError, TypeError):
        return None
