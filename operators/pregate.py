"""Pre-gate notifications (G6): decoding, validation and the notice book in event time.

A notice is sent by the port operator before the truck arrives. The book answers, for a moment ``t`` (the
LPR frame's event time), which notices are *open*: the version in force (the latest correction of a
``notice_id`` with ``ts <= t``) was sent no later than ``t`` and at most ``validity`` before it, and no
earlier passage consumed it. Answers depend on event time only, so a notice processed after a passage
(a slower branch, a lagging partition) gives the same answer as one processed before it.

State is bounded: versions older than ``validity + keep`` behind the newest event seen are dropped.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from operators.events import parse_ts
from operators.iso6346 import is_valid
from operators.plates import normalise_plate
from operators.size_type import decode

STREAM_GATE_PREGATE = "gate.pregate"
DIRECTIONS = frozenset({"in", "out"})
LOAD_STATUSES = frozenset({"full", "empty", "loose", "none"})


class NoticeError(ValueError):
    """A pre-gate notification that does not follow the contract."""


@dataclass(frozen=True)
class NoticeContainer:
    """One container of a notice."""

    number: str
    size_type: str | None
    load_status: str
    seal_no: str | None = None


@dataclass(frozen=True)
class Notice:
    """A pre-gate notification (one version of it).

    Attributes:
        notice_id: The notice; a later version with the same id is a correction that replaces it.
        ts: When this version was sent (event time).
        direction: ``in`` (gate-in) or ``out`` (gate-out).
        plate: Tractor plate, normalised (``34 ABC 123``).
        trailer_plate: Trailer plate, normalised, when notified.
        containers: Notified containers.
        declaration_type: Declaration type as notified.
        declaration_no: Declaration number, when notified.
        hazardous: Whether the load is declared as dangerous goods.
        notifier: Who sent the notice.
        extra: The remaining contract fields as sent (goods owner, goods, weight, packages, transit number).
    """

    notice_id: str
    ts: datetime
    direction: str
    plate: str
    trailer_plate: str | None
    containers: tuple[NoticeContainer, ...]
    declaration_type: str
    declaration_no: str | None
    hazardous: bool
    notifier: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def numbers(self) -> tuple[str, ...]:
        """The notified container numbers."""
        return tuple(c.number for c in self.containers)


def _str(obj: Mapping[str, Any], key: str, required: bool = True) -> str | None:
    v = obj.get(key)
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise NoticeError(f"{key} missing")
        return None
    if not isinstance(v, str | int):
        raise NoticeError(f"{key} must be a string")
    return str(v).strip()


def _container(obj: Any, i: int) -> NoticeContainer:
    if not isinstance(obj, dict):
        raise NoticeError(f"containers[{i}] must be an object")
    number = (_str(obj, "number") or "").replace(" ", "").upper()
    if not is_valid(number):
        raise NoticeError(f"containers[{i}].number {number!r} fails the ISO 6346 check digit")
    st = _str(obj, "size_type", required=False)
    if st is not None and decode(st) is None:
        raise NoticeError(f"containers[{i}].size_type {st!r} is not an ISO 6346 size/type code")
    load = _str(obj, "load_status") or ""
    if load not in LOAD_STATUSES:
        raise NoticeError(f"containers[{i}].load_status must be one of {sorted(LOAD_STATUSES)}, not {load!r}")
    return NoticeContainer(number, st.upper() if st else None, load, _str(obj, "seal_no", required=False))


def decode_notice(payload: str | bytes) -> Notice:
    """Decode and validate one pre-gate notification (JSON object, CONTRACTS.md).

    Args:
        payload: The JSON text.

    Returns:
        The notice, plates normalised.

    Raises:
        NoticeError: With the reason, when the notice breaks the contract.
    """
    try:
        obj = json.loads(payload)
    except ValueError as exc:
        raise NoticeError(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise NoticeError("not a JSON object")
    try:
        ts = parse_ts(obj.get("ts"))
    except ValueError as exc:
        raise NoticeError(str(exc)) from exc
    direction = _str(obj, "direction")
    if direction not in DIRECTIONS:
        raise NoticeError(f"direction must be in or out, not {direction!r}")
    raw_plate = _str(obj, "plate") or ""
    plate = normalise_plate(raw_plate)
    if plate is None:
        raise NoticeError(f"plate {raw_plate!r} is not a valid plate")
    raw_trailer = _str(obj, "trailer_plate", required=False)
    trailer = normalise_plate(raw_trailer) if raw_trailer else None
    if raw_trailer and trailer is None:
        raise NoticeError(f"trailer_plate {raw_trailer!r} is not a valid plate")
    containers = obj.get("containers", [])
    if not isinstance(containers, list):
        raise NoticeError("containers must be a list")
    hazardous = obj.get("hazardous", False)
    if not isinstance(hazardous, bool):
        raise NoticeError("hazardous must be true or false")
    known = {"notice_id", "ts", "direction", "plate", "trailer_plate", "containers", "declaration_type",
             "declaration_no", "hazardous", "notifier"}
    return Notice(
        notice_id=_str(obj, "notice_id") or "", ts=ts, direction=direction, plate=plate, trailer_plate=trailer,
        containers=tuple(_container(c, i) for i, c in enumerate(containers)),
        declaration_type=_str(obj, "declaration_type") or "", declaration_no=_str(obj, "declaration_no", False),
        hazardous=hazardous, notifier=_str(obj, "notifier") or "",
        extra={k: v for k, v in obj.items() if k not in known})


class NoticeBook:
    """Notices by id with their versions, queried as of an event time.

    Args:
        validity: How long a notice stays open after it was sent.
        keep: How much longer than ``validity`` versions are kept (for late passages and regularisation).
    """

    def __init__(self, validity: timedelta = timedelta(hours=24), keep: timedelta = timedelta(hours=24)) -> None:
        self.validity = validity
        self.keep = keep
        self.versions: dict[str, list[Notice]] = {}
        self.consumed: dict[str, tuple[datetime, str]] = {}  # notice_id → (passage LPR time, passage id)
        self.by_plate: dict[str, set[str]] = {}  # plate of any version → notice ids
        self.by_container: dict[str, set[str]] = {}  # container of any version → notice ids
        self.sent: list[tuple[datetime, str]] = []  # (ts, notice id) of every version, sorted
        self.newest: datetime | None = None
        self.pruned_at: datetime | None = None

    def add(self, notice: Notice) -> None:
        """Record a notice version (a correction when its id is known); prunes what is out of reach."""
        vs = self.versions.setdefault(notice.notice_id, [])
        if all(v != notice for v in vs):
            vs.append(notice)
            vs.sort(key=lambda v: v.ts)
            self.by_plate.setdefault(notice.plate, set()).add(notice.notice_id)
            for c in notice.numbers:
                self.by_container.setdefault(c, set()).add(notice.notice_id)
            bisect.insort(self.sent, (notice.ts, notice.notice_id))
        self.newest = notice.ts if self.newest is None else max(self.newest, notice.ts)
        if self.pruned_at is None or self.newest - self.pruned_at >= timedelta(hours=1):
            self.prune(self.newest)

    def prune(self, now: datetime) -> None:
        """Drop notices whose newest version is older than ``validity + keep`` before ``now``."""
        self.pruned_at = now
        horizon = now - self.validity - self.keep
        gone = {n for n, vs in self.versions.items() if vs[-1].ts < horizon}
        if not gone:
            return
        for nid in gone:
            for v in self.versions.pop(nid):
                self.by_plate.get(v.plate, set()).discard(nid)
                for c in v.numbers:
                    self.by_container.get(c, set()).discard(nid)
            self.consumed.pop(nid, None)
        self.by_plate = {k: ids for k, ids in self.by_plate.items() if ids}
        self.by_container = {k: ids for k, ids in self.by_container.items() if ids}
        self.sent = [x for x in self.sent if x[1] not in gone]

    def last_sent(self, t: datetime) -> datetime | None:
        """Event time of the latest notice version sent at or before ``t`` (the pre-gate feed's clock)."""
        i = bisect.bisect_right(self.sent, (t, "\U0010ffff"))
        return self.sent[i - 1][0] if i else None

    def size(self) -> int:
        """Notice versions held."""
        return len(self.sent)

    def in_force(self, notice_id: str, t: datetime) -> Notice | None:
        """The version of ``notice_id`` in force at ``t`` (latest with ``ts <= t``)."""
        vs = [v for v in self.versions.get(notice_id, ()) if v.ts <= t]
        return vs[-1] if vs else None

    def open_at(self, t: datetime, passage_id: str = "", ids: Iterable[str] | None = None) -> list[Notice]:
        """Notices open at ``t``.

        Open: in force, sent within ``validity`` before ``t``, not consumed by an earlier passage (a passage
        other than ``passage_id``).
        """
        out = []
        for nid in sorted(self.versions if ids is None else set(ids)):
            n = self.in_force(nid, t)
            if n is None or t - n.ts > self.validity:
                continue
            used = self.consumed.get(nid)
            if used is not None and used[1] != passage_id and used[0] <= t:
                continue
            out.append(n)
        return out

    def for_plate(self, plate: str, t: datetime, passage_id: str = "") -> list[Notice]:
        """Open notices for a tractor plate at ``t``."""
        return [n for n in self.open_at(t, passage_id, self.by_plate.get(plate, ())) if n.plate == plate]

    def for_containers(self, numbers: Iterable[str], t: datetime, passage_id: str = "") -> list[Notice]:
        """Open notices listing any of the containers at ``t``."""
        wanted = set(numbers)
        ids = set().union(*(self.by_container.get(c, set()) for c in wanted)) if wanted else set()
        return [n for n in self.open_at(t, passage_id, ids) if wanted & set(n.numbers)]

    def expired_for_plate(self, plate: str, t: datetime) -> list[Notice]:
        """Notices for the plate sent before ``t`` whose validity ran out (for the reason's details)."""
        out = []
        for nid in sorted(self.by_plate.get(plate, ())):
            n = self.in_force(nid, t)
            if n is not None and n.plate == plate and t - n.ts > self.validity:
                out.append(n)
        return out

    def after(self, plate: str, t: datetime, within: timedelta) -> list[Notice]:
        """Notices for the plate first sent after ``t`` and within ``within`` of it (late notices)."""
        out = []
        for nid in sorted(self.by_plate.get(plate, ())):
            vs = self.versions[nid]
            if vs[0].ts > t and vs[0].ts - t <= within and vs[-1].plate == plate:
                out.append(vs[-1])
        return out

    def consume(self, notice_id: str, t: datetime, passage_id: str) -> None:
        """Mark a notice used by an opened passage at ``t`` (it is no longer open after it)."""
        prev = self.consumed.get(notice_id)
        if prev is None or (t, passage_id) < prev:
            self.consumed[notice_id] = (t, passage_id)
