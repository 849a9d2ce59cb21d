"""LPG / NGL temperature correction: GPA TP-27 / API MPMS 11.2.4-2007.

Table 24E (CTL to 60 °F from Γ60 and T) is the corresponding-states method
with twelve reference fluids; Table 23E (observed Γ at T → Γ60) inverts it
with a bracketed root finder; Tables 54E (ρ15 → CTL) and 53E (observed →
ρ15) are derived through 23E at 59 °F (= 15 °C), research note §2.2–2.3.
The T24 formula is written once against a backend; the root finder is
written twice (scalar ``math`` loop and masked NumPy loop) with the same steps.

Pressure: the LPG compressibility of API MPMS 11.2.2 needs the equilibrium
(vapour) pressure, which meters do not report, so CPL is taken as 1.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Generic

import numpy as np
from numpy.typing import NDArray

from operators.vcf.backend import SCALAR, VECTOR, Backend, F, FloatArray
from operators.vcf.errors import VcfError
from operators.vcf.rounding import INC_RELATIVE_DENSITY, INC_TEMP_F, round_to_increment

EDITION_LPG = (
    "GPA TP-27 / API MPMS 11.2.4-2007 Tables 53E/54E, CPL=1 "
    "(API 11.2.2 compressibility not applied: it needs the equilibrium vapour pressure)"
)
"""Calculation standard recorded with every LPG correction."""

WATER_DENSITY_60F_KGM3 = 999.016
"""Density of water at 60 °F; ρ = Γ × this."""
GAMMA60_RANGE = (0.3500, 0.6880)
"""TP-27 scope for Γ60."""
TEMP_RANGE_C = (-46.0, 93.0)
"""TP-27 scope for temperature (research note §2, [S])."""
ROOT_TOLERANCE = 1e-13
"""Table 23E solver stops when the bracket on Γ60 is narrower than this."""
MAX_ROOT_ITERATIONS = 100
"""Safety limit for the Table 23E solver."""

# Reference fluids (TP-27 Table 1, research note §2.1): Γ60, Tc [K], Zc, ρc, k1, k2, k3, k4.
_FLUIDS: tuple[tuple[float, float, float, float, float, float, float, float], ...] = (
    (0.325022, 298.11, 0.27998, 6.250, 2.54616855327, -0.058244177754, 0.803398090807, -0.745720314137),
    (0.355994, 305.33, 0.28220, 6.870, 1.89113042610, -0.370305782347, -0.544867288720, 0.337876634952),
    (0.429277, 333.67, 0.28060, 5.615, 2.20970078464, -0.294253708172, -0.405754420098, 0.319443433421),
    (0.470381, 352.46, 0.27930, 5.110, 2.25341981320, -0.266542138024, -0.372756711655, 0.384734185665),
    (0.507025, 369.78, 0.27626, 5.000, 1.96568366933, -0.327662435541, -0.417979702538, 0.303271602831),
    (0.562827, 407.85, 0.28326, 3.860, 2.04748034410, -0.289734363425, -0.330345036434, 0.291757103132),
    (0.584127, 425.16, 0.27536, 3.920, 2.03734743118, -0.299059145695, -0.418883095671, 0.380367738748),
    (0.624285, 460.44, 0.27026, 3.247, 2.06541640707, -0.238366208840, -0.161440492247, 0.258681568613),
    (0.631054, 469.65, 0.27235, 3.200, 2.11263474494, -0.261269413560, -0.291923445075, 0.308344290017),
    (0.657167, 498.05, 0.26706, 2.727, 2.02382197871, -0.423550090067, -1.152810982570, 0.950139001678),
    (0.664064, 507.35, 0.26762, 2.704, 2.17134547773, -0.232997313405, -0.267019794036, 0.378629524102),
    (0.688039, 540.15, 0.26312, 2.315, 2.19773533433, -0.275056764147, -0.447144095029, 0.493770995799),
)
_GAMMAS = tuple(f[0] for f in _FLUIDS)
_TCS = tuple(f[1] for f in _FLUIDS)
_FLUID_COLUMNS = np.array(_FLUIDS).T  # 8 rows of 12 values
_TCS_ARRAY = np.array(_TCS)
_GAMMAS_ARRAY = np.array(_GAMMAS)


def f_to_kelvin(t_f: F) -> F:
    """Convert °F to K."""
    return (t_f + 459.67) / 1.8


@dataclass(frozen=True)
class FluidPair(Generic[F]):
    """The two adjacent reference fluids bracketing Γ60 (per row for arrays).

    Attributes:
        gamma1: Γ60 of the lighter fluid.
        gamma2: Γ60 of the heavier fluid.
        tc1: Critical temperature of the lighter fluid, K.
        tc2: Critical temperature of the heavier fluid, K.
        zc_rho1: Zc·ρc of the lighter fluid.
        zc_rho2: Zc·ρc of the heavier fluid.
        sat1: (ρc, k1, k2, k3, k4) of the lighter fluid.
        sat2: (ρc, k1, k2, k3, k4) of the heavier fluid.
    """

    gamma1: F
    gamma2: F
    tc1: F
    tc2: F
    zc_rho1: F
    zc_rho2: F
    sat1: tuple[F, F, F, F, F]
    sat2: tuple[F, F, F, F, F]


def _pair_from_columns(cols: list[F], cols2: list[F]) -> FluidPair[F]:
    return FluidPair(
        cols[0],
        cols2[0],
        cols[1],
        cols2[1],
        cols[2] * cols[3],
        cols2[2] * cols2[3],
        (cols[3], cols[4], cols[5], cols[6], cols[7]),
        (cols2[3], cols2[4], cols2[5], cols2[6], cols2[7]),
    )


def fluid_pair(gamma60: float) -> FluidPair[float]:
    """Reference fluids 1, 2 with Γ1 < Γ60 ≤ Γ2 (step 2), scalar."""
    i = min(max(bisect.bisect_left(_GAMMAS, gamma60), 1), len(_GAMMAS) - 1)
    return _pair_from_columns(list(_FLUIDS[i - 1]), list(_FLUIDS[i]))


def fluid_pair_arrays(gamma60: FloatArray) -> FluidPair[FloatArray]:
    """Reference fluids 1, 2 with Γ1 < Γ60 ≤ Γ2 (step 2), per row."""
    i = np.clip(np.searchsorted(_GAMMAS_ARRAY, gamma60, side="left"), 1, len(_GAMMAS) - 1)
    return _pair_from_columns([c[i - 1] for c in _FLUID_COLUMNS], [c[i] for c in _FLUID_COLUMNS])


def critical_temperature_k(pair: FluidPair[F], gamma60: F) -> F:
    """Pseudo-critical temperature Tc of the mixture (steps 3–4), K."""
    delta = (gamma60 - pair.gamma1) / (pair.gamma2 - pair.gamma1)
    return pair.tc1 + delta * (pair.tc2 - pair.tc1)


def _rho_sat(sat: tuple[F, F, F, F, F], tau: F, be: Backend[F]) -> F:
    """Reduced saturated-liquid density of one reference fluid (step 8)."""
    rho_c, k1, k2, k3, k4 = sat
    num = k1 * be.power(tau, 0.35) + tau * tau * (k3 + k4 * tau)
    return rho_c * (1.0 + num / (1.0 + k2 * be.power(tau, 0.65)))


def _phi(pair: FluidPair[F], delta: F, tr: F, be: Backend[F]) -> F:
    """Interpolated saturated density of the mixture at reduced temperature Tr (steps 7–9)."""
    tau = be.maximum(1.0 - tr, 0.0)
    s1 = _rho_sat(pair.sat1, tau, be)
    s2 = _rho_sat(pair.sat2, tau, be)
    h2 = pair.zc_rho1 / pair.zc_rho2
    return s1 / (1.0 + delta * (s1 / (h2 * s2) - 1.0))


def ctl_24(pair: FluidPair[F], gamma60: F, temp_f: F, be: Backend[F]) -> F:
    """Table 24E CTL (60 °F → T) from unrounded inputs (steps 3–10).

    Reduced temperatures above 1 (supercritical) are evaluated at Tr = 1;
    callers check :func:`is_supercritical` first.

    Args:
        pair: Reference fluids bracketing ``gamma60`` (:func:`fluid_pair`).
        gamma60: Relative density at 60 °F.
        temp_f: Temperature, °F.
        be: Numeric backend.

    Returns:
        CTL = φ(Tr,x) / φ(Tr,60), unrounded.
    """
    delta = (gamma60 - pair.gamma1) / (pair.gamma2 - pair.gamma1)
    tc = pair.tc1 + delta * (pair.tc2 - pair.tc1)
    tr_x = f_to_kelvin(temp_f) / tc
    tr_60 = 519.67 / (1.8 * tc)
    return _phi(pair, delta, tr_x, be) / _phi(pair, delta, tr_60, be)


def table_24e(gamma60: float, temp_f: float, *, round_inputs: bool = True) -> float:
    """Table 24E: CTL from 60 °F to T for an LPG of relative density Γ60.

    Args:
        gamma60: Relative density at 60 °F.
        temp_f: Temperature, °F.
        round_inputs: Round T to 0.1 °F and Γ60 to 0.0001 first, as TP-27 does.

    Returns:
        CTL, unrounded (round to 0.00001 for the table value).

    Raises:
        ValueError: If Γ60 is outside the TP-27 range or the fluid is supercritical at T.
    """
    if round_inputs:
        gamma60 = round_to_increment(gamma60, INC_RELATIVE_DENSITY)
        temp_f = round_to_increment(temp_f, INC_TEMP_F)
    lo, hi = GAMMA60_RANGE
    if not lo <= gamma60 <= hi:
        raise ValueError(f"Γ60 {gamma60} outside the TP-27 range {lo:.4f}–{hi:.4f}")
    pair = fluid_pair(gamma60)
    if is_supercritical(pair, gamma60, temp_f):
        raise ValueError(f"Γ60 {gamma60} is above its critical temperature at {temp_f} °F")
    return ctl_24(pair, gamma60, temp_f, SCALAR)


def is_supercritical(pair: FluidPair[float], gamma60: float, temp_f: float) -> bool:
    """Whether T is above the mixture's pseudo-critical temperature (step 5)."""
    return f_to_kelvin(temp_f) > critical_temperature_k(pair, gamma60)


