"""Early risk flags (G5): computed from a pre-gate notice and the gate's history, before the truck arrives.

Flags:

- ``hazardous_goods``: the notice declares dangerous goods (the officer checks the placard at the gate);
- ``plate_recent_divert``: the tractor was diverted within ``divert_window`` before the notice;
- ``container_inside``: a gate-in notice for a container registered in and not yet out;
- ``notice_after_truck``: the plate passed the gate without an opening notice within ``late_window`` before
  the notice was sent (the notice came after the truck).

The history is bounded: entries older than ``horizon`` behind the newest event are dropped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from operators.gate_decision import Decision
from operators.pregate import Notice

#: Risk flags in the order an alert lists them.
RISK_FLAGS = ("hazardous_goods", "plate_recent_divert", "container_inside", "notice_after_truck")


def _marks(d: Decision) -> tuple[bool, bool]:
    """Whether a decision is a divert, and a passage without an opening notice (what the history records)."""
    return d.decision == "divert", d.notice is None or d.decision != "open"


class RiskHistory:
    """What the gate remembers for risk flags (diverts, containers inside, passages without a notice).

    Args:
        divert_window: How far back a divert of the plate counts.
        late_window: How long after a passage a notice for its plate counts as "after the truck".
        horizon: How long entries are kept (containers inside: the port's dwell time bound).
    """

    def __init__(self, divert_window: timedelta = timedelta(days=7), late_window: timedelta = timedelta(hours=1),
                 horizon: timedelta = timedelta(days=30)) -> None:
        self.divert_window = divert_window
        self.late_window = late_window
        self.horizon = horizon
        self.diverts: dict[str, datetime] = {}
        self.inside: dict[str, datetime] = {}
        self.unnotified: dict[str, datetime] = {}
        self.newest: datetime | None = None
        self.pruned_at: datetime | None = None

    def record(self, d: Decision) -> None:
        """Learn from a decision (diverts, registered containers, passages without an opening notice)."""
        p, t = d.passage, d.passage.lpr_ts
        diverted, unnotified = _marks(d)
        if p.plate is not None and diverted:
            self.diverts[p.plate] = max(t, self.diverts.get(p.plate, t))
        if p.plate is not None and unnotified:
            self.unnotified[p.plate] = max(t, self.unnotified.get(p.plate, t))
        if d.decision == "open" and d.notice is not None:
            for c in d.notice.numbers:
                if d.notice.direction == "in":
                    self.inside[c] = t
                else:
                    self.inside.pop(c, None)
        self._tick(t)

    def flags(self, n: Notice) -> tuple[str, ...]:
        """Risk flags of a notice at its sending time."""
        found = self._passage_flags(n, self.diverts.get(n.plate), self.unnotified.get(n.plate))
        if n.hazardous:
            found.add("hazardous_goods")
        if n.direction == "in" and any(c in self.inside and self.inside[c] <= n.ts for c in n.numbers):
            found.add("container_inside")
        self._tick(n.ts)
        return ordered_flags(found)

    def _passage_flags(self, n: Notice, diverted_at: datetime | None, unnotified_at: datetime | None) -> set[str]:
        """The flags a divert and a passage without a notice of the plate, at those times, give a notice."""
        out = set()
        if diverted_at is not None and n.ts - self.divert_window <= diverted_at <= n.ts:
            out.add("plate_recent_divert")
        if unnotified_at is not None and n.ts - self.late_window <= unnotified_at < n.ts:
            out.add("notice_after_truck")
        return out

    @property
    def lookback(self) -> timedelta:
        """How long after a passage a notice can still get a flag from it."""
        return max(self.divert_window, self.late_window)

    def implied(self, d: Decision, n: Notice) -> set[str]:
        """The flags decision ``d`` gives notice ``n`` (same plate, sent after it).

        What :meth:`flags` would have found had ``d`` been recorded first.
        """
        diverted, unnotified = _marks(d)
        t = d.passage.lpr_ts
        return self._passage_flags(n, t if diverted else None, t if unnotified else None)

    def _tick(self, t: datetime) -> None:
        self.newest = t if self.newest is None else max(self.newest, t)
        if self.pruned_at is not None and self.newest - self.pruned_at < timedelta(hours=1):
            return
        self.pruned_at = self.newest
        cut = self.newest - self.horizon
        for table in (self.diverts, self.inside, self.unnotified):
            for k in [k for k, v in table.items() if v < cut]:
                del table[k]


def ordered_flags(flags: set[str]) -> tuple[str, ...]:
    """Flags in :data:`RISK_FLAGS` order."""
    return tuple(f for f in RISK_FLAGS if f in flags)
