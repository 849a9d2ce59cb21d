"""Discharge list against the summary declarations of a vessel call (G10, A.3.3, A.2.4, A.1.13).

While a vessel discharges, every discharged container is counted against the summary declaration it
belongs to — per bill of lading when a declaration covers several — and the running figures are written
(``discharge_reconciliation``). When the discharge completes (the vessel's departure, or no discharge for a
configured quiet period of event time) the missing and surplus containers are reported by number, with
the containers selected for inspection that were never discharged (A.2.4) and containers discharged
before the arrival notification was approved (approval is the discharge permission, A.1.13). A discharge
arriving after completion re-evaluates the call: changed findings are re-raised, vanished ones resolved.

One reconciler holds every open vessel call of the terminal (a handful at a time); a closed call is
dropped a retention period after completion.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from operators.alert_ledger import AlertLedger
from operators.alerts import Alert
from operators.events import iso_ms, ms_from_ts, ts_from_ms
from operators.port_events import PortEvent, Tick, Watermark

RECON_KINDS = ("discharge_missing", "discharge_surplus", "discharge_before_approval", "inspection_not_discharged")


@dataclass(frozen=True)
class DischargeParams:
    """When a vessel's discharge is complete and how long a completed call is kept.

    Attributes:
        quiet_period_h: Without a departure, the discharge is complete this long after the last discharge.
        retention_h: A completed call is dropped this long after completion (late discharges re-open it).
        flow: Flow name recorded on alerts.
    """

    quiet_period_h: float = 6.0
    retention_h: float = 72.0
    flow: str = "containers"


@dataclass
class Declared:
    """A summary declaration line: the containers of one B/L."""

    numbers: frozenset[str] | None
    count: int


@dataclass
class VesselCall:
    """One vessel call's discharge: what was declared, discharged and selected for inspection."""

    vessel_call_id: str
    vessel_name: str = ""
    voyage: str = ""
    arrival_at: datetime | None = None
    approved_at: datetime | None = None
    departed_at: datetime | None = None
    declared: dict[tuple[str, str], Declared] = field(default_factory=dict)
    #: container → (summary declaration, B/L, discharge time in epoch ms: compact for the per-epoch snapshot)
    discharged: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    by_group: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    declared_bls: dict[str, set[str]] = field(default_factory=dict)
    discharged_bls: dict[str, set[str]] = field(default_factory=dict)
    inspections: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    last_discharge_at: datetime | None = None
    closed_at: datetime | None = None
    updates: int = 0
    ledger: AlertLedger = field(default_factory=AlertLedger)

    @property
    def opened_at(self) -> datetime | None:
        """Start of the call's window: arrival, else the first discharge."""
        if self.arrival_at is not None:
            return self.arrival_at
        first = min((d[2] for d in self.discharged.values()), default=None)
        return None if first is None else ts_from_ms(first)

    def multi_bl(self, sd: str) -> bool:
        """Whether a summary declaration covers several bills of lading (compared per B/L, A.3.3)."""
        return len(self.declared_bls.get(sd, ())) > 1

    def declare(self, sd: str, bl: str, line: Declared) -> None:
        """Record a summary declaration line (a repeated one replaces the earlier)."""
        self.declared[(sd, bl)] = line
        self.declared_bls.setdefault(sd, set()).add(bl)

    def discharge(self, container_no: str, sd: str, bl: str, ts: datetime) -> None:
        """Record a discharge (a repeated one replaces the earlier report)."""
        old = self.discharged.get(container_no)
        if old is not None:
            self.by_group.get((old[0], old[1]), set()).discard(container_no)
        self.discharged[container_no] = (sd, bl, ms_from_ts(ts))
        self.by_group.setdefault((sd, bl), set()).add(container_no)
        self.discharged_bls.setdefault(sd, set()).add(bl)