def _gamma_at_tc(tc_k: float) -> float:
    """The Γ60 whose pseudo-critical temperature is ``tc_k`` (Tc rises with Γ60).

    Linear in each reference-fluid segment (steps 3–4 inverted); below the
    lightest fluid the first segment is extrapolated.
    """
    i = min(max(bisect.bisect_left(_TCS, tc_k), 1), len(_TCS) - 1)
    g1, g2, t1, t2 = _GAMMAS[i - 1], _GAMMAS[i], _TCS[i - 1], _TCS[i]
    return g1 + (tc_k - t1) / (t2 - t1) * (g2 - g1)


def _gamma_at_tc_arrays(tc_k: FloatArray) -> FloatArray:
    """Vectorised :func:`_gamma_at_tc`, same arithmetic."""
    i = np.clip(np.searchsorted(_TCS_ARRAY, tc_k, side="left"), 1, len(_TCS) - 1)
    g1, g2, t1, t2 = _GAMMAS_ARRAY[i - 1], _GAMMAS_ARRAY[i], _TCS_ARRAY[i - 1], _TCS_ARRAY[i]
    out: FloatArray = g1 + (tc_k - t1) / (t2 - t1) * (g2 - g1)
    return out


def _residual(gamma60: float, gamma_obs: float, temp_f: float) -> float:
    return gamma60 * ctl_24(fluid_pair(gamma60), gamma60, temp_f, SCALAR) - gamma_obs


