"""Joining fused passages with pre-gate notices in event time, with bounded state (one instance per site).

Passages are decided as of their LPR time against the :class:`~operators.pregate.NoticeBook`, so the
answer does not depend on whether a notice was processed before or after the passage. A notice processed
after passages it could affect (``notice.ts <= lpr_ts``) re-decides the last ``keep_recent`` passages; a
new edition is emitted only when the decision changed. A notice first sent *after* a degraded passage of its
plate (within ``regularise_within``) regularises that passage (G8: entered within 24 hours).

Gate-out: the containers flow's exit-status stream (:mod:`operators.exit_status`) is held in an
:class:`~operators.exit_status.ExitStatusBook` and read as of the LPR time: whether each container may leave,
and the declaration's release and the vehicles the port reported leaving; the vehicles the gate itself let
out are deducted too (once, when the port reports the same vehicle). A status processed after passages it
could affect (``status.ts <= lpr_ts``) re-decides them, as a late notice does.

Outputs are :class:`Emitted` items: decisions (with an edition), registrations (checkpoint 3, G3) and
alerts (divert, conflict, degraded admission).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from operators.alerts import Alert
from operators.declaration_balance import Balance
from operators.exit_status import ContainerExit, ExitStatus, ExitStatusBook, GateExit, balance_as_of
from operators.gate_decision import Decision, DecisionPolicy, PassageView, decide, exit_figures
from operators.gate_risk import RiskHistory, ordered_flags
from operators.pregate import Notice, NoticeBook

FLOW = "gate"


@dataclass(frozen=True)
class Emitted:
    """One output of the join: a decision edition, a registration row or an alert."""

    kind: Literal["decision", "registration", "alert"]
    decision: Decision | None = None
    edition: int = 0
    registration: dict[str, Any] | None = None
    alert: Alert | None = None
    wall: datetime | None = None


def _key(d: Decision) -> tuple[Any, ...]:
    return d.decision, d.reasons, d.details, d.notice_id, d.degraded


def registration_record(d: Decision, status: str, notice: Notice | None, at: datetime) -> dict[str, Any]:
    """The ``gate_registrations`` row: the entry record customs would otherwise need an officer to type."""
    p, n = d.passage, notice
    return {
        "registration_id": p.passage_id, "passage_id": p.passage_id, "gate_id": p.gate_id, "lane_id": p.lane_id,
        "ts": p.lpr_ts, "status": status, "version": int(at.timestamp() * 1000),
        "notice_id": n.notice_id if n else None, "direction": n.direction if n else None,
        "plate": p.plate or "", "trailer_plate": p.trailer_plate, "containers": list(p.containers),
        "declaration_type": n.declaration_type if n else None, "declaration_no": n.declaration_no if n else None,
        "regularised_at": at if status == "regularised" else None,
    }


def _alert(d: Decision, status: Literal["open", "resolved"] = "open") -> Alert | None:
    p = d.passage
    if "notice_conflict" in d.reasons:
        kind, sev, msg = "gate_notice_conflict", "warning", "two open pre-gate notices for one plate: review"
    elif d.decision == "divert":
        kind, sev, msg = "gate_divert", "warning", f"truck {p.plate} diverted: {', '.join(d.reasons)}"
    elif d.degraded:
        kind, sev, msg = "gate_degraded", "info", f"truck {p.plate} admitted without a pre-gate record (outage)"
    else:
        return None
    a = Alert(kind, sev, "passage", p.passage_id, p.lpr_ts, p.lpr_ts, msg,  # type: ignore[arg-type]
              {"lane_id": p.lane_id, "plate": p.plate, "reasons": list(d.details), "notice_id": d.notice_id,
               "frames": list(p.frames)}, flow=FLOW)
    return a if status == "open" else a.with_status("resolved", p.lpr_ts)


#: Notices whose risk flags are remembered (for flags a passage processed after them adds).
NOTICE_FLAGS_KEPT = 50_000


def _risk_alert(n: Notice, flags: tuple[str, ...]) -> Emitted:
    return Emitted("alert", alert=Alert(
        "gate_risk", "info", "notice", n.notice_id, n.ts, n.ts, f"pre-gate notice for {n.plate}: {', '.join(flags)}",
        {"plate": n.plate, "flags": list(flags), "containers": list(n.numbers)}, flow=FLOW))


#: Declarations with gate exits held before the oldest are forgotten, and how long one is kept after its last exit.
EXITS_BOUND = 4096
EXITS_KEPT = timedelta(days=30)


class PregateJoin:
    """The join state: the notice book, the recent decisions and the degraded passages.

    Args:
        policy: Decision limits.
        validity: Notice validity.
        keep_recent: Decided passages remembered for re-decision by a late-processed notice.
        regularise_within: How long after a degraded passage a late notice regularises it (C.2.1: 24 h).
    """

    def __init__(self, policy: DecisionPolicy | None = None, validity: timedelta = timedelta(hours=24),
                 keep_recent: int = 256, regularise_within: timedelta = timedelta(hours=24)) -> None:
        self.policy = policy or DecisionPolicy()
        self.book = NoticeBook(validity, keep=max(regularise_within, timedelta(hours=1)))
        self.keep_recent = keep_recent
        self.regularise_within = regularise_within
        self.recent: OrderedDict[str, tuple[Decision, int]] = OrderedDict()
        self.degraded: dict[str, Decision] = {}
        self.risk = RiskHistory()
        #: declaration → passage → vehicle the gate let out on it (A.5.3 deductions)
        self.exits: dict[str, dict[str, GateExit]] = {}
        #: event time of the last scan bounding ``exits``
        self.exits_pruned_at: datetime | None = None
        #: (notice id, version time) → the risk flags its alert carries (the most recent notices)
        self.notice_flags: OrderedDict[tuple[str, datetime], tuple[str, ...]] = OrderedDict()
        #: the containers flow's exit answers and declaration balances, as of event time
        self.status = ExitStatusBook()

    def feed_last(self, t: datetime) -> datetime | None:
        """Event time of the latest notice version sent at or before ``t``."""
        return self.book.last_sent(t)

    def _decide(self, p: PassageView) -> Decision:
        def balance_of(n: Notice) -> Balance | None:
            no = n.declaration_no or ""
            earlier = [g for pid, g in self.exits.get(no, {}).items()
                       if pid != p.passage_id and (g.ts, pid) < (p.lpr_ts, p.passage_id)]
            if self.policy.declared_totals is not None:
                totals = self.policy.declared_totals(no)
                if totals is None:
                    return None
                return Balance(totals[0], totals[1], sum(g.packages for g in earlier), sum(g.kg for g in earlier))
            return balance_as_of(self.status.declaration(no), p.lpr_ts, earlier, self.policy.exit_match_window)

        return decide(p, self.book, self.policy, self.feed_last(p.lpr_ts), balance_of,
                      self.policy.may_exit or self.status.may_exit)

    def _emit(self, d: Decision, wall: datetime) -> list[Emitted]:
        pid = d.passage.passage_id
        prev = self.recent.get(pid)
        if prev is not None and _key(prev[0]) == _key(d):
            self.recent[pid] = (d, prev[1])  # newer passage edition, same decision: keep the evidence current
            return []
        edition = prev[1] + 1 if prev is not None else 0
        self.recent[pid] = (d, edition)
        self.recent.move_to_end(pid)
        while len(self.recent) > self.keep_recent:
            self.recent.popitem(last=False)
        out = [Emitted("decision", d, edition, wall=wall)]
        self.risk.record(d)
        out += self._late_risk(d)
        self._deduct(d, prev[0] if prev is not None else None)
        if prev is not None and (nid := prev[0].notice_id) is not None and (d.decision != "open"
                                                                           or d.notice_id != nid):
            used = self.book.consumed.get(nid)
            if used is not None and used[1] == pid:
                del self.book.consumed[nid]  # the re-decision no longer uses the notice
        if d.decision == "open" and d.notice is not None:
            self.book.consume(d.notice.notice_id, d.passage.lpr_ts, pid)
            out.append(Emitted("registration", registration=registration_record(d, "registered", d.notice,
                                                                                   d.passage.lpr_ts)))
        if d.degraded:
            self.degraded[pid] = d
            out.append(Emitted("registration", registration=registration_record(d, "degraded", None,
                                                                                   d.passage.lpr_ts)))
        else:
            self.degraded.pop(pid, None)
        a = _alert(d)
        if a is not None:
            out.append(Emitted("alert", alert=a))
        if prev is not None and (old := _alert(prev[0])) is not None and (a is None or a.alert_id != old.alert_id):
            out.append(Emitted("alert", alert=old.with_status("resolved", d.passage.lpr_ts)))
        return out

    def _deduct(self, d: Decision, prev: Decision | None) -> None:
        """Keep the vehicles let out per declaration (an exit re-decided as not open is taken back)."""
        n, pid = d.notice, d.passage.passage_id
        if prev is not None and prev.notice is not None and prev.notice.declaration_no:
            self.exits.get(prev.notice.declaration_no, {}).pop(pid, None)
        figures = exit_figures(n) if n is not None else None
        if d.decision == "open" and n is not None and n.declaration_no and figures is not None:
            self.exits.setdefault(n.declaration_no, {})[pid] = GateExit(d.passage.lpr_ts, pid, d.passage.plate or "",
                                                                        *figures)
            self._prune_exits(d.passage.lpr_ts)

    def _prune_exits(self, now: datetime) -> None:
        """Bound the exits: past 4096 declarations, forget those with no exit in the last 30 days of event time.

        The scan runs at most once an hour of event time (a gate-out stream with more declarations than the bound
        would otherwise scan them all at every opened exit).
        """
        if len(self.exits) <= EXITS_BOUND or (self.exits_pruned_at is not None
                                              and now < self.exits_pruned_at + timedelta(hours=1)):
            return
        self.exits_pruned_at = now
        cut = now - EXITS_KEPT
        for no in [k for k, rows in self.exits.items() if not rows or max(g.ts for g in rows.values()) < cut]:
            del self.exits[no]

    def _flagged(self, n: Notice, flags: tuple[str, ...]) -> None:
        self.notice_flags[(n.notice_id, n.ts)] = flags
        self.notice_flags.move_to_end((n.notice_id, n.ts))
        while len(self.notice_flags) > NOTICE_FLAGS_KEPT:
            self.notice_flags.popitem(last=False)

    def _late_risk(self, d: Decision) -> list[Emitted]:
        """Risk flags a decision adds to notices the join already saw, sent after the passage.

        Items of one batch reach the join in an order that depends on batching (notices come straight from the
        input, passages through the lanes): a notice sent after a passage may be flagged before the passage is
        recorded. The flags the passage implies are added then, and the notice's alert is sent again with all its
        flags (same alert id), so the alerts are those of event-time order whatever the batching.
        """
        p = d.passage
        if p.plate is None:
            return []
        out: list[Emitted] = []
        for n in self.book.after(p.plate, p.lpr_ts, self.risk.lookback):
            old = self.notice_flags.get((n.notice_id, n.ts))
            if old is None:
                continue  # not seen yet: flagged, with this passage, when it comes
            flags = ordered_flags(set(old) | self.risk.implied(d, n))
            if flags != old:
                self._flagged(n, flags)
                out.append(_risk_alert(n, flags))
        return out

    def on_passage(self, p: PassageView, wall: datetime | None = None) -> list[Emitted]:
        """Decide a passage (at its LPR frame, or a later edition of it)."""
        return self._emit(self._decide(p), wall or datetime.now(UTC))

    def on_status(self, st: ExitStatus, wall: datetime | None = None) -> list[Emitted]:
        """Record an exit status of the containers flow; re-decide recent gate-out passages it reaches.

        A status reaches a passage when it took effect at or before the passage's LPR time and names one of
        its notified containers or its notice's declaration.
        """
        self.status.add(st)
        now = wall or datetime.now(UTC)
        out: list[Emitted] = []
        for d, _e in list(self.recent.values()):
            p, n = d.passage, d.notice
            if n is None or n.direction != "out" or st.ts > p.lpr_ts:
                continue
            if (st.container_no in n.numbers if isinstance(st, ContainerExit)
                    else st.declaration_no == n.declaration_no):
                out += self._emit(self._decide(p), now)
        return out

    def on_notice(self, n: Notice, wall: datetime | None = None) -> list[Emitted]:
        """Record a notice; re-decide recent passages it reaches; regularise degraded passages it covers."""
        self.book.add(n)
        now = wall or datetime.now(UTC)
        out: list[Emitted] = []
        flags = self.risk.flags(n)
        self._flagged(n, flags)
        if flags:
            out.append(_risk_alert(n, flags))
        numbers = set(n.numbers)
        for d, _e in list(self.recent.values()):
            p = d.passage
            if n.ts <= p.lpr_ts and (n.plate == p.plate or any(c in numbers for c in p.containers)):
                out += self._emit(self._decide(p), now)
        for pid, d in sorted(self.degraded.items()):
            p = d.passage
            if n.plate == p.plate and p.lpr_ts < n.ts <= p.lpr_ts + self.regularise_within:
                del self.degraded[pid]
                out.append(Emitted("registration", registration=registration_record(
                    replace(d, notice=n), "regularised", n, n.ts)))
        horizon = n.ts - self.regularise_within - timedelta(hours=1)
        for pid in [k for k, d in self.degraded.items() if d.passage.lpr_ts < horizon]:
            del self.degraded[pid]  # past the deadline: the warehouse view lists it as not regularised
        return out
