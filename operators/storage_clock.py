"""Temporary-storage periods in event time, and when a departed container's state may be forgotten.

A container in temporary storage may stay there a limited time (Customs Law 4458 Art. 48: 45 days for
goods arriving by sea; configurable, extended by customs, A.3.9). The clock warns a configured number of
days before the limit and reports the container once the limit has passed while it is still in storage.
It advances on the input's event time (ticks and the events' own times, as a
:class:`~operators.port_events.Watermark` over the busy streams), so a container that sends no events is
still judged, and a replay raises the same alerts as the live run. An exit recorded late with a time before the limit
resolves the overdue alert.

It also tells each container's keyed state when it may be dropped: a configured time after the container
left the port (:class:`Expire`), so the flow's state stays bounded by the containers in the port.

The clock is one state for the whole terminal, snapshotted by Bytewax at every epoch, so it is kept compact:
times as epoch milliseconds in plain tuples, extensions and emitted alerts only for the few containers that
have them (a pickle of tens of thousands of small objects per second dominated the flow otherwise).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from operators.alert_ledger import AlertLedger
from operators.alerts import Alert
from operators.events import iso_ms, ms_from_ts, ts_from_ms
from operators.port_events import EXIT_KINDS, STORAGE_EXIT_KINDS, PortEvent, Tick, Watermark

STORAGE_KINDS = ("storage_expiry_warning", "storage_overdue")


@dataclass(frozen=True)
class StorageParams:
    """Storage limits and state retention.

    Attributes:
        limit_days: Temporary-storage period.
        warn_days: Warn this many days before it ends.
        retention_after_exit_h: Drop a container's state this long after it left the port.
        flow: Flow name recorded on alerts.
    """

    limit_days: float = 45.0
    warn_days: float = 5.0
    retention_after_exit_h: float = 168.0
    flow: str = "containers"


@dataclass(frozen=True, slots=True)
class Expire:
    """A container left the port long enough ago that its keyed state may be dropped."""

    container_no: str
    at: datetime


@dataclass(frozen=True)
class Stay:
    """One temporary-storage stay of a container, as the findings see it."""

    entered_at: datetime
    extension_days: float = 0.0
    exited_at: datetime | None = None

    def deadline(self, limit_days: float) -> datetime:
        """End of the storage period, with the extensions granted."""
        return self.entered_at + timedelta(days=limit_days + self.extension_days)


@dataclass
class ClockOutput:
    """Alerts and state expiries of one item."""

    alerts: list[Alert] = field(default_factory=list)
    expires: list[Expire] = field(default_factory=list)


_DAY_MS = 86_400_000
_NONE = -1


class StorageClock:
    """Storage periods of every container in storage, and exit times for state retention (pure).

    Attributes:
        stays: Container → ``(entered ms, exited ms or -1)`` of its current stay.
        extensions: Container → extension days by event id (only containers with extensions).
        ledgers: Container → its emitted storage alerts (only containers with alerts).

    Args:
        params: Limits and retention.
    """

    def __init__(self, params: StorageParams) -> None:
        self.params = params
        self.stays: dict[str, tuple[int, int]] = {}
        self.extensions: dict[str, dict[str, float]] = {}
        self.ledgers: dict[str, AlertLedger] = {}
        self.clock: datetime | None = None
        self.watermark = Watermark()
        self._due: list[tuple[int, str]] = []
        self._expire: list[tuple[int, str]] = []

    def on_item(self, item: PortEvent | Tick) -> ClockOutput:
        """Take one event or tick; returns the alerts raised or resolved and the expiries due."""
        out = ClockOutput()
        if isinstance(item, PortEvent):
            self._on_event(item, out)
        ts = self.watermark.advance(item.stream, item.ts)
        if ts is not None and (self.clock is None or ts > self.clock):
            self.clock = ts
        if self.clock is None:
            return out
        now = ms_from_ts(self.clock)
        while self._due and self._due[0][0] <= now:
            _t, no = heapq.heappop(self._due)
            out.alerts.extend(self._judge(no))
        retention = round(self.params.retention_after_exit_h * 3_600_000)
        while self._expire and self._expire[0][0] + retention <= now:
            exited, no = heapq.heappop(self._expire)
            stay = self.stays.get(no)
            if stay is not None and stay[1] != _NONE and stay[1] <= exited:
                self._forget(no)
            out.expires.append(Expire(no, ts_from_ms(exited + retention)))
        return out

    def finish(self) -> ClockOutput:
        """End of input (a replay consumed): judge the storage periods at the latest event time seen."""
        end = self.watermark.finish()
        return self.on_item(Tick(end)) if end is not None else ClockOutput()

    def _forget(self, no: str) -> None:
        self.stays.pop(no, None)
        self.extensions.pop(no, None)
        self.ledgers.pop(no, None)

    def _on_event(self, ev: PortEvent, out: ClockOutput) -> None:
        no, t = ev.container_no, ms_from_ts(ev.ts)
        stay = self.stays.get(no)
        if ev.event == "storage_entry":
            if stay is None or (stay[1] != _NONE and t > stay[1]):
                self._forget(no)
                stay = self.stays[no] = (t, _NONE)
            else:  # the same stay (an entry redelivered, or reported late, before its exit keeps the exit)
                stay = self.stays[no] = (min(stay[0], t), stay[1])
            self._schedule(no)
        elif stay is None:
            if ev.event in EXIT_KINDS:
                heapq.heappush(self._expire, (t, no))
            return
        elif ev.event == "storage_extension":
            self.extensions.setdefault(no, {})[ev.event_id] = float(ev.get("days", 0))
            self._schedule(no)
        elif ev.event in STORAGE_EXIT_KINDS or (ev.event in EXIT_KINDS and stay[1] == _NONE):
            self.stays[no] = (stay[0], t if stay[1] == _NONE else min(stay[1], t))
        if ev.event in EXIT_KINDS:
            heapq.heappush(self._expire, (t, no))
        out.alerts.extend(self._judge(no))

    def _deadline_ms(self, no: str, entered: int) -> int:
        days = self.params.limit_days + sum(self.extensions.get(no, {}).values())
        return entered + round(days * _DAY_MS)

    def _schedule(self, no: str) -> None:
        deadline = self._deadline_ms(no, self.stays[no][0])
        heapq.heappush(self._due, (deadline - round(self.params.warn_days * _DAY_MS), no))
        heapq.heappush(self._due, (deadline, no))

    def _judge(self, no: str) -> list[Alert]:
        stay = self.stays.get(no)
        if stay is None or self.clock is None:
            return []
        entered, exited = stay
        end = exited if exited != _NONE else ms_from_ts(self.clock)
        ledger = self.ledgers.get(no)
        if ledger is None and end < self._deadline_ms(no, entered) - round(self.params.warn_days * _DAY_MS):
            return []  # nothing to say and nothing said: skip building the evidence
        ledger = ledger or AlertLedger()
        view = Stay(ts_from_ms(entered), sum(self.extensions.get(no, {}).values()),
                    ts_from_ms(exited) if exited != _NONE else None)
        changes = ledger.update(self.findings(no, view), self.clock)
        if ledger.emitted:
            self.ledgers[no] = ledger
        else:
            self.ledgers.pop(no, None)
        return changes

    def findings(self, no: str, stay: Stay) -> list[Alert]:
        """The storage alerts a stay deserves at the clock's time."""
        assert self.clock is not None
        p = self.params
        deadline = stay.deadline(p.limit_days)
        warn_at = deadline - timedelta(days=p.warn_days)
        end = stay.exited_at or self.clock
        details = {"entered_at": iso_ms(stay.entered_at), "deadline": iso_ms(deadline), "limit_days": p.limit_days,
                   "extension_days": stay.extension_days,
                   "exited_at": iso_ms(stay.exited_at) if stay.exited_at else None}
        alerts = []
        if end >= warn_at and (stay.exited_at is None or stay.exited_at > warn_at):
            alerts.append(Alert("storage_expiry_warning", "warning", "container", no, stay.entered_at, warn_at,
                                f"Temporary-storage period ends {iso_ms(deadline)}: clear, extend or move the "
                                "container.", details, p.flow))
        if end >= deadline and (stay.exited_at is None or stay.exited_at > deadline):
            alerts.append(Alert("storage_overdue", "critical", "container", no, stay.entered_at, deadline,
                                f"Container still in temporary storage after its {p.limit_days:g}-day period "
                                f"(+{stay.extension_days:g} days extension) ended {iso_ms(deadline)}.",
                                details, p.flow))
        return alerts

    def size(self) -> int:
        """Stays and scheduled entries held, for state-size figures."""
        return len(self.stays) + len(self._due) + len(self._expire)
