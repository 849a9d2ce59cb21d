"""A batch of readings: :func:`correct_batch` and its result :class:`BatchCorrection`.

Vectorised NumPy over the whole batch (one product group per call): the
§11.1.6.2 iteration runs on all rows at once, observed rows at (t, P) and
15 °C rows at (59 °F, 0), and drops converged rows as it goes. Row ``i`` gives
the numbers and the error text :func:`operators.vcf.correction.correct` gives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from operators.vcf import api_11_1_batch, lpg_tp27
from operators.vcf.api_11_1 import KPA_PER_PSI, c_to_f, t_star_f
from operators.vcf.backend import FloatArray
from operators.vcf.correction import BASE_TEMP_C, edition_for
from operators.vcf.errors import VcfError
from operators.vcf.groups import GroupSpec, Method, group_spec
from operators.vcf.limits import RowErrors, checked_alpha60, input_checks, not_finite_message, rho60_message
from operators.vcf.rounding import (
    INC_DENSITY_KGM3,
    INC_FACTOR,
    INC_PRESSURE_KPA,
    INC_TEMP_C,
    round_to_increment,
)


@dataclass(frozen=True)
class BatchCorrection:
    """Result of a batch: float64 arrays of equal length, NaN in rows with errors.

    Attributes:
        density_15c_kgm3: Density at 15 °C, rounded to 0.1 kg/m³.
        density_15c_raw_kgm3: Density at 15 °C, unrounded.
        ctl: CTL rounded to 0.00001.
        cpl: CPL rounded to 0.00001.
        ctpl: CTL × CPL from the unrounded factors, rounded to 0.00001.
        ctl_raw: Unrounded CTL.
        cpl_raw: Unrounded CPL.
        ctpl_raw: Unrounded CTL × CPL.
        error: ``None`` for a good row, else the reason (the text :func:`correct` would raise).
        edition: Calculation standard used.
    """

    density_15c_kgm3: FloatArray
    density_15c_raw_kgm3: FloatArray
    ctl: FloatArray
    cpl: FloatArray
    ctpl: FloatArray
    ctl_raw: FloatArray
    cpl_raw: FloatArray
    ctpl_raw: FloatArray
    error: list[str | None]
    edition: str


def _columns(
    density_kgm3: ArrayLike, observed: ArrayLike, temp_c: ArrayLike, pressure_kpa: ArrayLike
) -> tuple[FloatArray, NDArray[np.bool_], FloatArray, FloatArray]:
    """Inputs as equal-length 1-D columns (scalars broadcast)."""
    try:
        rho = np.asarray(density_kgm3, dtype=np.float64)
        obs = np.asarray(observed, dtype=bool)
        t_c = np.asarray(temp_c, dtype=np.float64)
        p_kpa = np.asarray(pressure_kpa, dtype=np.float64)
        rho, obs, t_c, p_kpa = np.broadcast_arrays(*np.atleast_1d(rho, obs, t_c, p_kpa))
    except (TypeError, ValueError) as exc:
        raise VcfError(f"batch inputs must be numeric columns of equal length: {exc}") from None
    if rho.ndim != 1:
        raise VcfError(f"batch inputs must be 1-D columns, got shape {rho.shape}")
    return rho, obs, t_c, p_kpa


def correct_batch(
    product_group: str,
    density_kgm3: ArrayLike,
    observed: ArrayLike,
    temp_c: ArrayLike,
    pressure_kpa: ArrayLike,
    *,
    alpha60_per_f: float | None = None,
    round_inputs: bool = True,
) -> BatchCorrection:
    """Correct a batch of readings of one product group, vectorised with NumPy.

    Row ``i`` gives the same numbers as ``correct(product_group, density_kgm3[i],
    "observed" if observed[i] else "15c", temp_c[i], pressure_kpa[i], ...)``; a row
    that :func:`correct` would reject holds NaN and the error text instead.

    Args:
        product_group: One of ``PRODUCT_GROUPS`` (one group per call).
        density_kgm3: Densities, kg/m³ (observed at (t, P), or at 15 °C; see ``observed``).
        observed: Per row, True if the density is observed at (t, P), False if at 15 °C.
        temp_c: Temperatures, °C.
        pressure_kpa: Gauge pressures, kPa (negative counts as 0; ignored for LPG).
        alpha60_per_f: α60 in 1/°F for ``special`` and ``biodiesel`` (one value per call).
        round_inputs: Round inputs per §11.1.5.4 first.

    Returns:
        Column results; rows with errors hold NaN and a message.

    Raises:
        VcfError: For call-level problems only: unknown group, missing or
            invalid α60, inputs that are not equal-length numeric columns.
    """
    spec = group_spec(product_group)
    alpha = checked_alpha60(spec, alpha60_per_f, round_inputs)
    rho, obs, t_c, p_kpa = _columns(density_kgm3, observed, temp_c, pressure_kpa)
    errors = RowErrors(rho.size)
    for what, column in (("density", rho), ("temperature", t_c), ("gauge pressure", p_kpa)):
        _flag_not_finite(errors, what, column)
    if round_inputs:
        rho = round_to_increment(rho, INC_DENSITY_KGM3)
        t_c = round_to_increment(t_c, INC_TEMP_C)
        p_kpa = round_to_increment(p_kpa, INC_PRESSURE_KPA)
    p_kpa = np.maximum(p_kpa, 0.0)
    for interval, column in input_checks(spec, t_c, p_kpa, rho):
        errors.check(interval, column)

    if errors.bad.any():
        rows = np.flatnonzero(~errors.bad)
        g_rho, g_obs, g_t, g_p = rho[rows], obs[rows], t_c[rows], p_kpa[rows]
    else:  # the usual case: no copies
        rows = np.arange(rho.size)
        g_rho, g_obs, g_t, g_p = rho, obs, t_c, p_kpa
    # Rows that diverge or leave the correlations' domain become NaN and get an error
    # message below; floating-point warnings about them would only be noise.
    with np.errstate(all="ignore"):
        if spec.method is Method.LPG:
            rho15, ctl, cpl, failed = _lpg_rows(errors, rows, g_rho, g_obs, g_t)
        else:
            rho15, ctl, cpl, failed = _api_rows(spec, alpha, errors, rows, g_rho, g_obs, g_t, g_p)
    return _make_batch(rho.size, rows, failed, rho15, ctl, cpl, errors.messages, edition_for(spec))


def _flag_not_finite(errors: RowErrors, what: str, column: FloatArray) -> None:
    errors.flag(~np.isfinite(column), lambda i: not_finite_message(what, float(column[i])))


def _api_rows(
    spec: GroupSpec,
    alpha: float | None,
    errors: RowErrors,
    rows: NDArray[np.intp],
    rho: FloatArray,
    obs: NDArray[np.bool_],
    t_c: FloatArray,
    p_kpa: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.bool_]]:
    """§11.1.7.2 for observed rows and §11.1.7.1 for 15 °C rows, in one iteration."""
    t_f = c_to_f(t_c)
    t_star = t_star_f(t_f)
    p_psi = p_kpa / KPA_PER_PSI
    base_f = c_to_f(BASE_TEMP_C)
    # §11.1.7.1 iterates the 15 °C density as if observed at 59 °F and 0 gauge.
    rho60, converged = api_11_1_batch.base_density(
        spec,
        rho,
        np.where(obs, t_f, base_f),
        np.where(obs, p_psi, 0.0),
        alpha60=alpha,
        t_star=np.where(obs, t_star, t_star_f(base_f)),
    )
    lo, hi = spec.rho60_range
    failed = ~(converged & (rho60 >= lo) & (rho60 <= hi))
    _flag_subset(errors, rows, failed, lambda j: rho60_message(spec, float(rho60[j]), bool(converged[j])))
    f = api_11_1_batch.base_factors(spec, rho60, t_f, p_psi, base_temp_f=base_f, alpha60=alpha, t_star=t_star)
    rho15 = np.where(obs, rho60 * f.ctl_base, rho)
    return rho15, f.ctl_t / f.ctl_base, f.cpl_t, failed


def _lpg_rows(
    errors: RowErrors,
    rows: NDArray[np.intp],
    rho: FloatArray,
    obs: NDArray[np.bool_],
    t_c: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.bool_]]:
    """Tables 53E (observed rows) and 54E (15 °C rows)."""
    res = lpg_tp27.tables_53e_54e_arrays(rho, obs, t_c)

    def no_gamma(j: int) -> str:
        return lpg_tp27.no_gamma60_message(float(rho[j]), float(t_c[j]) if obs[j] else BASE_TEMP_C)

    def supercritical(j: int) -> str:
        return lpg_tp27.supercritical_message(float(res.gamma60[j]), float(t_c[j]))

    _flag_subset(errors, rows, res.no_solution, no_gamma)
    _flag_subset(errors, rows, res.supercritical, supercritical)
    return res.rho15, res.ctl, np.ones_like(res.ctl), res.no_solution | res.supercritical


def _flag_subset(
    errors: RowErrors, rows: NDArray[np.intp], failing: NDArray[np.bool_], message_at: Callable[[int], str]
) -> None:
    """Flag rows of the subset ``rows`` (sorted); ``message_at`` takes a subset position."""
    full = np.zeros(errors.bad.size, dtype=bool)
    full[rows] = failing
    errors.flag(full, lambda i: message_at(int(np.searchsorted(rows, i))))


def _make_batch(
    n: int,
    rows: NDArray[np.intp],
    failed: NDArray[np.bool_],
    rho15: FloatArray,
    ctl: FloatArray,
    cpl: FloatArray,
    messages: list[str | None],
    edition: str,
) -> BatchCorrection:
    ctpl = ctl * cpl
    keep = ~failed
    ok = rows[keep]
    every_row = ok.size == n  # the usual case: results are already in row order

    def scatter(values: FloatArray) -> FloatArray:
        if every_row:
            return values
        out = np.full(n, np.nan)
        out[ok] = values[keep]
        return out

    rho15_all, ctl_all, cpl_all, ctpl_all = scatter(rho15), scatter(ctl), scatter(cpl), scatter(ctpl)
    return BatchCorrection(
        density_15c_kgm3=round_to_increment(rho15_all, INC_DENSITY_KGM3),
        density_15c_raw_kgm3=rho15_all,
        ctl=round_to_increment(ctl_all, INC_FACTOR),
        cpl=round_to_increment(cpl_all, INC_FACTOR),
        ctpl=round_to_increment(ctpl_all, INC_FACTOR),
        ctl_raw=ctl_all,
        cpl_raw=cpl_all,
        ctpl_raw=ctpl_all,
        error=messages,
        edition=edition,
    )
