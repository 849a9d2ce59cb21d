"""Barrier decisions at checkpoint 2 (G2): the fused reads of a passage against its pre-gate notice.

Rules (issue 5; circular B.1, A.5):

- the tractor plate must match the notice exactly after normalisation; no open notice for the plate but
  one listing a container read on the truck → ``plate_mismatch``; none at all → ``no_notice`` (unless the
  pre-gate feed is down: then the truck is let through in recorded ``degraded_mode``, C.2.1);
- two open notices for one plate → ``notice_conflict`` (manual review: the system must not pick one);
- every notified container must be read with a valid check digit (the fused reads only keep such codes): a
  valid code on the truck that the notice does not list → ``container_unexpected``, a notified container
  absent while other codes were read → ``container_missing``; no valid code at all → ``unreadable``;
- the size/type read must agree with the notified one in length and type group → ``size_mismatch``;
- a dangerous-goods placard on a notice without ``hazardous`` → ``placard_unexpected``;
- a full container whose doors were seen without a seal → ``seal_missing``;
- at exit, a container the tracking flow holds (X-ray / physical check open, form not approved), or one it
  has not reported, → ``exit_blocked`` (A.5, A.2.21, A.5.5; answered by the containers flow's exit-status
  stream, :mod:`operators.exit_status`);
- at exit with package and kg figures under a declaration, the vehicle against the declaration's balance
  (:func:`operators.declaration_balance.check_exit`: A.5.2–3, B.3.2.5–7) → ``package_count_mismatch``,
  ``weight_over_10pct``; no release recorded for the declaration → ``exit_blocked``.

What the physics allows is tolerated: the LPR camera does not see containers (they are read at
checkpoint 1), a trailer plate that was not read, a seal that no camera faced. What the rules forbid never
is. Any divert reason → ``divert``; otherwise a field that could not be read → ``manual_review``;
otherwise ``open``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from operators.declaration_balance import Balance, BalanceRule, check_exit
from operators.pregate import Notice, NoticeBook
from operators.size_type import decode

DecisionKind = Literal["open", "divert", "manual_review"]
REASONS = ("no_notice", "notice_conflict", "plate_mismatch", "container_missing", "container_unexpected",
           "size_mismatch", "placard_unexpected", "seal_missing", "unreadable", "degraded_mode", "exit_blocked",
           "package_count_mismatch", "weight_over_10pct")
#: Reasons that send the truck to the other lane.
DIVERT = frozenset({"no_notice", "plate_mismatch", "container_missing", "container_unexpected", "size_mismatch",
                    "placard_unexpected", "seal_missing", "exit_blocked", "package_count_mismatch",
                    "weight_over_10pct"})

#: ``may_exit(container_no, ts) -> (allowed, reason)`` as of event time ``ts``: by default the container tracking
#: flow's answer (:class:`operators.exit_status.ExitStatusBook`, issue 10).
MayExit = Callable[[str, datetime], tuple[bool, str]]


#: ``declared_totals(declaration_no) -> (packages, kg)`` of a declaration, ``None`` if unknown: an override of the
#: release figures the container tracking flow publishes (tests, sites without that flow).
DeclaredTotals = Callable[[str], "tuple[int, float] | None"]


def allow_all_exits(container_no: str, ts: datetime) -> tuple[bool, str]:
    """An explicit opt-out :data:`MayExit`: no container is held (a site without container tracking)."""
    return True, ""


def no_exit_status(container_no: str, ts: datetime) -> tuple[bool, str]:
    """The :data:`MayExit` of an empty exit-status stream: no container is known, none may leave."""
    return False, "no exit status from container tracking (container unknown to the port)"


@dataclass(frozen=True)
class PassageView:
    """What the decision needs from a fused passage.

    Attributes:
        passage_id: The passage.
        gate_id: Gate.
        lane_id: Lane (the barrier to drive).
        lpr_ts: Event time of the LPR (checkpoint 2) frame; the first frame's time when there is none.
        plate: Fused tractor plate (normalised) or ``None``.
        trailer_plate: Fused trailer plate or ``None``.
        containers: Valid container codes read.
        size_type: Fused size/type code or ``None``.
        hazard_placard: Placard seen (``None``: no camera could tell).
        seal: Seal seen on the doors (``None``: no camera faced the doors).
        review_reasons: Why the fusion could not settle a field.
        frames: Archive keys of every frame of the passage (the evidence).
        received_wall: Wall-clock time the LPR frame entered the flow (for the measured latency), if known.
    """

    passage_id: str
    gate_id: str
    lane_id: str
    lpr_ts: datetime
    plate: str | None
    trailer_plate: str | None
    containers: tuple[str, ...]
    size_type: str | None
    hazard_placard: bool | None
    seal: bool | None
    review_reasons: tuple[str, ...] = ()
    frames: tuple[str, ...] = ()
    received_wall: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """A barrier decision with its reasons and evidence."""

    passage: PassageView
    decision: DecisionKind
    reasons: tuple[str, ...]
    details: tuple[str, ...]
    notice: Notice | None
    degraded: bool = False
    risk_flags: tuple[str, ...] = field(default=())

    @property
    def notice_id(self) -> str | None:
        """The notice the passage was judged against."""
        return self.notice.notice_id if self.notice else None


@dataclass(frozen=True)
class DecisionPolicy:
    """Configurable limits of the decision.

    Attributes:
        outage_after: Pre-gate feed silence after which passages are admitted in degraded mode (G8).
        may_exit: Exit check override (``None``: the container tracking flow's exit-status stream).
        declared_totals: Release figures override for the gate-out balance (``None``: the exit-status stream).
        balance_rule: Warning band and block threshold of the kg difference (G9; B.3.2.5–7).
        exit_match_window: How long after the barrier the port's ``gate_out`` of the same vehicle may be stamped
            (a vehicle the gate let out and the port reported is deducted once).
    """

    outage_after: timedelta = timedelta(minutes=30)
    may_exit: MayExit | None = None
    declared_totals: DeclaredTotals | None = None
    balance_rule: BalanceRule = field(default_factory=BalanceRule)
    exit_match_window: timedelta = timedelta(hours=2)


def _same_size(read: str, notified: str) -> bool:
    a, b = decode(read), decode(notified)
    if a is None or b is None:
        return read == notified
    return a.length_ft == b.length_ft and a.type_group == b.type_group


def check_notice(p: PassageView, n: Notice, policy: DecisionPolicy, balance: Balance | None = None,
                 may_exit: MayExit | None = None) -> tuple[list[str], list[str]]:
    """Field rules of one passage against one notice; returns ``(reason codes, details)``.

    ``balance`` is the declaration's balance before this vehicle (gate-out with package and kg figures;
    ``None``: no release recorded). ``may_exit`` answers for the containers (default: ``policy.may_exit``, else
    no container may leave).
    """
    reasons: list[str] = []
    details: list[str] = []

    def add(code: str, detail: str) -> None:
        if code not in reasons:
            reasons.append(code)
        details.append(f"{code}: {detail}")

    if p.trailer_plate is not None and n.trailer_plate is not None and p.trailer_plate != n.trailer_plate:
        add("plate_mismatch", f"trailer plate read {p.trailer_plate}, notified {n.trailer_plate}")
    expected = [c for c in n.containers if c.load_status != "none"]
    read = set(p.containers)
    if expected and not read:
        add("unreadable", "no container code read with a valid check digit")
    elif read:
        for c in expected:
            if c.number not in read:
                add("container_missing", f"{c.number} notified, not on the truck")
        for code in sorted(read - {c.number for c in expected}):
            add("container_unexpected", f"{code} read, not notified")
    sized = [c for c in expected if c.size_type]
    if sized and read:
        if p.size_type is None:
            add("unreadable", "size/type code not read")
        else:
            for c in sized:
                if c.number in read and c.size_type is not None and not _same_size(p.size_type, c.size_type):
                    add("size_mismatch", f"{c.number}: read {p.size_type}, notified {c.size_type}")
    if p.hazard_placard and not n.hazardous:
        add("placard_unexpected", "dangerous-goods placard on a notice without hazardous goods")
    if any(c.load_status == "full" for c in expected):
        if p.seal is False:
            add("seal_missing", "full container without a seal on the doors")
        elif p.seal is None and read:
            add("unreadable", "doors not seen: seal unknown")
    if n.direction == "out":
        ask = may_exit or policy.may_exit or no_exit_status
        for c in expected:
            ok, why = ask(c.number, p.lpr_ts)
            if not ok:
                add("exit_blocked", f"{c.number}: {why}")
        figures = exit_figures(n)
        if figures is not None and balance is None:
            add("exit_blocked", f"no release (storage exit slip / declaration) recorded for declaration "
                                f"{n.declaration_no} (A.5.2)")
        elif balance is not None and figures is not None:
            chk = check_exit(balance, *figures, policy.balance_rule)
            for r in chk.reasons:
                add(r, f"{figures[0]} packages / {figures[1]:g} kg against {balance.remaining_packages} packages "
                       f"remaining of {balance.declared_packages} / {balance.declared_kg:g} kg declared")
            details += [f"warning: {w}" for w in chk.warnings]
    return reasons, details


def exit_figures(n: Notice) -> tuple[int, float] | None:
    """``(package_count, weight_kg)`` of a gate-out notice with a declaration number, when both are given."""
    pk, kg = n.extra.get("package_count"), n.extra.get("weight_kg")
    if n.direction != "out" or not n.declaration_no or not isinstance(pk, int) or not isinstance(kg, int | float):
        return None
    return pk, float(kg)


def _verdict(reasons: list[str]) -> DecisionKind:
    if any(r in DIVERT for r in reasons):
        return "divert"
    if reasons:
        return "manual_review"
    return "open"


def decide(p: PassageView, book: NoticeBook, policy: DecisionPolicy, feed_last_ts: datetime | None,
           balance_of: Callable[[Notice], Balance | None] | None = None,
           may_exit: MayExit | None = None) -> Decision:
    """The barrier decision for a passage at its LPR time.

    Args:
        p: The fused passage.
        book: Notices (queried as of ``p.lpr_ts``).
        policy: Limits and the exit check.
        feed_last_ts: Event time of the latest notice received before the passage (``None``: never); the
            feed counts as down when it is older than ``policy.outage_after``.
        balance_of: The declaration balance before this vehicle, for a gate-out notice (``None`` from it: no
            release recorded; no ``balance_of``: none is ever recorded).
        may_exit: The containers' exit answers (default: ``policy.may_exit``, else none may leave).

    Returns:
        The decision.
    """
    t = p.lpr_ts
    if p.plate is None:
        return Decision(p, "manual_review", ("unreadable",), ("unreadable: plate not read",), None)
    notices = book.for_plate(p.plate, t, p.passage_id)
    if len(notices) > 1:
        ids = ", ".join(n.notice_id for n in notices)
        return Decision(p, "manual_review", ("notice_conflict",), (f"notice_conflict: open notices {ids}",), None)
    if not notices:
        by_container = book.for_containers(p.containers, t, p.passage_id) if p.containers else []
        if by_container:
            n = by_container[0]
            return Decision(p, "divert", ("plate_mismatch",),
                            (f"plate_mismatch: read {p.plate}, notice {n.notice_id} names {n.plate}",), n)
        down = feed_last_ts is None or t - feed_last_ts > policy.outage_after
        if down:
            return Decision(p, "open", ("degraded_mode",),
                            ("degraded_mode: pre-gate feed silent, admitted without a record (C.2.1)",), None,
                            degraded=True)
        expired = book.expired_for_plate(p.plate, t)
        why = f"expired notice {expired[-1].notice_id}" if expired else f"no notice for {p.plate}"
        return Decision(p, "divert", ("no_notice",), (f"no_notice: {why}",), None)
    n = notices[0]
    reasons, details = check_notice(p, n, policy, balance_of(n) if balance_of else None, may_exit)
    flags = ("hazardous_without_placard",) if n.hazardous and p.hazard_placard is False else ()
    return Decision(p, _verdict(reasons), tuple(reasons), tuple(details), n, risk_flags=flags)
