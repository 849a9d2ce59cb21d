"""Input validation and range checks shared by the scalar and the batch paths.

Each check is a closed interval with a message template. The scalar path
stops at the first failing check and raises; the batch path applies the
same checks in the same order to whole columns and keeps the first message
per row, so a row's error text equals the scalar path's exception text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from operators.vcf import lpg_tp27
from operators.vcf.api_11_1 import KPA_PER_PSI
from operators.vcf.backend import FloatArray
from operators.vcf.errors import VcfError
from operators.vcf.groups import ALPHA60_RANGE_PER_F, PRESSURE_MAX_PSI, TEMP_RANGE_C, GroupSpec, Method
from operators.vcf.rounding import INC_ALPHA_PER_F, round_to_increment

T = TypeVar("T")


@dataclass(frozen=True)
class Interval:
    """A closed allowed range for one input or result.

    Attributes:
        what: What is checked, e.g. ``"temperature"``.
        lo: Lowest allowed value.
        hi: Highest allowed value.
        unit: Unit of ``lo``, ``hi`` and the value, for the message.
        reference: Where the limit comes from, appended to the message.
    """

    what: str
    lo: float
    hi: float
    unit: str
    reference: str

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the range (NaN never does)."""
        return self.lo <= value <= self.hi

    def contains_array(self, value: FloatArray) -> NDArray[np.bool_]:
        """Element-wise :meth:`contains`."""
        return (value >= self.lo) & (value <= self.hi)

    def message(self, value: float) -> str:
        """Human message for a value outside the range."""
        return (
            f"{self.what} {value:.10g} {self.unit} outside the allowed range "
            f"{self.lo:.10g}…{self.hi:.10g} {self.unit} ({self.reference})"
        )


def not_finite_message(what: str, value: float) -> str:
    """Human message for a NaN or infinite input."""
    return f"{what} is not a finite number: {value!r}"


def first_failure(checks: Sequence[tuple[Interval, float]]) -> str | None:
    """Scalar path: the message of the first failing check, or ``None``.

    Args:
        checks: ``(interval, value)`` pairs in the order to check.

    Returns:
        The first failure's message, or ``None`` when all pass.
    """
    for interval, value in checks:
        if not interval.contains(value):
            return interval.message(value)
    return None


class RowErrors:
    """Batch path: per-row error messages, first failure wins.

    Args:
        size: Number of rows.
    """

    def __init__(self, size: int) -> None:
        self.bad: NDArray[np.bool_] = np.zeros(size, dtype=bool)
        self.messages: list[str | None] = [None] * size

    def flag(self, failing: NDArray[np.bool_], message_for: Callable[[int], str]) -> None:
        """Record a message for failing rows that have no error yet.

        Args:
            failing: Mask of rows failing this check.
            message_for: Builds the message for a row index (called for new failures only).
        """
        new = failing & ~self.bad
        if not new.any():
            return
        for i in np.flatnonzero(new).tolist():
            self.messages[i] = message_for(i)
        self.bad |= new

    def check(self, interval: Interval, values: FloatArray) -> None:
        """Apply one interval to a column (NaN fails, like in the scalar path)."""
        self.flag(~interval.contains_array(values), lambda i: interval.message(float(values[i])))


# ----------------------------------------------------------------------------------------------
# the limits of the product groups
# ----------------------------------------------------------------------------------------------

TEMP_API = Interval("temperature", *TEMP_RANGE_C, "°C", "API MPMS 11.1-2004 limits −58…302 °F")
"""Temperature limits of API MPMS 11.1."""
TEMP_LPG = Interval("temperature", *lpg_tp27.TEMP_RANGE_C, "°C", "GPA TP-27 scope")
"""Temperature limits of GPA TP-27."""
PRESSURE_API = Interval(
    "gauge pressure", 0.0, PRESSURE_MAX_PSI * KPA_PER_PSI, "kPa", "API MPMS 11.1-2004 limits 0…1500 psig"
)
"""Gauge pressure limits of API MPMS 11.1 (after negative values are set to 0)."""


