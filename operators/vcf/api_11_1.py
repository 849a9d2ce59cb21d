"""API MPMS 11.1-2004 (ASTM D1250-04) temperature and pressure corrections.

Formulas of §11.1.6.1 (base ρ60 → CTL, Fp, CPL at t, P), written once against
a :class:`~operators.vcf.backend.Backend` so that the scalar and the batch
paths share them, plus the scalar procedures: §11.1.6.2 (observed → ρ60),
§11.1.7.1 (ρ at 15 °C → CTL/CPL to t, P, "Table 54" style) and §11.1.7.2
(observed → ρ15, "Table 53" style). Temperatures are °F and pressures psig
inside the 60 °F procedures, as in the standard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from operators.vcf.backend import SCALAR, Backend, F
from operators.vcf.groups import GroupSpec, KConstants, Method, refined_subgroup

EDITION_API = "API MPMS 11.1-2004 (ASTM D1250-04), 15 °C base"
"""Calculation standard recorded with every 11.1 correction."""

DELTA_60_F = 0.01374979547
"""δ60: 60 °F on ITS-90 minus 60 °F on IPTS-68, °F."""
T_BASE_IPTS68_F = 60.0068749
"""60 °F (ITS-90) expressed on IPTS-68, °F."""
WATER_DENSITY_60F_KGM3 = 999.016
"""Density of water at 60 °F, used to convert relative density and °API."""
KPA_PER_PSI = 6.894757
"""kPa per psi (§11.1.5.1)."""
BAR_PER_PSI = 0.06894757
"""bar per psi (§11.1.5.1)."""
CONVERGENCE_KGM3 = 1e-6
"""§11.1.6.2 stops when |Δρ60| is below this."""
MAX_ITERATIONS = 15
"""§11.1.6.2 iteration limit; the last value is then accepted."""

_ITS90_TO_IPTS68 = (-0.148759, -0.267408, 1.080760, 1.269056, -4.089591, -1.871251, 7.438081, -3.536296)


def c_to_f(t_c: F) -> F:
    """Convert °C to °F."""
    return 1.8 * t_c + 32.0


def api_gravity_to_kgm3(api: float) -> float:
    """Convert °API to density in kg/m³ (§11.1.5.1)."""
    return 141.5 * WATER_DENSITY_60F_KGM3 / (api + 131.5)


def relative_density_to_kgm3(rd: float) -> float:
    """Convert relative density (to water at 60 °F) to kg/m³ (§11.1.5.1)."""
    return rd * WATER_DENSITY_60F_KGM3


# ----------------------------------------------------------------------------------------------
# §11.1.6.1 formulas (shared by the scalar and the batch path)
# ----------------------------------------------------------------------------------------------


def t_star_f(t_f: F) -> F:
    """ITS-90 temperature → the IPTS-68 temperature t* used by the correlations (step 1).

    Args:
        t_f: Temperature on ITS-90, °F.

    Returns:
        t* in °F (IPTS-68).
    """
    t_c = (t_f - 32.0) / 1.8
    tau = t_c / 630.0
    poly = 0.0 * tau
    for coeff in reversed(_ITS90_TO_IPTS68):
        poly = (poly + coeff) * tau
    return 1.8 * (t_c - poly) + 32.0


def rho_star_k(k0: F | float, k1: F | float, k2: F | float, rho60: F, be: Backend[F]) -> F:
    """Shift ρ60 to the IPTS-68 basis, ρ* (step 2, groups with K constants).

    Args:
        k0: K0 of the (sub-)group.
        k1: K1 of the (sub-)group.
        k2: K2 of the (sub-)group.
        rho60: Base density ρ60 (ITS-90), kg/m³.
        be: Numeric backend.

    Returns:
        ρ* in kg/m³.
    """
    a = 0.5 * DELTA_60_F * ((k0 / rho60 + k1) / rho60 + k2)
    b = (2.0 * k0 + k1 * rho60) / (k0 + (k1 + k2 * rho60) * rho60)
    return rho60 * (1.0 + (be.exp(a * (1.0 + 0.8 * a)) - 1.0) / (1.0 + a * (1.0 + 1.6 * a) * b))


def rho_star_special(alpha60: float, rho60: F, be: Backend[F]) -> F:
    """Shift ρ60 to the IPTS-68 basis for special applications (C), α60 given (step 2)."""
    return rho60 * be.exp(0.0 * rho60 + 0.5 * alpha60 * DELTA_60_F * (1.0 + 0.4 * alpha60 * DELTA_60_F))


def alpha60_k(k0: F | float, k1: F | float, k2: F | float, rho_star: F) -> F:
    """Thermal expansion coefficient at 60 °F, 1/°F (step 3)."""
    return (k0 / rho_star + k1) / rho_star + k2


def ctl_60(alpha60: F | float, dt: F, be: Backend[F]) -> F:
    """CTL from 60 °F to t (step 4).

    Args:
        alpha60: α60 in 1/°F.
        dt: t* − 60.0068749 °F.
        be: Numeric backend.

    Returns:
        The correction factor CTL (ratio of density at t to density at 60 °F).
    """
    return be.exp(-alpha60 * dt * (1.0 + 0.8 * alpha60 * (dt + DELTA_60_F)))


def fp_terms(t_star: F) -> tuple[F, F]:
    """The temperature-only parts of the Fp exponent (step 5), invariant during iteration."""
    return -1.9947 + 0.00013427 * t_star, 793920.0 + 2326.0 * t_star


def fp_from_terms(fp_a: F, fp_c: F, rho_star: F, be: Backend[F]) -> F:
    """Scaled compressibility Fp in 1/psi (F = Fp × 1e-5 psi⁻¹) from :func:`fp_terms`."""
    return be.exp(fp_a + fp_c / (rho_star * rho_star))


def fp_psi(t_star: F, rho_star: F, be: Backend[F]) -> F:
    """Scaled compressibility factor Fp in 1/psi (step 5)."""
    fp_a, fp_c = fp_terms(t_star)
    return fp_from_terms(fp_a, fp_c, rho_star, be)


def cpl_from_fp(fp: F, p_psi: F | float) -> F:
    """CPL = 1 / (1 − 1e-5·Fp·P), P gauge psi ≥ 0 (step 6)."""
    return 1.0 / (1.0 - 1e-5 * fp * p_psi)


def newton_step(
    rho_obs: F,
    rho60: F,
    ctl: F,
    cpl: F,
    fp: F,
    alpha60: F | float,
    dt: F,
    d_alpha: F | float,
    p_psi: F | float,
    dp_t: F,
) -> F:
    """One §11.1.6.2 correction Δρ60 = E / (1 + DT + DP).

    DT and DP approximate the derivative of ρo/(CTL·CPL) with respect to
    ρ60 (DP carries the minus sign of the API reference ``constants.h``).

    Args:
        rho_obs: Observed density ρo, kg/m³.
        rho60: Current estimate ρ60,m, kg/m³.
        ctl: CTL(ρ60,m, t).
        cpl: CPL(ρ60,m, t, P).
        fp: Fp(ρ60,m, t) in 1/psi.
        alpha60: α60,m in 1/°F.
        dt: t* − 60.0068749 °F.
        d_alpha: Dα of the current sub-group (0 for special applications).
        p_psi: Gauge pressure, psi.
        dp_t: Temperature term 7.93920 + 0.02326·t of DP.

    Returns:
        The step to add to ρ60,m.
    """
    e = rho_obs / (ctl * cpl) - rho60
    dt_term = d_alpha * alpha60 * dt * (1.0 + 1.6 * alpha60 * dt)
    dp_term = -2.0 * cpl * p_psi * fp * dp_t / (rho60 * rho60)
    return e / (1.0 + dt_term + dp_term)


def dp_temperature_term(t_f: F) -> F:
    """7.93920 + 0.02326·t of the §11.1.6.2 DP term (t in °F)."""
    return 7.93920 + 0.02326 * t_f


# ----------------------------------------------------------------------------------------------
# scalar procedures
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AtConditions:
    """§11.1.6.1 result: base ρ60 taken to (t, P).

    Attributes:
        ctl: CTL(60 °F → t), unrounded.
        cpl: CPL(t, P), unrounded.
        fp_psi: Scaled compressibility Fp, 1/psi.
        rho_star: ρ* (IPTS-68 basis), kg/m³.
        alpha60: α60, 1/°F.
        t_star_f: t* (IPTS-68), °F.
    """

    ctl: float
    cpl: float
    fp_psi: float
    rho_star: float
    alpha60: float
    t_star_f: float

    @property
    def ctpl(self) -> float:
        """CTL × CPL, unrounded."""
        return self.ctl * self.cpl


def constants_for(spec: GroupSpec, rho60: float) -> KConstants | None:
    """K constants of a group at a base density (``None`` for special applications)."""
    if spec.method is Method.REFINED:
        return refined_subgroup(rho60)
    return spec.constants


def base_to_alternate(
    spec: GroupSpec, rho60: float, t_f: float, p_psi: float, *, alpha60: float | None = None
) -> AtConditions:
    """§11.1.6.1: CTL, Fp and CPL at (t, P) for a base density ρ60.

    No range checks here (see ``operators.vcf.limits``).

    Args:
        spec: Product group (crude, refined, lube, special, …).
        rho60: Base density at 60 °F and 0 psig, kg/m³.
        t_f: Alternate temperature, °F (ITS-90).
        p_psi: Alternate gauge pressure, psi; negative values count as 0.
        alpha60: α60 in 1/°F, required for special applications.

    Returns:
        The correction factors and intermediates.
    """
    t_star = t_star_f(t_f)
    k = constants_for(spec, rho60)
    return _at_conditions(k, alpha60, rho60, t_star, max(p_psi, 0.0))


def _at_conditions(
    k: KConstants | None, alpha60: float | None, rho60: float, t_star: float, p_psi: float
) -> AtConditions:
    if k is None:
        if alpha60 is None:
            raise ValueError("alpha60 is required for special applications")
        rho_s = rho_star_special(alpha60, rho60, SCALAR)
        alpha = alpha60
    else:
        rho_s = rho_star_k(k.k0, k.k1, k.k2, rho60, SCALAR)
        alpha = alpha60_k(k.k0, k.k1, k.k2, rho_s)
    ctl = ctl_60(alpha, t_star - T_BASE_IPTS68_F, SCALAR)
    fp = fp_psi(t_star, rho_s, SCALAR)
    return AtConditions(ctl, cpl_from_fp(fp, p_psi), fp, rho_s, alpha, t_star)


@dataclass(frozen=True)
class BaseDensity:
    """§11.1.6.2 result.

    Attributes:
        rho60: Base density at 60 °F, 0 psig, kg/m³.
        observed: Factors from ρ60 to the observed (t, P).
        iterations: Newton steps taken.
        converged: False if the iteration limit was reached (the last value is
            accepted) or the iteration diverged (then ``rho60`` is NaN).
    """

    rho60: float
    observed: AtConditions
    iterations: int
    converged: bool


def observed_to_base(
    spec: GroupSpec, rho_obs: float, t_f: float, p_psi: float, *, alpha60: float | None = None
) -> BaseDensity:
    """§11.1.6.2: observed density at (t, P) → base density ρ60 by iteration.

    Starts from ρo clamped to the group's ρ60 range; refined products switch
    sub-group whenever ρ60 crosses a boundary. No range checks here.

    Args:
        spec: Product group.
        rho_obs: Observed density, kg/m³.
        t_f: Observed temperature, °F (ITS-90).
        p_psi: Observed gauge pressure, psi; negative values count as 0.
        alpha60: α60 in 1/°F, required for special applications.

    Returns:
        ρ60 with the factors at the observed conditions.
    """
    p_psi = max(p_psi, 0.0)
    t_star = t_star_f(t_f)
    dt = t_star - T_BASE_IPTS68_F
    dp_t = dp_temperature_term(t_f)
    lo, hi = spec.rho60_range
    env_lo, env_hi = iteration_envelope(spec)
    rho60 = min(max(rho_obs, lo), hi)
    converged = False
    iterations = 0
    try:
        while iterations < MAX_ITERATIONS:
            iterations += 1
            k = constants_for(spec, rho60)
            at = _at_conditions(k, alpha60, rho60, t_star, p_psi)
            d_alpha = 0.0 if k is None else k.d_alpha
            step = newton_step(rho_obs, rho60, at.ctl, at.cpl, at.fp_psi, at.alpha60, dt, d_alpha, p_psi, dp_t)
            rho60 += step
            if not env_lo <= rho60 <= env_hi:  # also catches NaN
                rho60 = math.nan
                break
            if abs(step) < CONVERGENCE_KGM3:
                converged = True
                break
    except (ArithmeticError, ValueError):  # e.g. a division by an exact zero far from any solution
        rho60, converged = math.nan, False
    final = _at_conditions(constants_for(spec, rho60), alpha60, rho60, t_star, p_psi)
    return BaseDensity(rho60, final, iterations, converged)


def iteration_envelope(spec: GroupSpec) -> tuple[float, float]:
    """Iterates of §11.1.6.2 outside this range count as diverged (ρ60 becomes NaN).

    Project choice, not in the standard: half the group's lowest and twice its
    highest ρ60. Solutions inside the group's range never get near it, and it keeps
    the correlations away from densities where they overflow or divide by zero.

    Args:
        spec: Product group.

    Returns:
        ``(low, high)`` in kg/m³.
    """
    lo, hi = spec.rho60_range
    return 0.5 * lo, 2.0 * hi


@dataclass(frozen=True)
class BaseCorrection:
    """§11.1.7.1 / §11.1.7.2 result for a base temperature (normally 15 °C).

    Attributes:
        rho_base: Density at the base temperature and 0 gauge, kg/m³ (unrounded).
        rho60: Density at 60 °F, kg/m³.
        ctl: CTL(base → t), unrounded.
        cpl: CPL(t, P), unrounded.
        fp_psi: Scaled compressibility Fp at (t, ρ60), 1/psi.
        converged: Whether the §11.1.6.2 iteration converged (see :class:`BaseDensity`).
    """

    rho_base: float
    rho60: float
    ctl: float
    cpl: float
    fp_psi: float
    converged: bool

    @property
    def ctpl(self) -> float:
        """CTL × CPL, unrounded."""
        return self.ctl * self.cpl


def base_to_alternate_at(
    spec: GroupSpec,
    rho_base: float,
    t_c: float,
    p_psi: float,
    *,
    alpha60: float | None = None,
    base_temp_c: float = 15.0,
) -> BaseCorrection:
    """§11.1.7.1: density at the base temperature → CTL, CPL to (t, P).

    Args:
        spec: Product group.
        rho_base: Density at ``base_temp_c`` and 0 gauge, kg/m³.
        t_c: Alternate temperature, °C.
        p_psi: Alternate gauge pressure, psi.
        alpha60: α60 in 1/°F for special applications.
        base_temp_c: Base temperature, °C (15 or 20).

    Returns:
        ρ60 and the factors from the base to (t, P).
    """
    base = observed_to_base(spec, rho_base, c_to_f(base_temp_c), 0.0, alpha60=alpha60)
    at = base_to_alternate(spec, base.rho60, c_to_f(t_c), p_psi, alpha60=alpha60)
    return BaseCorrection(rho_base, base.rho60, at.ctl / base.observed.ctl, at.cpl, at.fp_psi, base.converged)


def observed_to_base_at(
    spec: GroupSpec,
    rho_obs: float,
    t_c: float,
    p_psi: float,
    *,
    alpha60: float | None = None,
    base_temp_c: float = 15.0,
) -> BaseCorrection:
    """§11.1.7.2: observed density at (t, P) → density at the base temperature.

    Args:
        spec: Product group.
        rho_obs: Observed density, kg/m³.
        t_c: Observed temperature, °C.
        p_psi: Observed gauge pressure, psi.
        alpha60: α60 in 1/°F for special applications.
        base_temp_c: Base temperature, °C (15 or 20).

    Returns:
        ρ_base, ρ60 and the factors from the observed conditions to the base.
    """
    base = observed_to_base(spec, rho_obs, c_to_f(t_c), p_psi, alpha60=alpha60)
    at_base = base_to_alternate(spec, base.rho60, c_to_f(base_temp_c), 0.0, alpha60=alpha60)
    obs = base.observed
    return BaseCorrection(
        base.rho60 * at_base.ctl, base.rho60, obs.ctl / at_base.ctl, obs.cpl, obs.fp_psi, base.converged
    )
