"""Decimal-increment rounding of API MPMS 11.1-2004 §11.1.5.4.

A value is divided by its rounding increment, rounded to the nearest integer
and multiplied back. Exact halves (within a tolerance of 1e-7 of the
increment, because binary floating point rarely yields an exact .5) go to the
even integer; rounding is symmetric about zero. The same function rounds a
Python float (with :mod:`math`) or a NumPy array (element-wise).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import overload

import numpy as np

from operators.vcf.backend import FloatArray

TIE_TOLERANCE = 1e-7
"""A fractional part within this distance of 0.5 (in increments) is a tie."""

# Rounding increments of §11.1.5.4 (research note §1.5) and of TP-27 (§2.2).
INC_FACTOR = 0.00001
"""CTL, CPL and CTPL."""
INC_DENSITY_KGM3 = 0.1
"""Density in kg/m³ (inputs and the reported base density)."""
INC_TEMP_C = 0.05
"""Temperature in °C."""
INC_TEMP_F = 0.1
"""Temperature in °F."""
INC_PRESSURE_KPA = 5.0
"""Gauge pressure in kPa."""
INC_PRESSURE_PSI = 1.0
"""Gauge pressure in psi."""
INC_ALPHA_PER_F = 0.1e-6
"""Thermal expansion coefficient α60 in 1/°F."""
INC_FP_PER_KPA = 0.0001
"""Scaled compressibility factor Fp in 1/kPa."""
INC_RELATIVE_DENSITY = 0.0001
"""Relative density (TP-27 Γ60)."""


@lru_cache(maxsize=64)
def _as_ratio(increment: float) -> tuple[int, int]:
    """Return the increment as an exact decimal ratio (numerator, denominator).

    Args:
        increment: A positive decimal increment such as 0.05 or 5.

    Returns:
        ``(num, den)`` with ``num / den`` equal to the decimal the float was
        written as (``0.05`` gives ``(1, 20)``).

    Raises:
        ValueError: If the increment is not a positive finite number.
    """
    if not (math.isfinite(increment) and increment > 0.0):
        raise ValueError(f"rounding increment must be a positive number, got {increment!r}")
    ratio = Fraction(repr(float(increment))).limit_denominator(10**15)
    return ratio.numerator, ratio.denominator


@overload
def round_to_increment(value: float, increment: float) -> float: ...


@overload
def round_to_increment(value: FloatArray, increment: float) -> FloatArray: ...


def round_to_increment(value: float | FloatArray, increment: float) -> float | FloatArray:
    """Round to a decimal increment, ties to even, symmetric about zero.

    Args:
        value: A float, or a float64 array rounded element-wise. NaN and
            infinities are returned unchanged.
        increment: The rounding increment, e.g. ``0.00001`` or ``5.0``.

    Returns:
        The rounded value, of the same kind as ``value``. The result is the
        double nearest to ``n × increment`` for an integer ``n``.

    Examples:
        >>> round_to_increment(0.125, 0.01), round_to_increment(-0.135, 0.01)
        (0.12, -0.14)
    """
    num, den = _as_ratio(increment)
    if isinstance(value, np.ndarray):
        return _round_array(value.astype(np.float64, copy=False), num, den)
    return _round_scalar(float(value), num, den)


def _round_scalar(value: float, num: int, den: int) -> float:
    if not math.isfinite(value):
        return value
    scaled = value * (den / num)
    whole = round(scaled)  # nearest integer; exact halves already go to even
    off = scaled - whole
    if abs(off) > 0.5 - TIE_TOLERANCE and whole % 2:
        # a tie within the tolerance that landed on the odd neighbour: take the even one
        whole += 1 if off > 0.0 else -1
    return whole * num / den


def _round_array(value: FloatArray, num: int, den: int) -> FloatArray:
    # Same steps as _round_scalar. Signed throughout: rint and the tie rule are symmetric about zero.
    scaled = value * (den / num)
    whole = np.rint(scaled)
    with np.errstate(invalid="ignore"):  # inf - inf for infinite entries; they stay inf
        off = scaled - whole
    tie = np.abs(off) > 0.5 - TIE_TOLERANCE
    if tie.any():
        odd = tie & (np.fmod(whole, 2.0) != 0.0)
        whole[odd] += np.sign(off[odd])
    result: FloatArray = whole * float(num) / float(den)
    return result
