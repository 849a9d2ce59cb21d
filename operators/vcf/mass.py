"""Mass from a standard volume at 15 °C (research note §3).

``mass_vacuum_kg`` is the true mass, GSV15 × ρ15. ``mass_air_kg`` is the
weight in air of the ASTM/IP Table 56 convention, GSV15 × (ρ15 − 1.1 kg/m³)
(kg/L: ρ15 − 0.0011). ``mass_air_11_5_3_kg`` is the API MPMS 11.5.3 (2009)
alternative, kept for comparison while the customs rule is confirmed.
All work on floats and on NumPy arrays (element-wise, broadcasting).
"""

from __future__ import annotations

from typing import overload

from operators.vcf.backend import FloatArray

AIR_BUOYANCY_KGM3 = 1.1
"""Table 56 air-buoyancy deduction, kg/m³ (0.0011 kg/L)."""

API_11_5_3_SLOPE = 1.000149926
"""API MPMS 11.5.3: apparent density in air = slope × ρ15 − offset."""
API_11_5_3_OFFSET_KGM3 = 1.199407795
"""API MPMS 11.5.3 offset, kg/m³."""


@overload
def mass_vacuum_kg(gsv_15c_m3: float, density_15c_kgm3: float) -> float: ...
@overload
def mass_vacuum_kg(gsv_15c_m3: FloatArray, density_15c_kgm3: FloatArray | float) -> FloatArray: ...
@overload
def mass_vacuum_kg(gsv_15c_m3: float, density_15c_kgm3: FloatArray) -> FloatArray: ...
def mass_vacuum_kg(gsv_15c_m3: float | FloatArray, density_15c_kgm3: float | FloatArray) -> float | FloatArray:
    """Mass in vacuo, kg.

    Args:
        gsv_15c_m3: Gross standard volume at 15 °C, m³.
        density_15c_kgm3: Density at 15 °C (in vacuo), kg/m³.

    Returns:
        GSV15 × ρ15.
    """
    return gsv_15c_m3 * density_15c_kgm3


@overload
def mass_air_kg(gsv_15c_m3: float, density_15c_kgm3: float) -> float: ...
@overload
def mass_air_kg(gsv_15c_m3: FloatArray, density_15c_kgm3: FloatArray | float) -> FloatArray: ...
@overload
def mass_air_kg(gsv_15c_m3: float, density_15c_kgm3: FloatArray) -> FloatArray: ...
def mass_air_kg(gsv_15c_m3: float | FloatArray, density_15c_kgm3: float | FloatArray) -> float | FloatArray:
    """Weight in air (Table 56 convention), kg.

    Args:
        gsv_15c_m3: Gross standard volume at 15 °C, m³.
        density_15c_kgm3: Density at 15 °C (in vacuo), kg/m³.

    Returns:
        GSV15 × (ρ15 − 1.1).
    """
    return gsv_15c_m3 * (density_15c_kgm3 - AIR_BUOYANCY_KGM3)


@overload
def mass_air_11_5_3_kg(gsv_15c_m3: float, density_15c_kgm3: float) -> float: ...
@overload
def mass_air_11_5_3_kg(gsv_15c_m3: FloatArray, density_15c_kgm3: FloatArray | float) -> FloatArray: ...
@overload
def mass_air_11_5_3_kg(gsv_15c_m3: float, density_15c_kgm3: FloatArray) -> FloatArray: ...
def mass_air_11_5_3_kg(gsv_15c_m3: float | FloatArray, density_15c_kgm3: float | FloatArray) -> float | FloatArray:
    """Weight in air per API MPMS 11.5.3 (2009), kg (research note §3, not the default).

    Args:
        gsv_15c_m3: Gross standard volume at 15 °C, m³.
        density_15c_kgm3: Density at 15 °C (in vacuo), kg/m³.

    Returns:
        GSV15 × (1.000149926·ρ15 − 1.199407795).
    """
    return gsv_15c_m3 * (API_11_5_3_SLOPE * density_15c_kgm3 - API_11_5_3_OFFSET_KGM3)
