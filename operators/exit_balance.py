"""Gate-out package and weight checks against the declaration's balance (G7, G9; circular A.5.2–3, B.3.2.5–7).

Goods of one declaration may leave on several vehicles: each vehicle's packages and kg are deducted from the
declaration's running balance (A.5.3). A vehicle carrying more packages than remain is refused (B.3.2.5(b):
any package-count difference blocks). The kg figure is judged against the declared total: a difference gives
a warning (B.3.2.5(c)); above 10 % the exit is refused (B.3.2.6–7). Exactly 10 % is not above it. While
vehicles remain to come, only an excess beyond 10 % of the declared kg can already be judged.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Most relative kg difference allowed (B.3.2.7: "farkın %10'u aşması halinde ... izin verilmez").
KG_LIMIT = 0.10


@dataclass(frozen=True)
class Balance:
    """A declaration's totals and what already left."""

    declared_packages: int
    declared_kg: float
    removed_packages: int = 0
    removed_kg: float = 0.0

    @property
    def remaining_packages(self) -> int:
        """Packages still to leave."""
        return self.declared_packages - self.removed_packages


@dataclass(frozen=True)
class ExitCheck:
    """The verdict for one vehicle: blocking reasons, warnings and the balance after it (if it leaves)."""

    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    after: Balance


def check_exit(balance: Balance, packages: int, kg: float) -> ExitCheck:
    """Judge one vehicle's packages and kg against the declaration's balance.

    Args:
        balance: The declaration's totals and what already left.
        packages: Packages on this vehicle (from the gate-out notice).
        kg: Weight on this vehicle.

    Returns:
        Reasons (``package_count_mismatch``, ``weight_over_10pct``), warnings (``weight_difference``) and
        the balance after the vehicle.
    """
    reasons: list[str] = []
    warnings: list[str] = []
    after = Balance(balance.declared_packages, balance.declared_kg, balance.removed_packages + packages,
                    balance.removed_kg + kg)
    if packages <= 0 or packages > balance.remaining_packages:
        reasons.append("package_count_mismatch")
    limit = balance.declared_kg * KG_LIMIT
    if after.remaining_packages == 0:
        diff = abs(after.removed_kg - balance.declared_kg)
        if diff > limit + 1e-9:
            reasons.append("weight_over_10pct")
        elif diff > 1e-9:
            warnings.append("weight_difference")
    elif after.removed_kg - balance.declared_kg > limit + 1e-9:
        reasons.append("weight_over_10pct")
    return ExitCheck(tuple(reasons), tuple(warnings), after)