def _lower_bracket(temp_f: float) -> float:
    # Lightest Γ60 that is still liquid at T (plus a margin), but not below the scope.
    return max(GAMMA60_RANGE[0], _gamma_at_tc(f_to_kelvin(temp_f)) + 1e-9)


def table_23e(gamma_obs: float, temp_f: float) -> float | None:
    """Table 23E: observed relative density at T → Γ60 (inputs not rounded).

    Solves Γobs = Γ60 · CTL24(Γ60, T) on the TP-27 range with the Illinois
    variant of regula falsi (always bracketed, superlinear).

    Args:
        gamma_obs: Observed density / 999.016.
        temp_f: Observed temperature, °F.

    Returns:
        Γ60, or ``None`` if no Γ60 in the TP-27 range (liquid at T) matches.
    """
    a, b = _lower_bracket(temp_f), GAMMA60_RANGE[1]
    if a >= b or not math.isfinite(gamma_obs):
        return None
    fa, fb = _residual(a, gamma_obs, temp_f), _residual(b, gamma_obs, temp_f)
    if fa > 0.0 or fb < 0.0:
        return None
    side = 0
    for _ in range(MAX_ROOT_ITERATIONS):
        if b - a < ROOT_TOLERANCE or fb == fa:
            break
        c = (a * fb - b * fa) / (fb - fa)
        fc = _residual(c, gamma_obs, temp_f)
        if fc == 0.0:
            return c
        if fc < 0.0:
            a, fa = c, fc
            if side == -1:
                fb *= 0.5
            side = -1
        else:
            b, fb = c, fc
            if side == 1:
                fa *= 0.5
            side = 1
    return 0.5 * (a + b)


