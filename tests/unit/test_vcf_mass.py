"""Mass in vacuo and weight in air (research note §3 worked numbers)."""

from __future__ import annotations

import numpy as np
import pytest

from operators.vcf import AIR_BUOYANCY_KGM3, mass_air_11_5_3_kg, mass_air_kg, mass_vacuum_kg

# Research note §3 table: V15 m³, ρ15 kg/m³, mass in vacuo kg, mass in air (Table 56) kg,
# mass in air (API MPMS 11.5.3) kg — published to 0.001 kg.
TABLE = [
    (1000.0, 835.0, 835_000.000, 833_900.000, 833_925.780),
    (2500.0, 745.0, 1_862_500.000, 1_859_750.000, 1_859_780.718),
    (1234.567, 991.0, 1_223_455.897, 1_222_097.873, 1_222_158.576),
]


@pytest.mark.parametrize(("v15", "rho15", "vac", "air", "air_11_5_3"), TABLE)
def test_worked_numbers(v15: float, rho15: float, vac: float, air: float, air_11_5_3: float) -> None:
    assert mass_vacuum_kg(v15, rho15) == pytest.approx(vac, abs=5e-4)
    assert mass_air_kg(v15, rho15) == pytest.approx(air, abs=5e-4)
    assert mass_air_11_5_3_kg(v15, rho15) == pytest.approx(air_11_5_3, abs=5e-4)


def test_arrays() -> None:
    v15 = np.array([t[0] for t in TABLE])
    rho15 = np.array([t[1] for t in TABLE])
    np.testing.assert_allclose(mass_vacuum_kg(v15, rho15), [t[2] for t in TABLE], atol=5e-4, rtol=0)
    np.testing.assert_allclose(mass_air_kg(v15, rho15), [t[3] for t in TABLE], atol=5e-4, rtol=0)
    np.testing.assert_allclose(mass_air_kg(v15, 835.0), v15 * 833.9, rtol=1e-15)


def test_air_buoyancy_constant() -> None:
    # Table 56: 0.0011 kg/L.
    assert AIR_BUOYANCY_KGM3 == 1.1
