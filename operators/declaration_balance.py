"""Package and kg balance of a declaration leaving the port on several vehicles: one rule, gate and containers.

The rule (circular 2017/3 "Konteyner ve Liman Takip Sistemi", ``seeds/konteyner-liman-takip-genelgesi.txt``;
requirements G7, G9; issue 5 "a difference above 10 % in kg or any difference in package count blocks"):

- A.5.2 (fourth part, item 2): the packages/kg the port reports for an exit are compared with the storage exit
  slip / declaration.
- A.5.3: goods of one declaration leaving on several vehicles are deducted, packages and kg, from the
  declaration's balance in the Container and Port Tracking System.
- B.3.2.5(a)–(b) (second part, item 5): the packages of the exit against the declaration's total; *any*
  difference in the package count is refused.
- B.3.2.5(c): a kg difference gives a warning (:attr:`BalanceRule.warn_pct`, default 0: any difference).
- B.3.2.6–7: a kg difference above 10 % is reported and the goods may not leave/be loaded
  (:attr:`BalanceRule.block_pct`, default 10). Exactly 10 % is not above it.

Per vehicle (:func:`check_exit`): more packages than remain (or none) blocks with ``package_count_mismatch``.
The kg figure can only be judged in full when the vehicle takes the last packages: then the total that left
is compared with the declared kg (above ``block_pct`` → ``weight_over_10pct``, above ``warn_pct`` → warning
``weight_difference``). While packages remain, only an excess beyond ``block_pct`` of the declared kg can
already be judged (blocks). The reason code keeps its historical name ``weight_over_10pct`` whatever the
configured percentage.

The gate decisions (:mod:`operators.gate_decision`) call :func:`check_exit` for the vehicle at the barrier; the
containers flow keeps a :class:`DeclarationBalance` per declaration (release and every ``gate_out``) and
raises alerts with the same rule after the fact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from operators.alert_ledger import AlertLedger
from operators.alerts import Alert
from operators.events import iso_ms
from operators.port_events import PortEvent

PACKAGE_MISMATCH = "package_count_mismatch"
WEIGHT_BLOCK = "weight_over_10pct"
WEIGHT_WARNING = "weight_difference"


@dataclass(frozen=True)
class BalanceRule:
    """The warning band and the block threshold of the kg difference (B.3.2.5(c), B.3.2.6–7).

    Attributes:
        warn_pct: A kg difference above this % of the declared kg is a warning (B.3.2.5(c): any difference, 0).
        block_pct: A kg difference above this % blocks the exit (B.3.2.7: 10 %).

    Raises:
        ValueError: When the percentages are negative or the warning band exceeds the block threshold.
    """

    warn_pct: float = 0.0
    block_pct: float = 10.0

    def __post_init__(self) -> None:
        if not 0 <= self.warn_pct <= self.block_pct:
            raise ValueError(f"balance rule needs 0 <= warn_pct <= block_pct, got {self.warn_pct}, {self.block_pct}")


def above(difference: float, declared: float, pct: float) -> bool:
    """Whether ``difference`` is strictly above ``pct`` % of ``declared`` (exactly at the limit is not above).

    Float noise at the limit (``33 000 * 1.1``) counts as equal: the comparison tolerates 1e-9 relative.

    Args:
        difference: Absolute kg difference.
        declared: Declared kg.
        pct: Percentage of ``declared``.

    Returns:
        The verdict.
    """
    limit = abs(declared) * pct / 100.0
    return difference > limit and not math.isclose(difference, limit, rel_tol=1e-9, abs_tol=1e-9)


def judge_kg(declared_kg: float, kg: float, rule: BalanceRule) -> Literal["ok", "warning", "block"]:
    """The kg figure of a complete exit against the declared kg (B.3.2.5(c), B.3.2.6–7).

    Args:
        declared_kg: Declared (released) kg.
        kg: Kg that left (or that the exit notice declares).
        rule: Warning band and block threshold.

    Returns:
        ``block`` above ``block_pct``, ``warning`` above ``warn_pct`` (and any non-zero difference), else ``ok``.
    """
    diff = abs(kg - declared_kg)
    if above(diff, declared_kg, rule.block_pct):
        return "block"
    if above(diff, declared_kg, rule.warn_pct) and not math.isclose(diff, 0.0, abs_tol=1e-9):
        return "warning"
    return "ok"


@dataclass(frozen=True)
class Balance:
    """A declaration's totals and what already left.

    Attributes:
        declared_packages: Packages released/declared.
        declared_kg: Kg released/declared.
        removed_packages: Packages that left.
        removed_kg: Kg that left.
    """

    declared_packages: int
    declared_kg: float
    removed_packages: int = 0
    removed_kg: float = 0.0

    @property
    def remaining_packages(self) -> int:
        """Packages still to leave (negative: more left than declared)."""
        return self.declared_packages - self.removed_packages

    @property
    def remaining_kg(self) -> float:
        """Kg still to leave."""
        return self.declared_kg - self.removed_kg

    def deduct(self, packages: int, kg: float) -> Balance:
        """The balance after a vehicle carrying ``packages`` / ``kg`` left (A.5.3)."""
        return Balance(self.declared_packages, self.declared_kg, self.removed_packages + packages,
                       self.removed_kg + kg)


@dataclass(frozen=True)
class ExitCheck:
    """The verdict for one vehicle.

    Attributes:
        reasons: Blocking reason codes (``package_count_mismatch``, ``weight_over_10pct``).
        warnings: Warning codes (``weight_difference``).
        after: The balance after the vehicle, if it leaves.
    """

    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    after: Balance


def check_exit(balance: Balance, packages: int, kg: float, rule: BalanceRule | None = None) -> ExitCheck:
    """Judge one vehicle's packages and kg against the declaration's balance (A.5.2–3, B.3.2.5–7).

    Args:
        balance: The declaration's totals and what already left before this vehicle.
        packages: Packages on this vehicle.
        kg: Kg on this vehicle.
        rule: Warning band and block threshold (default: any difference warns, above 10 % blocks).

    Returns:
        Blocking reasons, warnings and the balance after the vehicle.
    """
    rule = rule or BalanceRule()
    reasons: list[str] = []
    warnings: list[str] = []
    after = balance.deduct(packages, kg)
    if packages <= 0 or packages > balance.remaining_packages:
        reasons.append(PACKAGE_MISMATCH)
    if after.remaining_packages == 0:
        verdict = judge_kg(balance.declared_kg, after.removed_kg, rule)
        if verdict == "block":
            reasons.append(WEIGHT_BLOCK)
        elif verdict == "warning":
            warnings.append(WEIGHT_WARNING)
    elif after.removed_kg > balance.declared_kg and above(after.removed_kg - balance.declared_kg,
                                                          balance.declared_kg, rule.block_pct):
        reasons.append(WEIGHT_BLOCK)
    return ExitCheck(tuple(reasons), tuple(warnings), after)


@dataclass(frozen=True)
class Withdrawal:
    """One vehicle's exit under the declaration (a ``gate_out`` with figures).

    Attributes:
        ts: Event time of the exit.
        event_id: The exit event.
        container_no: Container on the vehicle (empty for loose cargo).
        plate: Tractor plate.
        packages: Packages on the vehicle.
        kg: Kg on the vehicle.
    """

    ts: datetime
    event_id: str
    container_no: str
    plate: str
    packages: int
    kg: float

    def record(self) -> dict[str, Any]:
        """JSON form (the exit-status contract, ``docs/contracts-port.md``)."""
        return {"event_id": self.event_id, "ts": iso_ms(self.ts), "container_no": self.container_no,
                "plate": self.plate, "packages": self.packages, "kg": self.kg}


@dataclass
class DeclarationBalance:
    """Released quantities of one declaration and the vehicles that left under it (pure; fed in any order).

    Attributes:
        declaration_no: The declaration.
        rule: Warning band and block threshold of the kg difference.
        released_packages: Packages released (``None`` until the release is known, A.5.2).
        released_kg: Kg released.
        released_ts: Event time of the release.
        withdrawals: Exits by event id.
        ledger: Alerts emitted.
        flow: Flow name recorded on alerts.
    """

    declaration_no: str
    rule: BalanceRule = field(default_factory=BalanceRule)
    released_packages: int | None = None
    released_kg: float | None = None
    released_ts: datetime | None = None
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
        """Kg still to leave."""
        if self.released_kg is None:
            return None
        return self.released_kg - sum(w.kg for w in self.withdrawals.values())

    def on_event(self, ev: PortEvent) -> list[Alert]:
        """Take a ``declaration_released`` or a ``gate_out`` under this declaration; returns alert changes."""
        if ev.event == "declaration_released":
            self.released_packages, self.released_kg = int(ev.get("package_count")), float(ev.get("gross_kg"))
            self.released_ts = ev.ts
        elif ev.event == "gate_out":
            self.withdrawals[ev.event_id] = Withdrawal(
                ev.ts, ev.event_id, ev.container_no, ev.text("plate"), int(ev.get("package_count") or 0),
                float(ev.get("gross_kg") or 0))
        return self.ledger.update(self.findings(), ev.ts)

    def findings(self) -> list[Alert]:
        """Each vehicle judged by :func:`check_exit` in event-time order.

        Alerts: the first vehicle that overdrew the packages, the first beyond the kg threshold, and a kg
        warning when the last package left with a difference within it.
        """
        if self.released_packages is None or self.released_kg is None:
            return []
        alerts: list[Alert] = []
        balance = Balance(self.released_packages, self.released_kg)
        over_p = over_kg = False
        rule = self.rule
        for w in sorted(self.withdrawals.values(), key=lambda x: (x.ts, x.event_id)):
            chk = check_exit(balance, w.packages, w.kg, rule)
            balance = chk.after
            common = {"released_packages": self.released_packages, "released_kg": self.released_kg,
                      "out_packages": balance.removed_packages, "out_kg": round(balance.removed_kg, 3),
                      "container_no": w.container_no, "plate": w.plate, "exit_event_id": w.event_id,
                      "exit_ts": iso_ms(w.ts)}
            limits = {"tolerance_pct": rule.block_pct, "warn_pct": rule.warn_pct, "block_pct": rule.block_pct}
            if not over_p and PACKAGE_MISMATCH in chk.reasons:
                over_p = True
                alerts.append(Alert("exit_over_declared_packages", "critical", "declaration", self.declaration_no,
                                    w.ts, w.ts, f"{w.packages} packages left the port on {w.plate or '?'} under "
                                    f"declaration {self.declaration_no} ({balance.removed_packages} in all), "
                                    f"{self.released_packages} were released: any package difference blocks "
                                    "(A.5.3, B.3.2.5(b)).", common, self.flow))
            if not over_kg and WEIGHT_BLOCK in chk.reasons:
                over_kg = True
                alerts.append(Alert("exit_over_declared_weight", "critical", "declaration", self.declaration_no,
                                    w.ts, w.ts, f"{balance.removed_kg:.0f} kg left the port under declaration "
                                    f"{self.declaration_no}, {self.released_kg:.0f} kg were released: more than "
                                    f"{rule.block_pct:g} % off (A.5.2–3, B.3.2.7).", {**common, **limits},
                                    self.flow))
            if WEIGHT_WARNING in chk.warnings:
                alerts.append(Alert("exit_weight_difference", "warning", "declaration", self.declaration_no,
                                    w.ts, w.ts, f"{balance.removed_kg:.0f} kg left the port under declaration "
                                    f"{self.declaration_no}, {self.released_kg:.0f} kg were released (within "
                                    f"{rule.block_pct:g} %: warning, B.3.2.5(c)).", {**common, **limits},
                                    self.flow))
        return alerts

    @property
    def complete(self) -> bool:
        """Whether every released package has left (the balance can be forgotten)."""
        return self.packages_left == 0 and bool(self.withdrawals)

    def status(self) -> dict[str, Any]:
        """The declaration's exit status for the gate (``containers.exit_status``, ``docs/contracts-port.md``).

        Returns:
            The message body: release figures and time (``None`` until released) and every exit with figures.
        """
        exits = sorted(self.withdrawals.values(), key=lambda x: (x.ts, x.event_id))
        return {"kind": "declaration", "declaration_no": self.declaration_no,
                "released_packages": self.released_packages, "released_kg": self.released_kg,
                "released_ts": iso_ms(self.released_ts) if self.released_ts else None,
                "exits": [w.record() for w in exits]}