def table_23e_arrays(gamma_obs: FloatArray, temp_f: FloatArray) -> FloatArray:
    """Vectorised :func:`table_23e`; rows without a solution are NaN.

    Args:
        gamma_obs: Observed density / 999.016.
        temp_f: Observed temperature, °F.

    Returns:
        Γ60 per row (NaN where :func:`table_23e` returns ``None``).
    """
    a = np.maximum(GAMMA60_RANGE[0], _gamma_at_tc_arrays(f_to_kelvin(temp_f)) + 1e-9)
    b = np.full_like(a, GAMMA60_RANGE[1])

    def residual(g: FloatArray, idx: NDArray[np.intp] | slice) -> FloatArray:
        pair = fluid_pair_arrays(g)
        out: FloatArray = g * ctl_24(pair, g, temp_f[idx], VECTOR) - gamma_obs[idx]
        return out

    whole = slice(None)
    fa, fb = residual(a, whole), residual(b, whole)
    ok = (a < b) & (fa <= 0.0) & (fb >= 0.0) & np.isfinite(gamma_obs)
    result = np.full_like(a, np.nan)
    idx = np.flatnonzero(ok)
    a, b, fa, fb = a[idx], b[idx], fa[idx], fb[idx]
    side = np.zeros(idx.size)
    for _ in range(MAX_ROOT_ITERATIONS):
        active = (b - a >= ROOT_TOLERANCE) & (fb != fa)
        if not active.any():
            break
        # Rows that are done keep their bracket; only active rows are evaluated.
        act = np.flatnonzero(active)
        aa, bb, ffa, ffb = a[act], b[act], fa[act], fb[act]
        c = (aa * ffb - bb * ffa) / (ffb - ffa)
        fc = residual(c, idx[act])
        low = fc < 0.0
        exact = fc == 0.0
        s = side[act]
        a[act] = np.where(low | exact, c, aa)
        b[act] = np.where(low & ~exact, bb, c)
        fa[act] = np.where(low | exact, fc, np.where(s == 1, 0.5 * ffa, ffa))
        fb[act] = np.where(low & ~exact, np.where(s == -1, 0.5 * ffb, ffb), fc)
        side[act] = np.where(low, -1.0, 1.0)
    result[idx] = 0.5 * (a + b)
    return result


# ----------------------------------------------------------------------------------------------
# Tables 54E / 53E (15 °C base), research note §2.3
# ----------------------------------------------------------------------------------------------

BASE_TEMP_F = 59.0
"""15 °C in °F: the base of Tables 53E/54E."""


def no_gamma60_message(density_kgm3: float, temp_c: float) -> str:
    """Error text when Table 23E finds no Γ60 in scope."""
    lo, hi = GAMMA60_RANGE
    return (
        f"no LPG relative density Γ60 in the TP-27 range {lo:.4f}…{hi:.4f} (liquid at the temperature) "
        f"matches density {density_kgm3:.10g} kg/m³ at {temp_c:.10g} °C (GPA TP-27 Table 23E)"
    )


def supercritical_message(gamma60: float, temp_c: float) -> str:
    """Error text for an LPG above its pseudo-critical temperature."""
    return f"LPG with Γ60 {gamma60:.6f} is above its critical temperature at {temp_c:.10g} °C (GPA TP-27 step 5)"


@dataclass(frozen=True)
class LpgCorrection:
    """Table 53E/54E result.

    Attributes:
        rho15: Density at 15 °C, kg/m³ (unrounded).
        gamma60: Relative density at 60 °F.
        ctl: CTL(15 °C → t), unrounded.
    """

    rho15: float
    gamma60: float
    ctl: float