def density_interval(spec: GroupSpec) -> Interval:
    """Limits on the input density (observed, or at 15 °C) of a group."""
    ref = (
        "project sanity range; the TP-27 scope applies to Γ60"
        if spec.method is Method.LPG
        else f"API MPMS 11.1-2004 §11.1.6.2 input limits for {spec.name}"
    )
    return Interval("density", *spec.rho_obs_range, "kg/m³", ref)


def input_checks(spec: GroupSpec, temp_c: T, pressure_kpa: T, density_kgm3: T) -> list[tuple[Interval, T]]:
    """The input checks of a group, in the order both paths apply them.

    Args:
        spec: Product group.
        temp_c: Temperature(s), °C.
        pressure_kpa: Gauge pressure(s), kPa, already ≥ 0 (not checked for LPG).
        density_kgm3: Input density (densities), kg/m³.

    Returns:
        ``(interval, value)`` pairs.
    """
    if spec.method is Method.LPG:
        return [(TEMP_LPG, temp_c), (density_interval(spec), density_kgm3)]
    return [(TEMP_API, temp_c), (PRESSURE_API, pressure_kpa), (density_interval(spec), density_kgm3)]


def rho60_message(spec: GroupSpec, rho60: float, converged: bool) -> str:
    """Error text when §11.1.6.2 gives no usable base density.

    Either the iteration did not converge in 15 steps (or diverged), or it
    converged outside the group's ρ60 range. ρ60 is printed to 0.1 kg/m³ so that
    the scalar and the batch path, whose unrounded ρ60 may differ in the last
    bits, give the same text.
    """
    lo, hi = spec.rho60_range
    if not converged or math.isnan(rho60):
        return (
            f"no base density ρ60 for {spec.name}: the API MPMS 11.1-2004 §11.1.6.2 iteration did not "
            f"converge (the density and temperature are outside what the {spec.name} correlation covers)"
        )
    return (
        f"base density ρ60 {rho60:.1f} kg/m³ outside the allowed range {lo:.10g}…{hi:.10g} kg/m³ "
        f"(API MPMS 11.1-2004 range for {spec.name})"
    )


def checked_alpha60(spec: GroupSpec, alpha60_per_f: float | None, round_inputs: bool) -> float | None:
    """Validate the call-level α60 argument.

    Args:
        spec: Product group.
        alpha60_per_f: The caller's α60 in 1/°F, or ``None``.
        round_inputs: Round α60 to 0.1e-6 /°F first (§11.1.5.4).

    Returns:
        α60 for special applications and biodiesel, ``None`` for the other groups.

    Raises:
        VcfError: If α60 is missing, not a number, out of range, or given for a
            group that does not use it.
    """
    if not spec.needs_alpha:
        if alpha60_per_f is not None:
            raise VcfError(f"alpha60_per_f applies only to the 'special' and 'biodiesel' groups, not to {spec.name!r}")
        return None
    if alpha60_per_f is None:
        why = (
            "biodiesel (FAME) is not covered by API MPMS 11.1; it is corrected as a special application (C) and "
            if spec.name == "biodiesel"
            else "the special-application group (C) "
        )
        raise VcfError(f"{why}needs alpha60_per_f, the thermal expansion coefficient at 60 °F in 1/°F")
    alpha = as_float(alpha60_per_f, "alpha60_per_f")
    if round_inputs:
        alpha = round_to_increment(alpha, INC_ALPHA_PER_F)
    lo, hi = ALPHA60_RANGE_PER_F
    if not lo <= alpha <= hi:
        raise VcfError(
            f"alpha60_per_f {alpha:.10g} 1/°F outside the allowed range {lo:g}…{hi:g} 1/°F "
            "(API MPMS 11.1-2004 special applications)"
        )
    return alpha


def as_float(value: object, what: str) -> float:
    """Convert a scalar input to a finite float or raise :class:`VcfError`."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise VcfError(f"{what} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise VcfError(not_finite_message(what, number))
    return number
