"""Package and kg balance of a declaration whose goods leave the port on several vehicles (A.5.2–3, G7).

Customs releases a declaration's goods from temporary storage with a package count and a weight (the
storage exit slip / declaration); each vehicle that leaves under the declaration deducts what it carries.
Leaving with more packages than remain, or more weight than remains beyond a tolerance, is reported.
:func:`exit_allowance` answers the gate's question for the next vehicle ("may N packages / kg leave under
this declaration?") from the same balance — the gate decisions flow uses it, so there is one implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from operators.alert_ledger import AlertLedger
from operators.alerts import Alert
from operators.events import iso_ms
from operators.port_events import PortEvent


@dataclass(frozen=True)
class Withdrawal:
    """One vehicle's exit under the declaration."""

    ts: datetime
    event_id: str
    container_no: str
    plate: str
    packages: int
    kg: float


@dataclass
class DeclarationBalance:
    """Released quantities of one declaration and what has left so far (pure; fed in any order).

    Attributes:
        declaration_no: The declaration.
        kg_tolerance_pct: Weight beyond the released weight tolerated, in % of it.
        released_packages: Packages released (``None`` until the release is known).
        released_kg: Weight released.
        withdrawals: Exits by event id.
        ledger: Alerts emitted.
        flow: Flow name recorded on alerts.
    """

    declaration_no: str
    kg_tolerance_pct: float = 2.0
    released_packages: int | None = None
    released_kg: float | None = None
    withdrawals: dict[str, Withdrawal] = field(default_factory=dict)
    ledger: AlertLedger = field(default_factory=AlertLedger)
    flow: str = "containers"

    @property
    def packages_left(self) -> int | None:
        """Packages still to leave (negative: more left than released)."""
        if self.released_packages is None:
            return None
        return self.released_packages - sum(w.packages for w in self.withdrawals.values())

    @property
    def kg_left(self) -> float | None:
        """Weight still to leave."""
        if self.released_kg is None:
            return None
        return self.released_kg - sum(w.kg for w in self.withdrawals.values())

    def on_event(self, ev: PortEvent) -> list[Alert]:
        """Take a ``declaration_released`` or a ``gate_out`` under this declaration; returns alert changes."""
        if ev.event == "declaration_released":
            self.released_packages, self.released_kg = int(ev.get("package_count")), float(ev.get("gross_kg"))
        elif ev.event == "gate_out":
            self.withdrawals[ev.event_id] = Withdrawal(
                ev.ts, ev.event_id, ev.container_no, ev.text("plate"), int(ev.get("package_count") or 0),
                float(ev.get("gross_kg") or 0))
        return self.ledger.update(self.findings(), ev.ts)

    def findings(self) -> list[Alert]:
        """The first exit (in event time) that took more packages, and more weight, than were released."""
        if self.released_packages is None or self.released_kg is None:
            return []
        alerts: list[Alert] = []
        limit_kg = self.released_kg * (1 + self.kg_tolerance_pct / 100)
        packages = 0
        kg = 0.0
        over_p = over_kg = False
        for w in sorted(self.withdrawals.values(), key=lambda x: (x.ts, x.event_id)):
            packages += w.packages
            kg += w.kg
            common = {"released_packages": self.released_packages, "released_kg": self.released_kg,
                      "out_packages": packages, "out_kg": round(kg, 3), "container_no": w.container_no,
                      "plate": w.plate, "exit_event_id": w.event_id, "exit_ts": iso_ms(w.ts)}
            if not over_p and packages > self.released_packages:
                over_p = True
                alerts.append(Alert("exit_over_declared_packages", "critical", "declaration", self.declaration_no,
                                    w.ts, w.ts, f"{packages} packages left the port under declaration "
                                    f"{self.declaration_no}, {self.released_packages} were released (A.5.3).",
                                    common, self.flow))
            if not over_kg and kg > limit_kg:
                over_kg = True
                alerts.append(Alert("exit_over_declared_weight", "critical", "declaration", self.declaration_no,
                                    w.ts, w.ts, f"{kg:.0f} kg left the port under declaration {self.declaration_no}, "
                                    f"{self.released_kg:.0f} kg were released (+{self.kg_tolerance_pct:g} % "
                                    "tolerated, A.5.2–3).", {**common, "tolerance_pct": self.kg_tolerance_pct},
                                    self.flow))
        return alerts

    @property
    def complete(self) -> bool:
        """Whether every released package has left (the balance can be forgotten)."""
        return self.packages_left == 0 and bool(self.withdrawals)


def exit_allowance(balance: DeclarationBalance | None, packages: int, kg: float) -> tuple[bool, str]:
    """May a vehicle carrying ``packages`` / ``kg`` leave under this declaration now?

    Args:
        balance: The declaration's balance (``None``: no release recorded).
        packages: Packages on the vehicle.
        kg: Weight on the vehicle.

    Returns:
        ``(allowed, reason)``; the reason is empty when allowed.
    """
    if balance is None or balance.packages_left is None or balance.kg_left is None:
        return False, "no release (storage exit slip / declaration) recorded for the declaration"
    if packages > balance.packages_left:
        return False, f"{packages} packages on the vehicle, {balance.packages_left} left on the declaration"
    assert balance.released_kg is not None
    slack = balance.released_kg * balance.kg_tolerance_pct / 100
    if kg > balance.kg_left + slack:
        return False, f"{kg:.0f} kg on the vehicle, {balance.kg_left:.0f} kg left on the declaration"
    return True, ""
