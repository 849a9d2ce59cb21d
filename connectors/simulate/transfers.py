"""Transfer documents of a simulated discharge: the ``open`` event with every contract field and the ``close``.

The document figures are what the paperwork says, not the truth: the B/L quantity differs from the true
weight in air by a realistic 0.1–0.3 % (either sign), and the surveyor's ship-tank figures by up to 0.2 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from connectors.simulate.scenario import DischargeScenario

PRODUCT = "Motorin 10 ppm"
"""Default product name when the site's meters do not name one."""


def transfer_events(
    scenario: DischargeScenario,
    meter_ids: Sequence[str],
    tank_ids: Sequence[str],
    product: str,
    product_group: str,
    mass_air_kg: float,
    open_ts: str,
    close_ts: str,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """The ``open`` and ``close`` transfer events of a discharge.

    Args:
        scenario: The discharge.
        meter_ids: Meters measuring it.
        tank_ids: Shore tanks receiving it.
        product: Product name.
        product_group: Product correction group.
        mass_air_kg: True weight in air at 15 °C of the delivered product.
        open_ts: Time of the ``open`` event (before the pump starts).
        close_ts: Time of the ``close`` event (after the pump stops).
        rng: The seeded generator (document figures and numbers).

    Returns:
        The two events, in time order.
    """
    start = scenario.start
    sign = 1.0 if rng.random() < 0.6 else -1.0  # ship figures are more often above the outturn
    bl_factor = 1.0 + sign * float(rng.uniform(0.001, 0.003))
    survey_factor = 1.0 + float(rng.uniform(-0.002, 0.002))
    rob_m3 = float(rng.uniform(5.0, 25.0))
    seq = int(rng.integers(1, 999_999))
    office = "330100"  # customs office code (Mersin) in declaration numbers
    yy = start.strftime("%y")
    bl_kg = round(mass_air_kg * bl_factor)
    bl_m3 = scenario.total_gsv_15c_m3 * bl_factor
    base: dict[str, Any] = {
        "transfer_id": scenario.transfer_id,
        "direction": "discharge",
        "ship_name": scenario.ship_name,
        "meter_ids": list(meter_ids),
        "tank_ids": list(tank_ids),
        "product": product,
        "product_group": product_group,
        "bl_no": f"BL{start:%y%m}{seq % 100_000:05d}",
        "bl_date": _date(start - timedelta(days=int(rng.integers(4, 12)))),
        "bl_quantity_kg_air": bl_kg,
        "bl_quantity_m3_15c": round(bl_m3, 3),
        "summary_declaration_no": f"{yy}{office}OB{seq:06d}",
        "summary_declaration_date": _date(start - timedelta(days=1)),
        "declaration_no": f"{yy}{office}IM{(seq * 7 + 13) % 1_000_000:06d}",
        "declaration_date": _date(start),
        "declaration_quantity_kg": bl_kg,
        "ship_tank_opening_m3_15c": round(scenario.total_gsv_15c_m3 * survey_factor + rob_m3, 3),
        "ship_tank_closing_m3_15c": round(rob_m3, 3),
    }
    opened = {"transfer_id": scenario.transfer_id, "event": "open", "ts": open_ts} | base
    closed = {"transfer_id": scenario.transfer_id, "event": "close", "ts": close_ts} | base
    return [opened, closed]


def _date(ts: datetime) -> str:
    return ts.date().isoformat()
