"""A small VGM policy and event builders shared by the VGM unit tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from operators.vgm_events import Declaration, Weighing
from operators.vgm_policy import CscPlate, Instrument, Signer, VgmPolicy

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
C1, C2, C3 = "CSQU3054383", "MSCU1234566", "TGHU0000008"

POLICY = VgmPolicy(
    deviation_pct=5.0, fuel_allowance_kg=150.0, ceiling_price=1250.0, fee_pct=5.0, utc_offset_hours=3.0,
    pair_window_h=12.0, operator_name="Terminal", operator_no="TO-1", authorization_no="AUTH-1",
    authorised_method2=frozenset({"Ege Tekstil"}),
    instruments={"WB-1": Instrument("WB-1", "33-0117", date(2025, 9, 15)),
                 "WB-2": Instrument("WB-2", "33-0118", date(2025, 11, 3)),
                 "WB-3": Instrument("WB-3", "33-0042", date(2024, 11, 20))},
    signers={"OP-1": Signer("OP-1", "Ayse Demir", "10000000146", "sorumlu")},
    vehicle_tares={"33 TARE 1": 14820.0},
    csc={C3: CscPlate(30480.0, 2230.0)},
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def weighing(wid: str, minutes: float, reading: float, plate: str, containers: tuple[str, ...], kind: str,
             instrument: str = "WB-1", status: dict[str, str] | None = None) -> Weighing:
    return Weighing(wid, instrument, at(minutes), reading, plate, containers, kind, "OP-1", status or {}, "f:1")


def declaration(container: str, minutes: float, vgm: float | None, method: int = 1, shipper: str = "Akdeniz",
                cargo: str = "general", max_gross: float | None = 30480.0, tare: float | None = 2230.0) -> Declaration:
    return Declaration(container, at(minutes), vgm, method, shipper, "AUTH-S", "Selin", None, tare, max_gross, cargo)
