"""The exit-status stream from the containers flow to the gate flow (``containers.exit_status``).

The containers flow knows whether a container may leave (A.5, A.2.21, A.5.5) and how much of a declaration
is still to leave (A.5.2–3); the gate flow decides at the barrier. They are separate dataflows, so the
containers flow publishes every change as a message carrying the event time of the change, and the gate
holds the latest status *as of the passage's LPR time* (:class:`ExitStatusBook`). The answer therefore depends
on event time only: a status processed after the passage it concerns gives the same decision (the gate
re-decides recent passages when such a status arrives). Contract: ``docs/contracts-port.md``.

Messages (JSON, key ``container:NO`` or ``declaration:NO``):

- ``{"kind": "container", "container_no", "ts", "may_exit", "exit_codes", "reasons"}``: the container's exit
  answer from ``ts`` on (until the next message of the container with a later ``ts``).
- ``{"kind": "declaration", "declaration_no", "ts", "released_packages", "released_kg", "released_ts",
  "exits": [{"event_id", "ts", "container_no", "plate", "packages", "kg"}]}``: the declaration's release and
  every vehicle the port reported leaving under it (``ts``: the event that changed it).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from operators.declaration_balance import Balance
from operators.events import EventError, iso_ms, parse_ts
from operators.plates import normalise_plate

STREAM_EXIT_STATUS = "containers.exit_status"


class ExitStatusError(ValueError):
    """A message that does not follow the exit-status contract."""


@dataclass(frozen=True)
class ContainerExit:
    """A container's exit answer from ``ts`` on.

    Attributes:
        container_no: The container.
        ts: Event time of the change.
        may_exit: Whether it may leave.
        codes: Reason codes when not (``not_in_port``, ``open_hold``, ``no_storage_exit``, ``tracking_form``).
        reasons: One sentence per reason.
    """

    container_no: str
    ts: datetime
    may_exit: bool
    codes: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class PortExit:
    """A vehicle the port reported leaving under a declaration (``gate_out`` with figures)."""

    event_id: str
    ts: datetime
    container_no: str
    plate: str
    packages: int
    kg: float


@dataclass(frozen=True)
class DeclarationExit:
    """A declaration's release and the vehicles that left under it, as of message time ``ts``.

    Attributes:
        declaration_no: The declaration.
        ts: Event time of the change.
        released_packages: Packages released (``None``: no release recorded).
        released_kg: Kg released.
        released_ts: Event time of the release.
        exits: Vehicles the port reported leaving, in event-time order.
    """

    declaration_no: str
    ts: datetime
    released_packages: int | None
    released_kg: float | None
    released_ts: datetime | None
    exits: tuple[PortExit, ...] = ()


ExitStatus = ContainerExit | DeclarationExit


@dataclass(frozen=True)
class StatusMessage:
    """One message of the stream as the containers flow publishes it.

    Attributes:
        key: ``container:NO`` or ``declaration:NO``.
        value: The JSON body.
        ts: Event time of the change.
    """

    key: bytes
    value: bytes
    ts: datetime

    def kv(self) -> tuple[bytes, bytes]:
        """``(key, value)`` for :data:`flows.io.Publish`."""
        return self.key, self.value


def container_message(container_no: str, ts: datetime, allowed: bool, codes: Sequence[str],
                      reasons: Sequence[str]) -> StatusMessage:
    """The message of a container's exit answer changing at ``ts``."""
    body = {"kind": "container", "container_no": container_no, "ts": iso_ms(ts), "may_exit": allowed,
            "exit_codes": list(codes), "reasons": list(reasons)}
    return StatusMessage(f"container:{container_no}".encode(), json.dumps(body, sort_keys=True).encode(), ts)


def declaration_message(status: Mapping[str, Any], ts: datetime) -> StatusMessage:
    """The message of a declaration status (:meth:`DeclarationBalance.status`) changed at ``ts``."""
    body = {**status, "ts": iso_ms(ts)}
    return StatusMessage(f"declaration:{status['declaration_no']}".encode(), json.dumps(body, sort_keys=True).encode(),
                         ts)


#: An exit answer at a time: ``(ts, allowed, codes, reasons)``.
Answer = tuple[datetime, bool, tuple[str, ...], tuple[str, ...]]


def change_points(timeline: Iterable[Answer]) -> list[Answer]:
    """The answers after each event (event-time order) reduced to one per time (the last) and to changes."""
    per_ts: dict[datetime, Answer] = {}
    for a in timeline:
        per_ts[a[0]] = a
    out: list[Answer] = []
    for a in per_ts.values():
        if not out or out[-1][1:] != a[1:]:
            out.append(a)
    return out


