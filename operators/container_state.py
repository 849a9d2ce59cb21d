"""Where one container stands in the customs process, and whether it may leave the port (A.2, A.3, A.5, B.3).

The state is a fold of the container's events in event-time order, so an out-of-order event is placed
where it belongs and the state recomputed; a repeated ``event_id`` is ignored. A visit ends when the
container leaves (``gate_out``, or ``loaded`` on a vessel); the next event starts a new visit.

May it leave (:func:`may_exit`)? Only when it is in the port, no inspection hold is open (an ordered
physical check or X-ray, a search decided after the scan, a seizure — A.2.21), the temporary-storage exit is
recorded (A.5, A.4.12–13) and, for a foreign container, the container tracking form is approved (A.5.5).

The checks raised on the way (see :class:`ContainerTracker`): leaving without clearance, loading an export
container whose declaration is not complete or that is under a hold (B.3), a container selected for
inspection discharged late (A.2.4), a seal broken or replaced without a reason (A.2.18, A.2.22).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from operators.alert_ledger import AlertLedger
from operators.alerts import Alert, Severity
from operators.container_rules import IN_PORT, RuleHandlers
from operators.events import iso_ms, ms_from_ts
from operators.port_events import PortEvent
from operators.rows import Rows

#: Reason codes of a refused exit, with the alert kind raised when the container leaves anyway.
EXIT_CHECKS: Mapping[str, str] = {
    "not_in_port": "exit_not_in_port",
    "open_hold": "exit_with_open_hold",
    "no_storage_exit": "exit_without_storage_exit",
    "tracking_form": "exit_without_tracking_form",
    "export_withdrawal": "abandoned_export_exit",
}


@dataclass(frozen=True)
class ContainerParams:
    """Thresholds of the container checks.

    Attributes:
        inspection_discharge_max_h: A container selected for inspection discharged later than this after
            the order is reported as discharged late (A.2.4).
        flow: Flow name recorded on alerts.
        stuffing_seal_max_h: A container stuffed in the port must be sealed within this time (and before it
            leaves) (A.2.18, A.4.4; :mod:`operators.container_rules`).
    """

    inspection_discharge_max_h: float = 24.0
    flow: str = "containers"
    stuffing_seal_max_h: float = 24.0


@dataclass(frozen=True)
class ExitAnswer:
    """May the container leave now, and if not, why.

    Attributes:
        allowed: Whether the exit is allowed.
        codes: Reason codes (keys of :data:`EXIT_CHECKS`) when not.
        reasons: One sentence per reason, for the gate officer.
    """

    allowed: bool
    codes: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """All reasons in one line (empty when allowed)."""
        return "; ".join(self.reasons)


@dataclass
class ContainerState:
    """A container's current visit, folded from its events.

    Attributes:
        container_no: The container.
        ts: Event time of the latest event folded.
        status: ``unknown`` | ``discharged`` | ``in_storage`` | ``storage_exited`` | ``gate_in`` | ``exited``
            | ``loaded``.
        customs_status: ``none`` | ``selected_physical`` | ``selected_xray`` | ``scanned`` | ``search_pending``
            | ``searched`` | ``seized`` | ``released``.
        vessel_call_id: The vessel call it came with (or leaves on).
        summary_declaration_no: Its summary declaration.
        bl_no: Its bill of lading.
        declaration_no: Its customs declaration (export entry, gate exit).
        load_status: ``full`` | ``empty``.
        foreign: Whether a container tracking form is required (foreign container, A.6).
        seal_no: The seal on it now.
        holds: Open holds: ``physical``, ``xray``, ``search``, ``seizure``.
        ordered_at: When an inspection was first ordered in this visit.
        discharged_at: Discharge time.
        storage_entered_at: Temporary-storage entry.
        storage_exited_at: Temporary-storage exit record.
        tracking_form_no: The tracking form covering it.
        tracking_form_status: ``none`` | ``registered`` | ``approved``.
        declaration_completed: Whether customs completed its export declaration (B.3).
        exited_at: When it left (gate out or loaded).
        events: Events folded in this visit.
        visit_start: Event time of the first event of this visit.
        entry_load_status: ``full`` | ``empty`` when it entered (discharge or export gate-in).
        export_entry: The visit began with an export gate-in (B.3.18).
        export_withdrawal_approved: Customs approved the exit of an export given up (B.3.18).
        empty_list_no: The list of empties naming it (A.4.14).
        empty_list_status: ``none`` | ``registered`` | ``approved``.
        stuffed_at: When it was last stuffed in the port (A.3.7).
        stuffing_event_id: That stuffing's event id.
        stuffing_sealed: A seal was put on it at or after that stuffing.
        stuffing_reported: The unsealed stuffing has been reported.
    """

    container_no: str
    ts: datetime | None = None
    status: str = "unknown"
    customs_status: str = "none"
    vessel_call_id: str = ""
    summary_declaration_no: str = ""
    bl_no: str = ""
    declaration_no: str = ""
    load_status: str = ""
    foreign: bool = False
    seal_no: str = ""
    holds: set[str] = field(default_factory=set)
    ordered_at: datetime | None = None
    discharged_at: datetime | None = None
    storage_entered_at: datetime | None = None
    storage_exited_at: datetime | None = None
    tracking_form_no: str = ""
    tracking_form_status: str = "none"
    declaration_completed: bool = False
    exited_at: datetime | None = None
    events: int = 0
    visit_start: datetime | None = None
    entry_load_status: str = ""
    export_entry: bool = False
    export_withdrawal_approved: bool = False
    empty_list_no: str = ""
    empty_list_status: str = "none"
    stuffed_at: datetime | None = None
    stuffing_event_id: str = ""
    stuffing_sealed: bool = False
    stuffing_reported: bool = False

    @property
    def exited(self) -> bool:
        """Whether the visit has ended."""
        return self.status in ("exited", "loaded")


def may_exit(state: ContainerState) -> ExitAnswer:
    """May this container leave the port through the gate now (A.5, A.2.21)?

    Args:
        state: Its current state.

    Returns:
        The answer with every reason that stands against the exit.
    """
    codes: list[str] = []
    reasons: list[str] = []
    if state.status not in IN_PORT:
        codes.append("not_in_port")
        reasons.append(f"container is not in the port (status {state.status})")
    if state.holds:
        codes.append("open_hold")
        reasons.append(hold_reason(state))
    if state.status in ("discharged", "in_storage"):
        codes.append("no_storage_exit")
        reasons.append("no temporary-storage exit record (A.5)")
    if state.foreign and state.tracking_form_status != "approved":
        codes.append("tracking_form")
        reasons.append(f"foreign container: tracking form {state.tracking_form_status} (approval needed, A.5.5)")
    if state.export_entry and not state.export_withdrawal_approved and state.status in IN_PORT:
        codes.append("export_withdrawal")
        reasons.append("entered for export: leaving by the gate needs customs' exit approval (B.3.18)")
    return ExitAnswer(not codes, tuple(codes), tuple(reasons))


def hold_reason(state: ContainerState) -> str:
    """Why the inspection holds keep the container (empty when none is open)."""
    parts = []
    if "seizure" in state.holds:
        parts.append("goods seized after search")
    if "search" in state.holds:
        parts.append("search decided after X-ray, no search result")
    if "xray" in state.holds:
        parts.append("X-ray ordered, not released" + (" (scanned)" if state.customs_status == "scanned" else
                                                      " (not scanned yet)"))
    if "physical" in state.holds:
        parts.append("physical check ordered, hold not released")
    return "open inspection hold: " + ", ".join(parts) + " (A.2.21)" if parts else ""


def exit_answer_from_row(row: Mapping[str, Any]) -> ExitAnswer:
    """The exit answer recorded in a ``container_state`` row (for the gate decisions flow).

    Args:
        row: A row with ``may_exit``, ``exit_codes`` and ``hold_reason`` (``; ``-separated reasons).

    Returns:
        The answer.
    """
    reasons = tuple(r for r in str(row.get("hold_reason", "")).split("; ") if r)
    return ExitAnswer(bool(row["may_exit"]), tuple(row.get("exit_codes") or ()), reasons)


class _Fold(RuleHandlers):
    """Applies events to a state and collects the findings (alerts) on the way."""

    def __init__(self, container_no: str, params: ContainerParams) -> None:
        self.s = ContainerState(container_no)
        self.p = params
        self.alerts: list[Alert] = []

    def alert(self, kind: str, severity: Severity, start: datetime, end: datetime, message: str,
              details: Mapping[str, Any], discriminator: str = "") -> None:
        self.alerts.append(Alert(kind, severity, "container", self.s.container_no, start, end, message,
                                 dict(details), self.p.flow, discriminator=discriminator))

    def apply(self, ev: PortEvent) -> None:
        s = self.s
        if s.exited:
            self.s = s = ContainerState(s.container_no)
        if s.visit_start is None:
            s.visit_start = ev.ts
        s.ts = ev.ts if s.ts is None else max(s.ts, ev.ts)
        s.events += 1
        self.check_stuffed_sealed(ev)
        handler = getattr(self, f"_on_{ev.event}", None)
        if handler is not None:
            handler(ev)

    def _on_discharged(self, ev: PortEvent) -> None:
        s = self.s
        s.status, s.discharged_at = "discharged", ev.ts
        s.vessel_call_id, s.summary_declaration_no = ev.text("vessel_call_id"), ev.text("summary_declaration_no")
        s.bl_no, s.load_status, s.seal_no = ev.text("bl_no"), ev.text("load_status"), ev.text("seal_no")
        s.foreign = bool(ev.get("foreign", False))
        s.entry_load_status = s.entry_load_status or s.load_status
        if s.ordered_at is not None and ev.ts - s.ordered_at > timedelta(hours=self.p.inspection_discharge_max_h):
            late_h = (ev.ts - s.ordered_at).total_seconds() / 3600
            self.alert("inspection_discharged_late", "warning", s.ordered_at, ev.ts,
                       f"Container selected for inspection was discharged {late_h:.1f} h after the order "
                       f"(limit {self.p.inspection_discharge_max_h:g} h): ask the port operator why (A.2.4).",
                       {"ordered_at": iso_ms(s.ordered_at), "discharged_at": iso_ms(ev.ts),
                        "late_h": round(late_h, 2), "limit_h": self.p.inspection_discharge_max_h,
                        "holds": sorted(s.holds), "vessel_call_id": s.vessel_call_id})

    def _on_gate_in(self, ev: PortEvent) -> None:
        s = self.s
        s.status, s.load_status = "gate_in", ev.text("load_status")
        s.declaration_no, s.seal_no = ev.text("declaration_no"), ev.text("seal_no") or s.seal_no
        s.foreign = bool(ev.get("foreign", s.foreign))
        s.export_entry, s.entry_load_status = True, s.entry_load_status or s.load_status

    def _on_storage_entry(self, ev: PortEvent) -> None:
        self.s.status, self.s.storage_entered_at = "in_storage", ev.ts

    def _on_storage_exit(self, ev: PortEvent) -> None:
        self.s.status, self.s.storage_exited_at = "storage_exited", ev.ts

    def _on_inspection_ordered(self, ev: PortEvent) -> None:
        s = self.s
        kind = ev.text("inspection")
        s.holds.add(kind)
        s.ordered_at = s.ordered_at or ev.ts
        if s.customs_status in ("none", "released", "selected_physical"):
            s.customs_status = f"selected_{kind}"

    def _on_xray_result(self, ev: PortEvent) -> None:
        s = self.s
        if ev.text("result") == "search":
            s.holds.add("search")
            s.customs_status = "search_pending"
        else:
            s.customs_status = "scanned"

    def _on_search_result(self, ev: PortEvent) -> None:
        s = self.s
        s.holds.discard("search")
        if ev.text("result") == "seizure":
            s.holds.add("seizure")
            s.customs_status = "seized"
        else:
            s.customs_status = "searched"

    def _on_hold_released(self, ev: PortEvent) -> None:
        s = self.s
        s.holds.difference_update({"physical", "xray", "search"})  # a seizure is not lifted by a release
        if not s.holds:
            s.customs_status = "released"

    def _on_tracking_form_registered(self, ev: PortEvent) -> None:
        s = self.s
        s.tracking_form_no = ev.text("form_no")
        if s.tracking_form_status != "approved":
            s.tracking_form_status = "registered"

    def _on_tracking_form_approved(self, ev: PortEvent) -> None:
        self.check_form_in_port(ev)
        self.s.tracking_form_no, self.s.tracking_form_status = ev.text("form_no"), "approved"

    def _on_declaration_completed(self, ev: PortEvent) -> None:
        self.s.declaration_completed = True
        self.s.declaration_no = self.s.declaration_no or ev.text("declaration_no")

    def _seal(self, ev: PortEvent, new_seal: str) -> None:
        s = self.s
        reason = ev.text("reason").strip()
        if not reason:
            self.alert("seal_without_reason", "warning", ev.ts, ev.ts,
                       f"Seal {ev.text('seal_no')} {ev.event.replace('_', ' ')} with no recorded reason: record "
                       "why and the new seal (A.2.18, A.2.22).",
                       {"event": ev.event, "event_id": ev.event_id, "seal_no": ev.text("seal_no"),
                        "new_seal_no": ev.text("new_seal_no"), "holds": sorted(s.holds)},
                       discriminator=ev.event_id)
        s.seal_no = new_seal

    def _on_seal_broken(self, ev: PortEvent) -> None:
        self._seal(ev, "")

    def _on_seal_replaced(self, ev: PortEvent) -> None:
        self._seal(ev, ev.text("new_seal_no"))
        self.sealed_after_stuffing()

    def _on_gate_out(self, ev: PortEvent) -> None:
        s = self.s
        answer = may_exit(s)
        for code, reason in zip(answer.codes, answer.reasons, strict=True):
            self.alert(EXIT_CHECKS[code], "critical", ev.ts, ev.ts,
                       f"Container left the port by {ev.text('plate')}: {reason}.",
                       {"plate": ev.text("plate"), "declaration_no": ev.text("declaration_no"), "reason": reason,
                        "status": s.status, "holds": sorted(s.holds), "customs_status": s.customs_status,
                        "tracking_form_status": s.tracking_form_status, "event_id": ev.event_id})
        s.status, s.exited_at = "exited", ev.ts

    def _on_loaded(self, ev: PortEvent) -> None:
        s = self.s
        if s.status == "gate_in" and not s.declaration_completed:
            self.alert("loading_incomplete_declaration", "critical", ev.ts, ev.ts,
                       f"Export container loaded on {ev.text('vessel_call_id')} before customs completed "
                       f"declaration {s.declaration_no or '?'}: it may not be loaded (B.3.2.1).",
                       {"declaration_no": s.declaration_no, "vessel_call_id": ev.text("vessel_call_id"),
                        "event_id": ev.event_id})
        if s.holds:
            self.alert("loading_with_open_hold", "critical", ev.ts, ev.ts,
                       f"Container loaded on {ev.text('vessel_call_id')} under an {hold_reason(s)}.",
                       {"holds": sorted(s.holds), "vessel_call_id": ev.text("vessel_call_id"),
                        "event_id": ev.event_id})
        s.status, s.exited_at, s.vessel_call_id = "loaded", ev.ts, ev.text("vessel_call_id")


def fold(container_no: str, events: Sequence[PortEvent], params: ContainerParams) -> tuple[ContainerState,
                                                                                        list[Alert]]:
    """The container's state after its events (in event-time order) and the findings of its current visit.

    Args:
        container_no: The container.
        events: Its events, sorted by :attr:`PortEvent.sort_key`.
        params: Thresholds.

    Returns:
        The state and the alerts raised on the way.
    """
    f = _Fold(container_no, params)
    visit_alerts: list[Alert] = []
    for ev in events:
        if f.s.exited:
            visit_alerts = []
        before = len(f.alerts)
        f.apply(ev)
        visit_alerts.extend(f.alerts[before:])
    return f.s, visit_alerts


def exit_timeline(container_no: str, events: Sequence[PortEvent], params: ContainerParams) -> list[
        tuple[datetime, ExitAnswer]]:
    """The exit answer after each event of a visit (in event-time order): the history the gate reads as of a time.

    Args:
        container_no: The container.
        events: Its events, sorted by :attr:`PortEvent.sort_key`.
        params: Thresholds.

    Returns:
        ``(event time, answer after the event)`` per event.
    """
    f = _Fold(container_no, params)
    out: list[tuple[datetime, ExitAnswer]] = []
    for ev in events:
        f.apply(ev)
        out.append((ev.ts, may_exit(f.s)))
    return out


@dataclass
class ContainerOutput:
    """What one event of a container produced."""

    rows: list[Rows] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


@dataclass
class ContainerTracker:
    """Keyed state of one container: its current visit's events, state and emitted alerts.

    Attributes:
        container_no: The container.
        params: Thresholds.
        events: This visit's events in event-time order (earlier visits are in the warehouse).
        seen: Event ids of this visit (duplicates are ignored).
        ledger: Alerts emitted for this visit.
        state: The current state.
    """

    container_no: str
    params: ContainerParams
    events: list[PortEvent] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    ledger: AlertLedger = field(default_factory=AlertLedger)
    state: ContainerState | None = None

    def on_event(self, ev: PortEvent) -> ContainerOutput:
        """Fold one event in; returns the new ``container_state`` row and the alerts (new, changed, resolved)."""
        if ev.event_id in self.seen:
            return ContainerOutput()
        if self.state is not None and self.state.exited and self.state.exited_at is not None \
                and ev.ts >= self.state.exited_at:
            self.events, self.seen, self.ledger = [], set(), AlertLedger()  # a new visit
        self.seen.add(ev.event_id)
        bisect.insort(self.events, ev, key=lambda e: e.sort_key)
        self.state, alerts = fold(self.container_no, self.events, self.params)
        out = ContainerOutput([state_row(self.state)])
        out.alerts = self.ledger.update(alerts, ev.ts)
        return out

    def expired(self, at: datetime, retention: timedelta) -> bool:
        """Whether the container left at least ``retention`` before ``at`` (its state can be dropped)."""
        s = self.state
        return s is not None and s.exited and s.exited_at is not None and at >= s.exited_at + retention


def state_row(s: ContainerState) -> Rows:
    """The ``container_state`` row of a state (version: latest event time, then events folded)."""
    answer = may_exit(s)
    assert s.ts is not None
    return Rows.from_dicts("container_state", [{
        "container_no": s.container_no, "ts": s.ts, "status": s.status, "customs_status": s.customs_status,
        "vessel_call_id": s.vessel_call_id, "summary_declaration_no": s.summary_declaration_no,
        "bl_no": s.bl_no, "declaration_no": s.declaration_no, "load_status": s.load_status, "foreign": s.foreign,
        "seal_no": s.seal_no, "holds": sorted(s.holds), "discharged_at": s.discharged_at,
        "storage_entered_at": s.storage_entered_at, "storage_exited_at": s.storage_exited_at,
        "tracking_form_no": s.tracking_form_no, "tracking_form_status": s.tracking_form_status,
        "declaration_completed": s.declaration_completed, "exited_at": s.exited_at, "may_exit": answer.allowed,
        "exit_codes": list(answer.codes), "hold_reason": answer.reason, "events": s.events,
        "revision": ms_from_ts(s.ts) * 1000 + min(s.events, 999),
    }])