def _from_gamma60(gamma60: float, t_c: float, rho15: float | None) -> LpgCorrection:
    t_f = 1.8 * t_c + 32.0
    pair = fluid_pair(gamma60)
    if is_supercritical(pair, gamma60, t_f):
        raise VcfError(supercritical_message(gamma60, t_c))
    ctl_base = ctl_24(pair, gamma60, BASE_TEMP_F, SCALAR)
    ctl_t = ctl_24(pair, gamma60, t_f, SCALAR)
    if rho15 is None:
        rho15 = WATER_DENSITY_60F_KGM3 * gamma60 * ctl_base
    return LpgCorrection(rho15, gamma60, ctl_t / ctl_base)


def table_54e(rho15: float, t_c: float) -> LpgCorrection:
    """Table 54E: density at 15 °C → CTL from 15 °C to t.

    Γ60 = T23(ρ15/999.016 at 59 °F); CTL = CTL24(Γ60, t) / CTL24(Γ60, 59 °F).
    Inputs are used as given (round them first for printed-table values).

    Args:
        rho15: Density at 15 °C, kg/m³.
        t_c: Temperature, °C.

    Returns:
        The correction (``rho15`` echoes the input).

    Raises:
        VcfError: If no Γ60 in scope matches or the LPG is supercritical at t.
    """
    gamma60 = table_23e(rho15 / WATER_DENSITY_60F_KGM3, BASE_TEMP_F)
    if gamma60 is None:
        raise VcfError(no_gamma60_message(rho15, 15.0))
    return _from_gamma60(gamma60, t_c, rho15)


def table_53e(rho_obs: float, t_c: float) -> LpgCorrection:
    """Table 53E: observed density at t → density at 15 °C and CTL(t → 15 °C).

    Γ60 = T23(ρo/999.016 at t); ρ15 = 999.016·Γ60·CTL24(Γ60, 59 °F).

    Args:
        rho_obs: Observed density, kg/m³.
        t_c: Observed temperature, °C.

    Returns:
        The correction.

    Raises:
        VcfError: If no Γ60 in scope matches.
    """
    gamma60 = table_23e(rho_obs / WATER_DENSITY_60F_KGM3, 1.8 * t_c + 32.0)
    if gamma60 is None:
        raise VcfError(no_gamma60_message(rho_obs, t_c))
    return _from_gamma60(gamma60, t_c, None)


@dataclass(frozen=True)
class LpgBatch:
    """Vectorised Tables 53E/54E result; failing rows hold NaN.

    Attributes:
        gamma60: Γ60 per row (NaN where Table 23E has no solution).
        rho15: Density at 15 °C, kg/m³, unrounded.
        ctl: CTL(15 °C → t), unrounded.
        no_solution: Rows where no Γ60 in scope matches.
        supercritical: Rows above the pseudo-critical temperature at t.
    """

    gamma60: FloatArray
    rho15: FloatArray
    ctl: FloatArray
    no_solution: NDArray[np.bool_]
    supercritical: NDArray[np.bool_]


def tables_53e_54e_arrays(density: FloatArray, observed: NDArray[np.bool_], t_c: FloatArray) -> LpgBatch:
    """Table 53E (observed rows) and 54E (15 °C rows) for many rows at once.

    Same steps and arithmetic as :func:`table_53e` / :func:`table_54e`.

    Args:
        density: Observed density at t (observed rows) or density at 15 °C, kg/m³.
        observed: True where ``density`` is observed at t.
        t_c: Temperatures, °C.

    Returns:
        Γ60, ρ15 and CTL with the failure masks.
    """
    t_f = 1.8 * t_c + 32.0
    gamma60 = table_23e_arrays(density / WATER_DENSITY_60F_KGM3, np.where(observed, t_f, BASE_TEMP_F))
    no_solution = np.isnan(gamma60)
    g = np.where(no_solution, GAMMA60_RANGE[1], gamma60)  # placeholder keeps the formulas finite
    pair = fluid_pair_arrays(g)
    supercritical = ~no_solution & (f_to_kelvin(t_f) > critical_temperature_k(pair, g))
    ctl_base = ctl_24(pair, g, np.broadcast_to(BASE_TEMP_F, g.shape), VECTOR)
    ctl_t = ctl_24(pair, g, t_f, VECTOR)
    bad = no_solution | supercritical
    rho15 = np.where(observed, WATER_DENSITY_60F_KGM3 * g * ctl_base, density)
    return LpgBatch(
        np.where(no_solution, np.nan, g),
        np.where(bad, np.nan, rho15),
        np.where(bad, np.nan, ctl_t / ctl_base),
        no_solution,
        supercritical,
    )