def answer_at(points: Sequence[Answer], t: datetime) -> Answer | None:
    """The answer in force at ``t`` (the latest change point at or before it)."""
    i = bisect.bisect_right([p[0] for p in points], t)
    return points[i - 1] if i else None


def timeline_changes(old: Sequence[Answer], new: Sequence[Answer]) -> list[Answer]:
    """What to publish when a container's answer timeline changed from ``old`` to ``new`` (change points).

    New change points, and for each old one that vanished, the answer now in force at its time (so a reader
    holding the old point at that time gets it corrected).
    """
    olds, news = set(old), set(new)
    out = {a[0]: a for a in new if a not in olds}
    for a in old:
        if a not in news and a[0] not in out:
            now = answer_at(new, a[0])
            if now is not None:
                out[a[0]] = (a[0], *now[1:])
    return [out[t] for t in sorted(out)]


def _ts(obj: Mapping[str, Any], key: str, required: bool = True) -> datetime | None:
    v = obj.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str):
        raise ExitStatusError(f"{key} missing or not a string")
    try:
        return parse_ts(v)
    except EventError as exc:
        raise ExitStatusError(f"{key}: {exc}") from exc


def _num(obj: Mapping[str, Any], key: str) -> float | None:
    v = obj.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ExitStatusError(f"{key} is not a number")
    return float(v)


def _text(obj: Mapping[str, Any], key: str) -> str:
    v = obj.get(key)
    if not isinstance(v, str) or not v.strip():
        raise ExitStatusError(f"{key} missing or not a string")
    return v


