"""One reading: :func:`correct` and its result :class:`Correction`.

Plain Python floats and :mod:`math` only (no NumPy per reading). The batch
path (:mod:`operators.vcf.batch`) validates the same limits in the same order,
runs the same formulas and rounds the same way (§11.1.5.4): CTL, CPL, CTPL to
0.00001 (CTPL from the unrounded CTL×CPL), ρ15 to 0.1 kg/m³. With
``round_inputs`` the density, temperature and pressure are first rounded to
0.1 kg/m³, 0.05 °C and 5 kPa (α60 to 0.1e-6 /°F).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from operators.vcf import lpg_tp27
from operators.vcf.api_11_1 import (
    EDITION_API,
    KPA_PER_PSI,
    BaseCorrection,
    base_to_alternate_at,
    observed_to_base_at,
)
from operators.vcf.errors import VcfError
from operators.vcf.groups import GroupSpec, Method, group_spec
from operators.vcf.limits import as_float, checked_alpha60, first_failure, input_checks, rho60_message
from operators.vcf.lpg_tp27 import EDITION_LPG
from operators.vcf.rounding import (
    INC_DENSITY_KGM3,
    INC_FACTOR,
    INC_PRESSURE_KPA,
    INC_TEMP_C,
    round_to_increment,
)

DensityBasis = Literal["observed", "15c"]
"""``"observed"``: density measured at (t, P); ``"15c"``: density already at 15 °C."""

BASE_TEMP_C = 15.0
"""Base temperature of the public API, °C."""


@dataclass(frozen=True)
class Correction:
    """Result of one correction.

    Attributes:
        density_15c_kgm3: Density at 15 °C, rounded to 0.1 kg/m³.
        density_15c_raw_kgm3: Density at 15 °C, unrounded.
        ctl: CTL(15 °C ↔ t) rounded to 0.00001 (V15 = V_t × CTL × CPL).
        cpl: CPL(t, P) rounded to 0.00001.
        ctpl: CTL × CPL from the unrounded factors, rounded to 0.00001.
        ctl_raw: Unrounded CTL.
        cpl_raw: Unrounded CPL.
        ctpl_raw: Unrounded CTL × CPL.
        edition: Calculation standard used.
    """

    density_15c_kgm3: float
    density_15c_raw_kgm3: float
    ctl: float
    cpl: float
    ctpl: float
    ctl_raw: float
    cpl_raw: float
    ctpl_raw: float
    edition: str


def edition_for(spec: GroupSpec) -> str:
    """The calculation standard used for a product group."""
    return EDITION_LPG if spec.method is Method.LPG else EDITION_API


def correct(
    product_group: str,
    density_kgm3: float,
    density_basis: str,
    temp_c: float,
    pressure_kpa: float = 0.0,
    *,
    alpha60_per_f: float | None = None,
    round_inputs: bool = True,
) -> Correction:
    """Correct one reading to 15 °C (plain Python floats, no NumPy).

    Args:
        product_group: One of ``PRODUCT_GROUPS``.
        density_kgm3: Density in kg/m³: observed at (t, P), or at 15 °C (see ``density_basis``).
        density_basis: ``"observed"`` (§11.1.7.2 / Table 53E) or ``"15c"`` (§11.1.7.1 / Table 54E).
        temp_c: Temperature of the liquid (observed or alternate), °C.
        pressure_kpa: Gauge pressure, kPa; negative values count as 0; ignored for LPG.
        alpha60_per_f: α60 in 1/°F; required for ``special`` and ``biodiesel``, rejected otherwise.
        round_inputs: Round inputs per §11.1.5.4 first (density 0.1 kg/m³,
            temperature 0.05 °C, pressure 5 kPa, α60 0.1e-6 /°F).

    Returns:
        The correction with rounded and unrounded factors.

    Raises:
        VcfError: For an unknown group or basis, a non-numeric or non-finite
            input, a missing/unexpected α60, or any value outside the limits.
    """
    spec = group_spec(product_group)
    if density_basis not in ("observed", "15c"):
        raise VcfError(f"density_basis must be 'observed' or '15c', got {density_basis!r}")
    observed = density_basis == "observed"
    alpha = checked_alpha60(spec, alpha60_per_f, round_inputs)
    rho = as_float(density_kgm3, "density")
    t_c = as_float(temp_c, "temperature")
    p_kpa = as_float(pressure_kpa, "gauge pressure")
    if round_inputs:
        rho = round_to_increment(rho, INC_DENSITY_KGM3)
        t_c = round_to_increment(t_c, INC_TEMP_C)
        p_kpa = round_to_increment(p_kpa, INC_PRESSURE_KPA)
    p_kpa = max(p_kpa, 0.0)
    problem = first_failure(input_checks(spec, t_c, p_kpa, rho))
    if problem is not None:
        raise VcfError(problem)

    if spec.method is Method.LPG:
        lpg = lpg_tp27.table_53e(rho, t_c) if observed else lpg_tp27.table_54e(rho, t_c)
        return _make_correction(lpg.rho15, lpg.ctl, 1.0, EDITION_LPG)

    p_psi = p_kpa / KPA_PER_PSI
    result: BaseCorrection = (
        observed_to_base_at(spec, rho, t_c, p_psi, alpha60=alpha)
        if observed
        else base_to_alternate_at(spec, rho, t_c, p_psi, alpha60=alpha)
    )
    lo, hi = spec.rho60_range
    if not (result.converged and lo <= result.rho60 <= hi):
        raise VcfError(rho60_message(spec, result.rho60, result.converged))
    return _make_correction(result.rho_base, result.ctl, result.cpl, EDITION_API)


def _make_correction(rho15: float, ctl: float, cpl: float, edition: str) -> Correction:
    ctpl = ctl * cpl
    return Correction(
        density_15c_kgm3=round_to_increment(rho15, INC_DENSITY_KGM3),
        density_15c_raw_kgm3=rho15,
        ctl=round_to_increment(ctl, INC_FACTOR),
        cpl=round_to_increment(cpl, INC_FACTOR),
        ctpl=round_to_increment(ctpl, INC_FACTOR),
        ctl_raw=ctl,
        cpl_raw=cpl,
        ctpl_raw=ctpl,
        edition=edition,
    )
