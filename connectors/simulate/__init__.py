"""Seeded, physically plausible simulator of tanker discharges that writes replay directories.

The API lives in :mod:`connectors.simulate.meters` and is re-exported here.
"""

from connectors.simulate.meters import (
    FAULTS,
    DischargeScenario,
    Truth,
    simulate_discharge,
    simulate_readings_file,
)

__all__ = ["FAULTS", "DischargeScenario", "Truth", "simulate_discharge", "simulate_readings_file"]
