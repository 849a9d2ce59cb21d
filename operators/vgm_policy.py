"""VGM site policy: tolerance, fee, authorisations, weighing instruments, persons, vehicle tares, CSC data.

Built from the ``[vgm]`` section of the site configuration (see the demo site TOML); every rule and the
certificate numbering take their parameters from here, so a jurisdiction's values are configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

#: Cargo for which Method 2 is not acceptable (directive Art. 24(5)): scrap metal, unbagged grain,
#: bulk cargo, unprocessed marble blocks.
METHOD2_EXCLUDED_CARGO = frozenset({"scrap_metal", "unbagged_grain", "bulk", "raw_marble"})


@dataclass(frozen=True)
class Instrument:
    """A weighing instrument (weighbridge) with its last periodic inspection (Art. 20).

    Attributes:
        instrument_id: Id in the weighbridge stream.
        number: Number assigned by the Administration (prefix of the DBA certificate number).
        last_inspection: Date of the last periodic inspection and verification.
    """

    instrument_id: str
    number: str
    last_inspection: date


@dataclass(frozen=True)
class Signer:
    """An authorised person of the weighing operator (Art. 14(2)(a): name and national id)."""

    operator_id: str
    name: str
    national_id: str
    title: str = ""


@dataclass(frozen=True)
class CscPlate:
    """Safety-approval plate data of a container (CSC): maximum gross mass and tare, kg."""

    max_gross_kg: float
    tare_kg: float


@dataclass(frozen=True)
class VgmPolicy:
    """Everything the VGM rules and certificates depend on.

    Attributes:
        deviation_pct: Declared vs verified tolerance, percent of the verified mass (Art. 5(16)).
        fuel_allowance_kg: Fuel assumed on board on top of a vehicle's recorded tare (Art. 22(5)(b)).
        ceiling_price: The Administration's ceiling price of a weighing service (Art. 13(1)).
        fee_pct: Control fee per DBA certificate, percent of the ceiling price (Art. 13(2)).
        currency: Currency of the prices.
        utc_offset_hours: Offset of the site's local time; the certificate year is the local year.
        pair_window_h: Longest time between a loaded weighing and the same vehicle's empty weighing.
        reorder_s: Event-time window within which late-arriving events are still applied in time order.
        operator_name: The authorised weighing operator (certificate field).
        operator_no: The weighing operator's number (Art. 14(2)(a)).
        authorization_no: The operator's authorisation certificate number (Method 1).
        authorised_method2: Shippers authorised for Method 2 (Art. 24(3)).
        method2_excluded_cargo: Cargo kinds Method 2 may never be used for (Art. 24(5)).
        instruments: Weighing instruments by id.
        signers: Authorised persons by operator id.
        vehicle_tares: Recorded (fixed) tare per vehicle plate, kg (Art. 14(2)(e), 22(5)(b)).
        csc: CSC plate data per container number, used when a declaration carries none.
    """

    deviation_pct: float = 5.0
    fuel_allowance_kg: float = 0.0
    ceiling_price: float = 0.0
    fee_pct: float = 5.0
    currency: str = "TRY"
    utc_offset_hours: float = 3.0
    pair_window_h: float = 12.0
    reorder_s: float = 120.0
    operator_name: str = ""
    operator_no: str = ""
    authorization_no: str = ""
    authorised_method2: frozenset[str] = frozenset()
    method2_excluded_cargo: frozenset[str] = METHOD2_EXCLUDED_CARGO
    instruments: Mapping[str, Instrument] = field(default_factory=dict)
    signers: Mapping[str, Signer] = field(default_factory=dict)
    vehicle_tares: Mapping[str, float] = field(default_factory=dict)
    csc: Mapping[str, CscPlate] = field(default_factory=dict)

    @property
    def utc_offset(self) -> timedelta:
        """The site's UTC offset."""
        return timedelta(hours=self.utc_offset_hours)


def vgm_policy(raw: Mapping[str, Any]) -> VgmPolicy:
    """Build the policy from the raw ``[vgm]`` table.

    Raises:
        ValueError: On a missing or invalid value.
        KeyError: On a missing required key of an instrument or signer.
    """
    instruments = {}
    for i in raw.get("instruments", []):
        inspected = i["last_inspection"]
        inst = Instrument(str(i["instrument_id"]), str(i["number"]),
                          inspected if isinstance(inspected, date) else date.fromisoformat(str(inspected)))
        instruments[inst.instrument_id] = inst
    signers = {}
    for s in raw.get("signers", []):
        signer = Signer(str(s["operator_id"]), str(s["name"]), str(s["national_id"]), str(s.get("title", "")))
        signers[signer.operator_id] = signer
    csc = {str(k): CscPlate(float(v["max_gross_kg"]), float(v["tare_kg"])) for k, v in raw.get("csc", {}).items()}
    policy = VgmPolicy(
        deviation_pct=float(raw.get("deviation_pct", 5.0)),
        fuel_allowance_kg=float(raw.get("fuel_allowance_kg", 0.0)),
        ceiling_price=float(raw.get("ceiling_price", 0.0)),
        fee_pct=float(raw.get("fee_pct", 5.0)),
        currency=str(raw.get("currency", "TRY")),
        utc_offset_hours=float(raw.get("utc_offset_hours", 3.0)),
        pair_window_h=float(raw.get("pair_window_h", 12.0)),
        reorder_s=float(raw.get("reorder_s", 120.0)),
        operator_name=str(raw.get("operator_name", "")),
        operator_no=str(raw.get("operator_no", "")),
        authorization_no=str(raw.get("authorization_no", "")),
        authorised_method2=frozenset(str(s) for s in raw.get("authorised_method2", [])),
        method2_excluded_cargo=frozenset(str(s) for s in raw.get("method2_excluded_cargo", METHOD2_EXCLUDED_CARGO)),
        instruments=instruments,
        signers=signers,
        vehicle_tares={str(k): float(v) for k, v in raw.get("vehicle_tares", {}).items()},
        csc=csc,
    )
    if min(policy.deviation_pct, policy.fee_pct, policy.ceiling_price, policy.reorder_s) < 0:
        raise ValueError("vgm: deviation_pct, fee_pct, ceiling_price and reorder_s must not be negative")
    return policy