def decode_status(payload: str | bytes) -> ExitStatus:
    """Decode one exit-status message.

    Raises:
        ExitStatusError: When the message does not follow the contract.
    """
    try:
        obj = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ExitStatusError(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise ExitStatusError("not a JSON object")
    ts = _ts(obj, "ts")
    assert ts is not None
    kind = obj.get("kind")
    if kind == "container":
        allowed, codes, reasons = obj.get("may_exit"), obj.get("exit_codes", []), obj.get("reasons", [])
        if not isinstance(allowed, bool):
            raise ExitStatusError("may_exit missing or not a boolean")
        if not isinstance(codes, list) or not isinstance(reasons, list) \
                or not all(isinstance(x, str) for x in [*codes, *reasons]):
            raise ExitStatusError("exit_codes and reasons must be lists of strings")
        return ContainerExit(_text(obj, "container_no"), ts, allowed, tuple(codes), tuple(reasons))
    if kind == "declaration":
        pk, kg = _num(obj, "released_packages"), _num(obj, "released_kg")
        if (pk is None) != (kg is None):
            raise ExitStatusError("released_packages and released_kg go together")
        exits = obj.get("exits", [])
        if not isinstance(exits, list) or not all(isinstance(e, dict) for e in exits):
            raise ExitStatusError("exits must be a list of objects")
        rows = []
        for e in exits:
            et, epk, ekg = _ts(e, "ts"), _num(e, "packages"), _num(e, "kg")
            assert et is not None
            if epk is None or ekg is None:
                raise ExitStatusError("an exit needs packages and kg")
            rows.append(PortExit(str(e.get("event_id", "")), et, str(e.get("container_no") or ""),
                                 str(e.get("plate") or ""), int(epk), ekg))
        return DeclarationExit(_text(obj, "declaration_no"), ts, None if pk is None else int(pk), kg,
                               _ts(obj, "released_ts", required=False),
                               tuple(sorted(rows, key=lambda r: (r.ts, r.event_id))))
    raise ExitStatusError(f"unknown kind {kind!r} (container | declaration)")


@dataclass(frozen=True)
class GateExit:
    """A vehicle the gate let out under a declaration (its own open decision)."""

    ts: datetime
    passage_id: str
    plate: str
    packages: int
    kg: float


def _plate(text: str) -> str:
    return normalise_plate(text) or text.strip().upper()


def balance_as_of(status: DeclarationExit | None, t: datetime, own: Iterable[GateExit],
                  match_window: timedelta) -> Balance | None:
    """The declaration's balance before a vehicle at the barrier at ``t`` (A.5.3 deductions).

    Deducted: every vehicle the port reported leaving before ``t``, and every vehicle the gate itself let out
    before this one that the port has not reported yet. A port exit of the same plate within ``match_window``
    after a gate exit is that same vehicle (counted once).

    Args:
        status: The declaration's latest status (``None``: never heard of).
        t: LPR time of the vehicle at the barrier.
        own: Vehicles the gate let out under the declaration before this one.
        match_window: How long after the barrier the port's ``gate_out`` of the same vehicle may be stamped.

    Returns:
        The balance, or ``None`` when no release was recorded at or before ``t``.
    """
    if status is None or status.released_packages is None or status.released_kg is None \
            or status.released_ts is None or status.released_ts > t:
        return None
    port = [e for e in status.exits if e.ts < t]
    packages, kg = sum(e.packages for e in port), sum(e.kg for e in port)
    used: set[int] = set()
    for g in sorted(own, key=lambda x: (x.ts, x.passage_id)):
        plate = _plate(g.plate)
        match = next((i for i, e in enumerate(port) if i not in used and _plate(e.plate) == plate
                      and g.ts <= e.ts <= g.ts + match_window), None)
        if match is None:
            packages, kg = packages + g.packages, kg + g.kg
        else:
            used.add(match)
    return Balance(status.released_packages, status.released_kg, packages, kg)


def merge(a: DeclarationExit, b: DeclarationExit) -> DeclarationExit:
    """Two statuses of one declaration as one, whatever order they came in.

    A replay file is sorted by ``ts``, so a status sent after a late ``gate_out`` may come before an earlier,
    less complete one.

    Exits are united by event id; the release with the later release time wins (a corrected release).
    """
    exits = {e.event_id: e for e in (*a.exits, *b.exits)}
    rel = max((a, b), key=lambda s: (s.released_ts is not None, s.released_ts or s.ts, s.ts))
    return DeclarationExit(a.declaration_no, max(a.ts, b.ts), rel.released_packages, rel.released_kg,
                           rel.released_ts, tuple(sorted(exits.values(), key=lambda r: (r.ts, r.event_id))))


@dataclass
class ExitStatusBook:
    """The gate's bounded view of the exit-status stream, queried as of an event time.

    Attributes:
        keep_per_container: Answers kept per container (the newest).
        max_containers: Containers kept; beyond it the tenth whose newest answer is oldest is forgotten.
        containers: Answers per container, sorted by ``ts``.
        declarations: Latest status per declaration.
        max_declarations: Declarations kept (the most recently changed).

    Values are immutable (tuples of frozen records, replaced on change), so a copy for a Bytewax snapshot
    (taken every epoch) copies two dicts instead of walking every record: :meth:`__deepcopy__`.
    """

    keep_per_container: int = 8
    max_containers: int = 100_000
    max_declarations: int = 20_000
    containers: dict[str, tuple[ContainerExit, ...]] = field(default_factory=dict)
    declarations: dict[str, DeclarationExit] = field(default_factory=dict)

    def add(self, status: ExitStatus) -> None:
        """Record a status (a newer message for the same key and ``ts`` replaces the older one)."""
        if isinstance(status, ContainerExit):
            rows = list(self.containers.get(status.container_no, ()))
            keys = [r.ts for r in rows]
            i = bisect.bisect_left(keys, status.ts)
            if i < len(rows) and rows[i].ts == status.ts:
                rows[i] = status
            else:
                rows.insert(i, status)
            self.containers[status.container_no] = tuple(rows[-self.keep_per_container:])
            if len(self.containers) > self.max_containers:  # forget the tenth whose newest answer is oldest
                oldest = sorted(self.containers, key=lambda c: self.containers[c][-1].ts)
                for c in oldest[: len(self.containers) - self.max_containers * 9 // 10]:
                    del self.containers[c]
            return
        old = self.declarations.pop(status.declaration_no, None)
        self.declarations[status.declaration_no] = merge(old, status) if old is not None else status
        while len(self.declarations) > self.max_declarations:
            del self.declarations[next(iter(self.declarations))]

    def __deepcopy__(self, memo: dict[int, Any]) -> ExitStatusBook:
        """An independent copy: new dicts over the same immutable values."""
        return ExitStatusBook(self.keep_per_container, self.max_containers, self.max_declarations,
                              dict(self.containers), dict(self.declarations))

    def may_exit(self, container_no: str, t: datetime) -> tuple[bool, str]:
        """May the container leave at ``t``: the latest answer with ``ts <= t``.

        A container the containers flow has not reported by ``t`` may not leave (A.5: customs knows nothing of
        it; the gate must not let it through).
        """
        rows = self.containers.get(container_no, ())
        i = bisect.bisect_right([r.ts for r in rows], t)
        if i == 0:
            return False, "no exit status from container tracking (container unknown to the port)"
        r = rows[i - 1]
        return r.may_exit, "; ".join(r.reasons) or ", ".join(r.codes)

    def declaration(self, declaration_no: str) -> DeclarationExit | None:
        """The declaration's latest status, if any."""
        return self.declarations.get(declaration_no)
