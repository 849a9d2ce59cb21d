"""The directive's checks as pure functions (vgm-yonergesi.txt; requirements V2–V7, V10).

- Art. 20, 22(4): a weighing instrument may be used until one year after its last periodic inspection.
- Art. 9: empty containers need no VGM; dirty tank containers count as packed.
- Art. 5(16), 7: declared vs verified beyond ±5 % of the verified mass is a violation; the verified value
  prevails.
- Art. 8: a container above its maximum gross mass (tare + maximum payload) gets no certificate and is not
  loaded.
- Art. 24(3), (5): Method 2 only from authorised shippers, and never for scrap metal, unbagged grain, bulk
  cargo or unprocessed marble.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from operators.vgm_policy import CscPlate, VgmPolicy


def local_date(ts: datetime, utc_offset: timedelta) -> date:
    """Calendar date of an instant at the site (the date on the certificate and for inspections)."""
    return (ts.astimezone(UTC) + utc_offset).date()


def inspection_valid_until(last_inspection: date) -> date:
    """Last day an instrument may be used: one year after its inspection (29 Feb → 28 Feb)."""
    try:
        return last_inspection.replace(year=last_inspection.year + 1)
    except ValueError:
        return last_inspection.replace(year=last_inspection.year + 1, day=28)


def instrument_usable(last_inspection: date, on: date) -> bool:
    """Whether an instrument inspected on ``last_inspection`` may weigh on ``on`` (Art. 20: ≤ 1 year)."""
    return last_inspection <= on <= inspection_valid_until(last_inspection)


def needs_vgm(load_status: str) -> bool:
    """Whether a container in this state needs a VGM (Art. 9: empties no, dirty tanks yes)."""
    return load_status != "empty"


def deviation_pct(declared_kg: float, verified_kg: float) -> float:
    """Signed deviation of the declared from the verified mass, percent of the verified mass."""
    return (declared_kg - verified_kg) / verified_kg * 100.0


def beyond_tolerance(declared_kg: float, verified_kg: float, tolerance_pct: float) -> bool:
    """Whether the declared mass differs from the verified one by more than ``tolerance_pct``.

    Exactly at the limit is within it. Compared as ``|d − v| · 100 > pct · v`` so integral masses decide
    exactly, without a division.
    """
    return abs(declared_kg - verified_kg) * 100.0 > tolerance_pct * verified_kg


@dataclass(frozen=True)
class PayloadLimit:
    """A container's CSC limits, kg, and where they came from."""

    max_gross_kg: float
    max_payload_kg: float
    tare_kg: float | None
    source: str


def payload_limit(max_gross_kg: float | None, max_payload_kg: float | None, tare_kg: float | None,
                  plate: CscPlate | None) -> PayloadLimit | None:
    """The maximum gross mass and payload from a declaration's CSC data, else the configured plate.

    The payload is max gross − tare (Art. 8); from any two of the three figures the third follows.

    Returns:
        The limits, or ``None`` when neither source gives enough figures.
    """
    if max_gross_kg is not None and tare_kg is not None:
        return PayloadLimit(max_gross_kg, max_payload_kg if max_payload_kg is not None else max_gross_kg - tare_kg,
                            tare_kg, "declaration")
    if max_payload_kg is not None and tare_kg is not None:
        return PayloadLimit(tare_kg + max_payload_kg, max_payload_kg, tare_kg, "declaration")
    if max_gross_kg is not None and max_payload_kg is not None:
        return PayloadLimit(max_gross_kg, max_payload_kg, max_gross_kg - max_payload_kg, "declaration")
    if plate is not None:
        return PayloadLimit(plate.max_gross_kg, plate.max_gross_kg - plate.tare_kg, plate.tare_kg, "config")
    return None


def over_payload(vgm_kg: float, limit: PayloadLimit) -> bool:
    """Whether a gross mass exceeds the container's maximum gross mass (exactly at it is allowed)."""
    return vgm_kg > limit.max_gross_kg


def method2_refusal(shipper: str, cargo_kind: str, policy: VgmPolicy) -> str | None:
    """Why a Method 2 declaration may not be accepted, or ``None`` when it may (Art. 24(3), (5)).

    Args:
        shipper: The declaring shipper.
        cargo_kind: The declared cargo kind (lower case; empty when not declared).
        policy: Authorised shippers and excluded cargo kinds.
    """
    if cargo_kind in policy.method2_excluded_cargo:
        return f"Method 2 is not allowed for {cargo_kind} cargo (Art. 24(5)); weigh by Method 1"
    if shipper not in policy.authorised_method2:
        return f"shipper {shipper!r} is not authorised for Method 2 (Art. 24(3))"
    return None
