"""Public entry of the discharge simulator: scenario, truth and the two writers.

``simulate_discharge`` writes one tanker discharge as a replay directory (``meter.readings.jsonl``,
``tank.readings.jsonl``, ``transfers.jsonl``, ``truth.json``); ``simulate_readings_file`` writes a large one
of back-to-back discharges for benchmarks. The physics lives in :mod:`connectors.simulate.meter_physics`
(meters on the discharge line) and :mod:`connectors.simulate.tanks` (shore tanks).
"""

from connectors.simulate.bench import simulate_readings_file
from connectors.simulate.discharge import simulate_discharge
from connectors.simulate.scenario import FAULTS, DischargeScenario, Truth

__all__ = ["FAULTS", "DischargeScenario", "Truth", "simulate_discharge", "simulate_readings_file"]
