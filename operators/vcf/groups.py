"""Commodity groups and their constants (API MPMS 11.1-2004 §11.1.6.1, §11.1.6.2).

Values from the research note §1.1 (API 2003 reference ``constants.h``). The
refined-products group (B) is split into sub-groups *by density*; the caller
may also name a sub-group to force its constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from operators.vcf.backend import FloatArray
from operators.vcf.errors import VcfError


class Method(Enum):
    """How a product group is corrected."""

    FIXED = "fixed"
    """One set of K constants (crude, lube, a named refined sub-group)."""
    REFINED = "refined"
    """Refined products: K constants chosen by ρ60, switching during iteration."""
    SPECIAL = "special"
    """Special application (C): α60 supplied by the caller."""
    LPG = "lpg"
    """Light hydrocarbons: GPA TP-27 / API 11.2.4."""


@dataclass(frozen=True)
class KConstants:
    """K constants and iteration factor of one commodity (sub-)group.

    Attributes:
        name: Sub-group name, for messages.
        k0: K0 in (kg/m³)²/°F.
        k1: K1 in (kg/m³)/°F.
        k2: K2 in 1/°F.
        d_alpha: Dα used in the §11.1.6.2 Newton step.
    """

    name: str
    k0: float
    k1: float
    k2: float
    d_alpha: float


CRUDE = KConstants("crude oil (A)", 341.0957, 0.0, 0.0, 2.0)
GASOLINE = KConstants("gasoline (B)", 192.4571, 0.2438, 0.0, 1.5)
TRANSITION = KConstants("transition zone (B)", 1489.0670, 0.0, -0.00186840, 8.5)
JET = KConstants("jet fuel / kerosene (B)", 330.3010, 0.0, 0.0, 2.0)
FUEL_OIL = KConstants("fuel oil (B)", 103.8720, 0.2701, 0.0, 1.3)
LUBE = KConstants("lubricating oil (D)", 0.0, 0.34878, 0.0, 1.0)

REFINED_SUBGROUPS: tuple[KConstants, ...] = (GASOLINE, TRANSITION, JET, FUEL_OIL)
"""Refined sub-groups in order of increasing density."""
REFINED_BOUNDARIES_KGM3: tuple[float, ...] = (770.3520, 787.5195, 838.3127)
"""ρ60 boundaries between consecutive refined sub-groups (lower bound inclusive)."""

ALPHA60_RANGE_PER_F = (230.0e-6, 930.0e-6)
"""Allowed α60 for special applications (C), 1/°F."""

TEMP_RANGE_C = (-50.0, 150.0)
"""Allowed temperatures for 11.1 (−58…302 °F)."""
PRESSURE_MAX_PSI = 1500.0
"""Upper gauge pressure limit for 11.1; negative gauge pressure is set to 0."""


@dataclass(frozen=True)
class GroupSpec:
    """How one public product group is corrected and its limits.

    Attributes:
        name: Public group name (a member of ``PRODUCT_GROUPS``).
        method: The correction method.
        constants: K constants for :attr:`Method.FIXED`, else ``None``.
        rho60_range: Allowed base density ρ60 (kg/m³) after the iteration.
        rho_obs_range: Allowed observed density (kg/m³) before the iteration.
        needs_alpha: Whether the caller must supply α60.
    """

    name: str
    method: Method
    constants: KConstants | None
    rho60_range: tuple[float, float]
    rho_obs_range: tuple[float, float]
    needs_alpha: bool = False


_RHO60_GENERAL = (610.6, 1163.5)
_RHO60_LUBE = (800.9, 1163.5)
_OBS_CRUDE = (470.5, 1201.8)
_OBS_REFINED = (470.4, 1209.5)
_OBS_LUBE = (714.3, 1208.3)
# LPG: the TP-27 scope (Γ60 0.3500–0.6880) is enforced on the solved Γ60; the observed
# density only gets a sanity range (project choice). ρ60 range = 999.016 × the Γ60 scope.
_LPG_RHO60 = (0.35 * 999.016, 0.688 * 999.016)
_LPG_OBS = (100.0, 1000.0)

# Choices that are ours, not the standard's, are marked "project choice".
GROUPS: dict[str, GroupSpec] = {
    "crude": GroupSpec("crude", Method.FIXED, CRUDE, _RHO60_GENERAL, _OBS_CRUDE),
    # Named refined sub-groups: fixed constants, refined-product limits (project choice).
    "gasoline": GroupSpec("gasoline", Method.FIXED, GASOLINE, _RHO60_GENERAL, _OBS_REFINED),
    "transition": GroupSpec("transition", Method.FIXED, TRANSITION, _RHO60_GENERAL, _OBS_REFINED),
    "jet": GroupSpec("jet", Method.FIXED, JET, _RHO60_GENERAL, _OBS_REFINED),
    "fuel_oil": GroupSpec("fuel_oil", Method.FIXED, FUEL_OIL, _RHO60_GENERAL, _OBS_REFINED),
    "refined": GroupSpec("refined", Method.REFINED, None, _RHO60_GENERAL, _OBS_REFINED),
    "lube": GroupSpec("lube", Method.FIXED, LUBE, _RHO60_LUBE, _OBS_LUBE),
    # 11.1 gives no density limits for C; the refined-product limits are a project choice.
    "special": GroupSpec("special", Method.SPECIAL, None, _RHO60_GENERAL, _OBS_REFINED, True),
    # Biodiesel (FAME) is outside 11.1: corrected as special (C) with a supplied α60.
    "biodiesel": GroupSpec("biodiesel", Method.SPECIAL, None, _RHO60_GENERAL, _OBS_REFINED, True),
    "lpg": GroupSpec("lpg", Method.LPG, None, _LPG_RHO60, _LPG_OBS),
}

PRODUCT_GROUPS: frozenset[str] = frozenset(GROUPS)
"""Every product group accepted by ``correct`` and ``correct_batch``."""


def group_spec(product_group: str) -> GroupSpec:
    """Look up a product group.

    Args:
        product_group: One of :data:`PRODUCT_GROUPS`.

    Returns:
        The group's specification.

    Raises:
        VcfError: If the group is unknown.
    """
    try:
        return GROUPS[product_group]
    except (KeyError, TypeError):
        known = ", ".join(sorted(PRODUCT_GROUPS))
        raise VcfError(f"unknown product group {product_group!r}; expected one of: {known}") from None


def refined_subgroup(rho60: float) -> KConstants:
    """Select the refined-product sub-group for a base density.

    Densities below/above the refined range map to the lightest/heaviest
    sub-group so that an iteration can continue; the final ρ60 is range-checked.

    Args:
        rho60: Base density ρ60 in kg/m³.

    Returns:
        The sub-group's constants.
    """
    b1, b2, b3 = REFINED_BOUNDARIES_KGM3
    if rho60 < b1:
        return GASOLINE
    if rho60 < b2:
        return TRANSITION
    if rho60 < b3:
        return JET
    return FUEL_OIL


_SUB_K0 = np.array([k.k0 for k in REFINED_SUBGROUPS])
_SUB_K1 = np.array([k.k1 for k in REFINED_SUBGROUPS])
_SUB_K2 = np.array([k.k2 for k in REFINED_SUBGROUPS])
_SUB_DA = np.array([k.d_alpha for k in REFINED_SUBGROUPS])
_BOUNDS = np.array(REFINED_BOUNDARIES_KGM3)


def refined_subgroup_arrays(
    rho60: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Vectorised :func:`refined_subgroup`: per-row K0, K1, K2 and Dα.

    Args:
        rho60: Base densities ρ60 in kg/m³.

    Returns:
        Arrays ``(k0, k1, k2, d_alpha)`` of the same shape as ``rho60``.
    """
    idx = np.searchsorted(_BOUNDS, rho60, side="right")
    return _SUB_K0[idx], _SUB_K1[idx], _SUB_K2[idx], _SUB_DA[idx]
