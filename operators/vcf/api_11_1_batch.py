"""Vectorised API MPMS 11.1-2004 procedures over NumPy columns.

Uses the same §11.1.6.1 formulas as the scalar path (:mod:`operators.vcf.api_11_1`)
through the NumPy backend. The §11.1.6.2 iteration runs on all rows at once
and drops converged rows from the working set after each step, so later
steps only touch the (few) rows that still move.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from operators.vcf.api_11_1 import (
    CONVERGENCE_KGM3,
    MAX_ITERATIONS,
    T_BASE_IPTS68_F,
    alpha60_k,
    cpl_from_fp,
    ctl_60,
    dp_temperature_term,
    fp_from_terms,
    fp_terms,
    iteration_envelope,
    newton_step,
    rho_star_k,
    rho_star_special,
    t_star_f,
)
from operators.vcf.backend import VECTOR, FloatArray
from operators.vcf.groups import GroupSpec, Method, refined_subgroup_arrays

_Consts = tuple[FloatArray | float, FloatArray | float, FloatArray | float, FloatArray | float]


def _constants(spec: GroupSpec, rho60: FloatArray) -> _Consts:
    """K0, K1, K2, Dα for each row (scalars for a fixed group)."""
    if spec.method is Method.REFINED:
        return refined_subgroup_arrays(rho60)
    k = spec.constants
    if k is None:  # special application: α60 is given, no K, Dα = 0
        return 0.0, 0.0, 0.0, 0.0
    return k.k0, k.k1, k.k2, k.d_alpha


def _rho_star_alpha(
    spec: GroupSpec, rho60: FloatArray, alpha60: float | None
) -> tuple[FloatArray, FloatArray | float, FloatArray | float]:
    """ρ*, α60 and Dα per row."""
    k0, k1, k2, d_alpha = _constants(spec, rho60)
    if spec.method is Method.SPECIAL:
        if alpha60 is None:
            raise ValueError("alpha60 is required for special applications")
        return rho_star_special(alpha60, rho60, VECTOR), alpha60, 0.0
    rho_s = rho_star_k(k0, k1, k2, rho60, VECTOR)
    return rho_s, alpha60_k(k0, k1, k2, rho_s), d_alpha


def base_density(
    spec: GroupSpec,
    rho_obs: FloatArray,
    t_f: FloatArray,
    p_psi: FloatArray,
    *,
    alpha60: float | None = None,
    t_star: FloatArray | None = None,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """§11.1.6.2 for many rows: observed density at (t, P) → ρ60.

    Same start value, step, stopping rule and divergence envelope per row as
    :func:`operators.vcf.api_11_1.observed_to_base`. No range checks.

    Args:
        spec: Product group.
        rho_obs: Observed densities, kg/m³.
        t_f: Observed temperatures, °F.
        p_psi: Observed gauge pressures, psi (already ≥ 0).
        alpha60: α60 in 1/°F for special applications.
        t_star: ``t_star_f(t_f)`` if the caller already has it.

    Returns:
        ``(rho60, converged)`` per row; ρ60 is NaN where the iteration diverged.
    """
    n = rho_obs.size
    rho60 = np.clip(rho_obs, *spec.rho60_range)
    converged = np.zeros(n, dtype=bool)
    if t_star is None:
        t_star = t_star_f(t_f)
    # Working set: compacted copies of the per-row invariants of rows still iterating.
    rows = np.arange(n)
    w_obs, w_p = rho_obs, p_psi
    w_dt = t_star - T_BASE_IPTS68_F
    w_fpa, w_fpc = fp_terms(t_star)
    w_dpt = dp_temperature_term(t_f)
    w_rho = rho60.copy()
    env_lo, env_hi = iteration_envelope(spec)
    for _ in range(MAX_ITERATIONS):
        rho_s, alpha, d_alpha = _rho_star_alpha(spec, w_rho, alpha60)
        ctl = ctl_60(alpha, w_dt, VECTOR)
        fp = fp_from_terms(w_fpa, w_fpc, rho_s, VECTOR)
        cpl = cpl_from_fp(fp, w_p)
        step = newton_step(w_obs, w_rho, ctl, cpl, fp, alpha, w_dt, d_alpha, w_p, w_dpt)
        w_rho += step
        inside = (w_rho >= env_lo) & (w_rho <= env_hi)  # False for NaN: diverged
        w_rho[~inside] = np.nan
        rho60[rows] = w_rho
        moving = inside & (np.abs(step) >= CONVERGENCE_KGM3)
        if not moving.all():
            converged[rows[inside & ~moving]] = True
            if not moving.any():
                break
            rows = rows[moving]
            w_obs, w_p, w_dt, w_fpa = w_obs[moving], w_p[moving], w_dt[moving], w_fpa[moving]
            w_fpc, w_dpt, w_rho = w_fpc[moving], w_dpt[moving], w_rho[moving]
    return rho60, converged


@dataclass(frozen=True)
class BaseFactors:
    """Factors of a base density ρ60 at (t, P) and at the base temperature.

    Attributes:
        ctl_t: CTL(60 °F → t).
        ctl_base: CTL(60 °F → base temperature).
        cpl_t: CPL(t, P).
        fp_psi: Scaled compressibility Fp at t, 1/psi.
    """

    ctl_t: FloatArray
    ctl_base: FloatArray
    cpl_t: FloatArray
    fp_psi: FloatArray


def base_factors(
    spec: GroupSpec,
    rho60: FloatArray,
    t_f: FloatArray,
    p_psi: FloatArray,
    *,
    base_temp_f: float = 59.0,
    alpha60: float | None = None,
    t_star: FloatArray | None = None,
) -> BaseFactors:
    """§11.1.6.1 for many rows, at (t, P) and at the base temperature.

    Args:
        spec: Product group.
        rho60: Base densities ρ60, kg/m³.
        t_f: Temperatures, °F.
        p_psi: Gauge pressures, psi (already ≥ 0).
        base_temp_f: Base temperature, °F (59 °F = 15 °C).
        alpha60: α60 in 1/°F for special applications.
        t_star: ``t_star_f(t_f)`` if the caller already has it.

    Returns:
        CTL at t and at the base, CPL and Fp at (t, P).
    """
    rho_s, alpha, _ = _rho_star_alpha(spec, rho60, alpha60)
    if t_star is None:
        t_star = t_star_f(t_f)
    dt_base = np.broadcast_to(t_star_f(base_temp_f) - T_BASE_IPTS68_F, rho60.shape)
    fp_a, fp_c = fp_terms(t_star)
    fp = fp_from_terms(fp_a, fp_c, rho_s, VECTOR)
    return BaseFactors(
        ctl_60(alpha, t_star - T_BASE_IPTS68_F, VECTOR),
        ctl_60(alpha, dt_base, VECTOR),
        cpl_from_fp(fp, p_psi),
        fp,
    )
