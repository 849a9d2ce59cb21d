"""What a stateful check has already said: new or changed alerts are emitted, vanished ones resolved.

Checks that recompute their findings from all the evidence (so an out-of-order event can change them)
hand every recomputation's alerts to an :class:`AlertLedger`; it returns only what the alerts table and
topic need: alerts not seen before, alerts whose evidence changed, and ``resolved`` revisions of alerts
that the evidence no longer supports. Alert ids are deterministic, so the same finding keeps its id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from operators.alerts import Alert


@dataclass
class AlertLedger:
    """The open alerts one check has emitted, by alert id."""

    emitted: dict[str, Alert] = field(default_factory=dict)

    def update(self, current: Iterable[Alert], at: datetime, scope: Iterable[str] | None = None) -> list[Alert]:
        """Reconcile what was emitted with what the evidence now shows.

        Args:
            current: Every alert the check finds now (within ``scope``).
            at: Event time of the recomputation (status time of resolutions).
            scope: Kinds the recomputation covers (default: all kinds); alerts of other kinds are kept.

        Returns:
            New and changed alerts, then resolutions of alerts no longer found.
        """
        kinds = None if scope is None else frozenset(scope)
        now = {a.alert_id: a for a in current}
        out: list[Alert] = []
        for aid, a in now.items():
            old = self.emitted.get(aid)
            if old is None or old.details != a.details or old.severity != a.severity:
                self.emitted[aid] = a
                out.append(a)
        for aid, old in list(self.emitted.items()):
            if aid not in now and (kinds is None or old.kind in kinds):
                del self.emitted[aid]
                out.append(old.with_status("resolved", max(at, old.ts), note="no longer supported by the events"))
        return out