@dataclass
class ReconcileOutput:
    """Rows (``discharge_reconciliation`` records) and alerts of one item."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


@dataclass
class _Group:
    declared_numbers: frozenset[str] | None
    declared: int
    discharged: set[str]

    @property
    def missing(self) -> list[str]:
        return sorted(self.declared_numbers - self.discharged) if self.declared_numbers is not None else []

    @property
    def surplus(self) -> list[str]:
        return sorted(self.discharged - self.declared_numbers) if self.declared_numbers is not None else []

    @property
    def missing_count(self) -> int:
        if self.declared_numbers is not None:
            return len(self.missing)
        return max(0, self.declared - len(self.discharged))

    @property
    def surplus_count(self) -> int:
        if self.declared_numbers is not None:
            return len(self.surplus)
        return max(0, len(self.discharged) - self.declared)


class DischargeReconciler:
    """Running discharge counts and completion checks of every vessel call (pure; fed in input order).

    Args:
        params: Completion and retention settings.
    """

    def __init__(self, params: DischargeParams) -> None:
        self.params = params
        self.calls: dict[str, VesselCall] = {}
        self.clock: datetime | None = None
        self.watermark = Watermark()
        #: Completion time of calls already dropped (a few per day): a later event for one is reported.
        self.dropped: dict[str, datetime] = {}

    def on_item(self, item: PortEvent | Tick) -> ReconcileOutput:
        """Take one event or tick; returns changed reconciliation rows and alerts."""
        if isinstance(item, Tick):
            return self._advance(self.watermark.advance(item.stream, item.ts))
        ev = item
        cid = ev.text("vessel_call_id")
        if cid in self.dropped and cid not in self.calls:
            return self._after_drop(ev, self.dropped[cid])
        call = self.calls.setdefault(cid, VesselCall(cid))
        out = ReconcileOutput()
        groups: dict[str, set[str] | None] = {}  # declaration → B/Ls whose rows changed (None: all)
        if ev.event == "arrival":
            call.arrival_at, call.vessel_name, call.voyage = ev.ts, ev.text("vessel_name"), ev.text("voyage")
        elif ev.event == "arrival_approved":
            call.approved_at = ev.ts if call.approved_at is None else min(call.approved_at, ev.ts)
        elif ev.event == "manifest_line":
            numbers = ev.get("container_numbers")
            nums = frozenset(numbers) if numbers is not None else None
            count = int(ev.get("container_count", len(nums) if nums is not None else 0))
            call.declare(ev.text("summary_declaration_no"), ev.text("bl_no"), Declared(nums, count))
            groups[ev.text("summary_declaration_no")] = None  # one B/L more can change every B/L's level
        elif ev.event == "discharged":
            old = call.discharged.get(ev.container_no)
            if old is not None:
                groups[old[0]] = None
            sd, bl = ev.text("summary_declaration_no"), ev.text("bl_no")
            call.discharge(ev.container_no, sd, bl, ev.ts)
            changed = groups.get(sd, set())
            if changed is not None:
                groups[sd] = changed | {bl}
            if call.last_discharge_at is None or ev.ts > call.last_discharge_at:
                call.last_discharge_at = ev.ts
        elif ev.event == "inspection_ordered":
            call.inspections.setdefault(ev.container_no, (ev.ts, ev.text("inspection")))
        elif ev.event == "departure":
            call.departed_at = ev.ts
        if groups:
            call.updates += 1
            out.rows.extend(r for sd in sorted(groups) for r in self.rows(call, sd, ev.ts, groups[sd]))
        if call.closed_at is not None and ev.event in ("discharged", "manifest_line", "inspection_ordered"):
            out.alerts.extend(call.ledger.update(self.findings(call, call.closed_at), ev.ts))
        self._merge(out, self._advance(self.watermark.advance(ev.stream, ev.ts)))
        return out

    def _after_drop(self, ev: PortEvent, closed_at: datetime) -> ReconcileOutput:
        """An event for a call completed and dropped long ago: not counted, but reported, never silent."""
        out = self._advance(self.watermark.advance(ev.stream, ev.ts))
        if ev.event in ("discharged", "manifest_line"):
            what = ev.container_no or ev.text("summary_declaration_no")
            out.alerts.append(Alert(
                "discharge_after_completion", "warning", "vessel", ev.text("vessel_call_id"), ev.ts, ev.ts,
                f"{ev.event.replace('_', ' ')} {what} reported for {ev.text('vessel_call_id')} more than "
                f"{self.params.retention_h:g} h after its discharge was completed ({iso_ms(closed_at)}): not counted "
                "in the reconciliation; check it by hand.",
                {"event": ev.event, "event_id": ev.event_id, "container_no": ev.container_no,
                 "summary_declaration_no": ev.text("summary_declaration_no"), "completed_at": iso_ms(closed_at)},
                self.params.flow, discriminator=ev.event_id))
        return out

    def finish(self) -> ReconcileOutput:
        """End of input (a replay consumed): complete what the latest event time seen completes."""
        return self._advance(self.watermark.finish())

    def _advance(self, now: datetime | None) -> ReconcileOutput:
        """Complete the calls the watermark has passed (departure, or the quiet period); drop old ones."""
        out = ReconcileOutput()
        if now is None or (self.clock is not None and now <= self.clock):
            return out
        self.clock = now
        quiet = timedelta(hours=self.params.quiet_period_h)
        for cid, call in list(self.calls.items()):
            if call.closed_at is None and call.departed_at is not None and now >= call.departed_at:
                self._merge(out, self._close(call, call.departed_at))
            elif call.closed_at is None and call.last_discharge_at is not None \
                    and now >= call.last_discharge_at + quiet:
                self._merge(out, self._close(call, call.last_discharge_at + quiet))
            elif call.closed_at is not None and now >= call.closed_at + timedelta(hours=self.params.retention_h):
                self.dropped[cid] = call.closed_at
                del self.calls[cid]
        return out

    @staticmethod
    def _merge(out: ReconcileOutput, more: ReconcileOutput) -> None:
        out.rows.extend(more.rows)
        out.alerts.extend(more.alerts)

    def _close(self, call: VesselCall, at: datetime) -> ReconcileOutput:
        call.closed_at = at
        call.updates += 1
        sds = sorted(set(call.declared_bls) | set(call.discharged_bls))
        out = ReconcileOutput([r for sd in sds for r in self.rows(call, sd, at)])
        out.alerts = call.ledger.update(self.findings(call, at), at)
        return out

    def _groups(self, call: VesselCall, sd: str) -> list[tuple[str, _Group]]:
        """(bl, group) per B/L of a declaration, then ('', group) for the whole declaration."""
        bls = sorted(call.declared_bls.get(sd, set()) | {b for b in call.discharged_bls.get(sd, ())
                                                         if call.by_group.get((sd, b))})
        per_bl: list[tuple[str, _Group]] = []
        total_numbers: set[str] | None = set()
        total_declared = 0
        for bl in bls:
            dec = call.declared.get((sd, bl))
            nums = dec.numbers if dec is not None else frozenset()
            count = dec.count if dec is not None else 0
            dis = set(call.by_group.get((sd, bl), ()))
            per_bl.append((bl, _Group(nums, count, dis)))
            total_declared += count
            if nums is None or total_numbers is None:
                total_numbers = None
            else:
                total_numbers |= nums
        all_dis = set().union(*(dis for _bl, dis in ((b, g.discharged) for b, g in per_bl)))
        whole = _Group(frozenset(total_numbers) if total_numbers is not None else None, total_declared, all_dis)
        return [*per_bl, ("", whole)]

    def rows(self, call: VesselCall, sd: str, at: datetime, bls: set[str] | None = None) -> list[dict[str, Any]]:
        """The ``discharge_reconciliation`` records of one summary declaration of a call (``at``: event time).

        Args:
            call: The vessel call.
            sd: The summary declaration.
            at: Event time of the change.
            bls: Only these B/Ls' rows (and the declaration's), or every B/L's when ``None``.
        """
        status = "complete" if call.closed_at is not None else "discharging"
        return [{
            "vessel_call_id": call.vessel_call_id, "summary_declaration_no": sd, "bl_no": bl,
            "level": "bl" if bl else "declaration", "declared": g.declared, "discharged": len(g.discharged),
            "missing_count": g.missing_count, "surplus_count": g.surplus_count, "missing": g.missing,
            "surplus": g.surplus, "status": status, "ts": call.closed_at or call.last_discharge_at or at,
            "revision": call.updates,
        } for bl, g in self._groups(call, sd) if not bl or bls is None or bl in bls]

    def findings(self, call: VesselCall, at: datetime) -> list[Alert]:
        """Every discrepancy of a completed call, as alerts."""
        start = call.opened_at or at
        alerts: list[Alert] = []
        flow = self.params.flow
        declared_sds = set(call.declared_bls)
        for sd in sorted(declared_sds):
            groups = self._groups(call, sd)
            judged = [(bl, g) for bl, g in groups if bl] if call.multi_bl(sd) else [("", groups[-1][1])]
            for bl, g in judged:
                where = f"summary declaration {sd}" + (f", B/L {bl}" if bl else "")
                common = {"vessel_call_id": call.vessel_call_id, "vessel_name": call.vessel_name,
                          "summary_declaration_no": sd, "bl_no": bl, "declared": g.declared,
                          "discharged": len(g.discharged), "completed_at": iso_ms(at)}
                if g.missing_count:
                    alerts.append(Alert(
                        "discharge_missing", "critical", "declaration", sd, start, at,
                        f"{g.missing_count} container(s) of {where} not discharged from {call.vessel_call_id}: "
                        "start the shortage procedure (A.3.5).",
                        {**common, "missing_count": g.missing_count, "missing": g.missing}, flow,
                        discriminator=bl))
                if g.surplus_count:
                    alerts.append(Alert(
                        "discharge_surplus", "critical", "declaration", sd, start, at,
                        f"{g.surplus_count} container(s) discharged under {where} beyond the declaration: "
                        "start the surplus procedure (A.3.5).",
                        {**common, "surplus_count": g.surplus_count, "surplus": g.surplus}, flow,
                        discriminator=bl))
        undeclared = sorted(c for c, d in call.discharged.items() if d[0] not in declared_sds)
        if undeclared:
            alerts.append(Alert(
                "discharge_surplus", "critical", "vessel", call.vessel_call_id, start, at,
                f"{len(undeclared)} container(s) discharged from {call.vessel_call_id} under no declared summary "
                "declaration (A.3.3).",
                {"vessel_call_id": call.vessel_call_id, "surplus_count": len(undeclared), "surplus": undeclared,
                 "summary_declarations": sorted({call.discharged[c][0] for c in undeclared}),
                 "completed_at": iso_ms(at)}, flow, discriminator="undeclared"))
        approved_ms = None if call.approved_at is None else ms_from_ts(call.approved_at)
        early = sorted(c for c, d in call.discharged.items() if approved_ms is None or d[2] < approved_ms)
        if early:
            approved = iso_ms(call.approved_at) if call.approved_at else None
            alerts.append(Alert(
                "discharge_before_approval", "critical", "vessel", call.vessel_call_id, start, at,
                f"{len(early)} container(s) discharged from {call.vessel_call_id} before the arrival notification "
                f"was approved ({approved or 'never approved'}): approval is the discharge permission (A.1.13).",
                {"vessel_call_id": call.vessel_call_id, "approved_at": approved, "count": len(early),
                 "containers": early[:200]}, flow))
        for c, (ordered_at, kind) in sorted(call.inspections.items()):
            if c not in call.discharged:
                alerts.append(Alert(
                    "inspection_not_discharged", "critical", "container", c, ordered_at, max(at, ordered_at),
                    f"Container selected for {kind} inspection was not discharged from {call.vessel_call_id} "
                    "by the end of discharge: ask the port operator (A.2.4).",
                    {"vessel_call_id": call.vessel_call_id, "inspection": kind, "ordered_at": iso_ms(ordered_at),
                     "completed_at": iso_ms(at)}, flow))
        return alerts

    def size(self) -> int:
        """Containers held (discharged and declared), for state-size figures."""
        return sum(len(c.discharged) + sum(len(d.numbers or ()) for d in c.declared.values())
                   for c in self.calls.values())


def open_calls(r: DischargeReconciler) -> Iterable[str]:
    """Vessel calls still discharging."""
    return (cid for cid, c in r.calls.items() if c.closed_at is None)
