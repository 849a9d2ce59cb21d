"""The simulator's one door to the volume corrections of :mod:`operators.vcf` (API MPMS 11.1).

The simulator runs the standard *forwards*: from the true density at 15 °C to the factor at line or tank
conditions, on whole arrays, with unrounded inputs (the physics is continuous; rounding is what
instruments and reports do).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from operators.vcf import correct_batch

FloatArray = NDArray[np.float64]


def ctpl_from_15c(product_group: str, rho15_kgm3: float, temp_c: FloatArray, pressure_kpa: FloatArray) -> FloatArray:
    """CTPL from 15 °C, 0 gauge to the given conditions: ρ(t, P) = ρ15 · CTPL and GSV = GOV · CTPL.

    Args:
        product_group: The product's correction group (``refined``, ``crude``, …).
        rho15_kgm3: True density at 15 °C.
        temp_c: Temperatures, °C.
        pressure_kpa: Gauge pressures, kPa (same shape as ``temp_c``).

    Returns:
        The unrounded CTPL per element.
    """
    temp = np.asarray(temp_c, dtype=np.float64)
    rho = np.full(temp.shape, rho15_kgm3, dtype=np.float64)
    pressure = np.asarray(pressure_kpa, dtype=np.float64)
    result = correct_batch(product_group, rho, False, temp, pressure, round_inputs=False)
    return _checked(result.ctpl_raw, result.error)


def ctl_from_15c(product_group: str, rho15_kgm3: FloatArray, temp_c: FloatArray) -> FloatArray:
    """CTL from 15 °C to the given temperatures at 0 gauge (tank conditions).

    Args:
        product_group: The product's correction group.
        rho15_kgm3: Densities at 15 °C, one per temperature.
        temp_c: Temperatures, °C.

    Returns:
        The unrounded CTL per element.
    """
    temp = np.asarray(temp_c, dtype=np.float64)
    rho = np.broadcast_to(np.asarray(rho15_kgm3, dtype=np.float64), temp.shape).copy()
    result = correct_batch(product_group, rho, False, temp, np.zeros(temp.shape), round_inputs=False)
    return _checked(result.ctpl_raw, result.error)


def _checked(factor: FloatArray, errors: list[str | None]) -> FloatArray:
    """The factors, or an error naming the first row the standard rejected (the scenario is out of range)."""
    if not np.all(np.isfinite(factor)):
        first = next((e for e in errors if e is not None), "non-finite factor")
        raise ValueError(f"the simulated conditions are outside the correction's limits: {first}")
    return np.asarray(factor, dtype=np.float64)
