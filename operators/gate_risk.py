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
        if p.plate is not None and d.decision == "divert":
            self.diverts[p.plate] = max(t, self.diverts.get(p.plate, t))
        if p.plate is not None and (d.notice is None or d.decision != "open"):
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
        out: list[str] = []
        if n.hazardous:
            out.append("hazardous_goods")
        last = self.diverts.get(n.plate)
        if last is not None and n.ts - self.divert_window <= last <= n.ts:
            out.append("plate_recent_divert")
        if n.direction == "in" and any(c in self.inside and self.inside[c] <= n.ts for c in n.numbers):
            out.append("container_inside")
        passed = self.unnotified.get(n.plate)
        if passed is not None and n.ts - self.late_window <= passed < n.ts:
            out.append("notice_after_truck")
        self._tick(n.ts)
        return tuple(out)

    def _tick(self, t: datetime) -> None:
        self.newest = t if self.newest is None else max(self.newest, t)
        if self.pruned_at is not None and self.newest - self.pruned_at < timedelta(hours=1):
            return
        self.pruned_at = self.newest
        cut = self.newest - self.horizon
        for table in (self.diverts, self.inside, self.unnotified):
            for k in [k for k, v in table.items() if v < cut]:
                del table[k]
