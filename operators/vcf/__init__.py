"""Petroleum quantity corrections (pure domain logic, no I/O).

- API MPMS 11.1-2004 (ASTM D1250-04) CTL/CPL on a 15 °C base for crude,
  refined products, lubricating oils and special applications (α60 given);
  biodiesel is treated as a special application.
- GPA TP-27 / API MPMS 11.2.4 Tables 53E/54E for LPG (CPL = 1).
- Mass in vacuo and weight in air from the standard volume.

``correct`` handles one reading with plain Python floats; ``correct_batch``
handles a column batch with NumPy and reports per-row errors.
"""

from operators.vcf.api_11_1 import EDITION_API
from operators.vcf.batch import BatchCorrection, correct_batch
from operators.vcf.correction import Correction, DensityBasis, correct
from operators.vcf.errors import VcfError
from operators.vcf.groups import PRODUCT_GROUPS
from operators.vcf.lpg_tp27 import EDITION_LPG
from operators.vcf.mass import AIR_BUOYANCY_KGM3, mass_air_11_5_3_kg, mass_air_kg, mass_vacuum_kg
from operators.vcf.rounding import round_to_increment

__all__ = [
    "AIR_BUOYANCY_KGM3",
    "EDITION_API",
    "EDITION_LPG",
    "PRODUCT_GROUPS",
    "BatchCorrection",
    "Correction",
    "DensityBasis",
    "VcfError",
    "correct",
    "correct_batch",
    "mass_air_11_5_3_kg",
    "mass_air_kg",
    "mass_vacuum_kg",
    "round_to_increment",
]
