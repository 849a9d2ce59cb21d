"""DBA (verified gross mass) certificates: numbering, fee, audit chain and reprint (Art. 5(5), 13, 14).

The certificate number is the instrument's number, the year and the sequence of the weighing within that
year on that instrument (Art. 14(2)(a)): ``34-0117-2026-000042``. The sequence lives in the one
:class:`CertificateRegistry` (Bytewax state), so numbers are unique, gapless per instrument and year, follow
event order, and a replay of the same input gives the same numbers. The registry also holds the ``vgm``
audit chain: every issued certificate is appended as it is numbered (the measured values then cannot be
altered unnoticed, Art. 14(2)(ç–d)).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from operators.audit_chain import AuditChain
from operators.events import iso_ms
from operators.vgm_policy import VgmPolicy
from operators.vgm_rules import local_date

CHAIN = "vgm"
ENTRY_TYPE = "vgm_certificate"
TABLE = "vgm_certificates"


@dataclass(frozen=True)
class CertificateRequest:
    """A verified gross mass ready for a certificate, before it is numbered.

    Attributes:
        container_number: The container.
        vgm_kg: Verified gross mass, kg (the measured value, unchanged).
        max_payload_kg: Maximum payload from the CSC data.
        max_gross_kg: Maximum gross mass from the CSC data.
        weighed_at: Time of the loaded (or container-alone) weighing.
        ts: Time the certificate is issued (event time of the event that completed it).
        instrument_id: Instrument of the loaded weighing.
        operator_id: Person on duty (the signer).
        derivation: ``in_out_pair`` | ``recorded_tare`` | ``container_alone``.
        weighing_ids: Weighings used.
        gross_reading_kg: Loaded reading.
        deduction_kg: Subtracted vehicle mass.
        shipper: Shipper from the declaration, when one is known.
        method: 1 (the terminal's weighing).
    """

    container_number: str
    vgm_kg: float
    max_payload_kg: float
    max_gross_kg: float
    weighed_at: datetime
    ts: datetime
    instrument_id: str
    operator_id: str
    derivation: str
    weighing_ids: tuple[str, ...]
    gross_reading_kg: float
    deduction_kg: float
    shipper: str = ""
    method: int = 1

    @property
    def request_id(self) -> str:
        """Deterministic id of the weighing process: one certificate per process, however often seen."""
        return hashlib.blake2b("|".join(self.weighing_ids).encode(), digest_size=12).hexdigest()


def certificate_no(instrument_no: str, year: int, seq: int) -> str:
    """DBA number: instrument number, year, sequence within the year (Art. 14(2)(a))."""
    return f"{instrument_no}-{year:04d}-{seq:06d}"


def control_fee(policy: VgmPolicy) -> float:
    """The DBA control fee per certificate: ``fee_pct`` (5 %) of the ceiling price (Art. 13(2))."""
    return round(policy.ceiling_price * policy.fee_pct / 100.0, 2)


@dataclass
class CertificateRegistry:
    """Sequences per instrument and year, the ``vgm`` audit chain and the processes already certified.

    Attributes:
        sequences: Last sequence per ``instrument_no/year``.
        chain: The audit chain head.
        issued: Certificate number per request id.
    """

    sequences: dict[str, int] = field(default_factory=dict)
    chain: AuditChain = field(default_factory=lambda: AuditChain(CHAIN))
    issued: dict[str, str] = field(default_factory=dict)

    def issue(self, req: CertificateRequest, policy: VgmPolicy) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Number and record one certificate.

        Args:
            req: The verified gross mass.
            policy: Instruments, persons, operator and fee.

        Returns:
            ``(vgm_certificates row, audit_log row)``, or ``None`` when this weighing process already has
            a certificate.
        """
        if req.request_id in self.issued:
            return None
        inst = policy.instruments[req.instrument_id]
        signer = policy.signers[req.operator_id]
        year = local_date(req.weighed_at, policy.utc_offset).year
        key = f"{inst.number}/{year}"
        seq = self.sequences.get(key, 0) + 1
        self.sequences[key] = seq
        number = certificate_no(inst.number, year, seq)
        row: dict[str, Any] = {
            "certificate_no": number, "container_number": req.container_number,
            "max_payload_kg": req.max_payload_kg, "max_gross_kg": req.max_gross_kg, "vgm_kg": req.vgm_kg,
            "unit": "kg", "weighed_at": req.weighed_at,
            "weighed_on": local_date(req.weighed_at, policy.utc_offset).isoformat(),
            "instrument_id": req.instrument_id, "instrument_no": inst.number,
            "instrument_inspected_on": inst.last_inspection.isoformat(), "method": req.method,
            "derivation": req.derivation, "weighing_ids": list(req.weighing_ids),
            "gross_reading_kg": req.gross_reading_kg, "deduction_kg": req.deduction_kg,
            "operator_name": policy.operator_name, "operator_no": policy.operator_no,
            "authorization_no": policy.authorization_no, "signer_name": signer.name,
            "signer_title": signer.title, "signer_national_id": signer.national_id, "shipper": req.shipper,
            "year": year, "seq": seq, "fee": control_fee(policy), "currency": policy.currency,
            "request_id": req.request_id, "ts": req.ts,
        }
        audit = self.chain.append(ENTRY_TYPE, TABLE, number, row, req.ts)
        assert audit is not None  # a new certificate number is a new subject
        self.issued[req.request_id] = number
        return row, audit


_LABELS = (
    ("certificate_no", "Belge no / Certificate no"),
    ("container_number", "Konteyner no / Container number"),
    ("max_payload_kg", "Azami taşıma kapasitesi / Maximum payload"),
    ("vgm_kg", "Doğrulanmış brüt ağırlık / Verified gross mass"),
    ("unit", "Ölçü birimi / Unit"),
    ("weighed_at", "Tartım tarihi / Weighing date"),
    ("instrument_no", "Tartı aleti no / Weighing instrument"),
    ("method", "Yöntem / Method"),
    ("operator_name", "Tartı operatörü / Weighing operator"),
    ("authorization_no", "Yetki belgesi no / Authorisation no"),
    ("signer_name", "İmzalayan / Signed by"),
    ("shipper", "Yükleten / Shipper"),
    ("fee", "DBA kontrol ücreti / Control fee"),
)


def certificate_text(row: Mapping[str, Any]) -> str:
    """A printable, bilingual (Turkish/English) reprint of a stored certificate (Art. 4, 14(2)(f))."""
    lines = ["DOĞRULANMIŞ BRÜT AĞIRLIK BELGESİ / VERIFIED GROSS MASS CERTIFICATE", ""]
    for key, label in _LABELS:
        v = row.get(key)
        if key == "weighed_at" and isinstance(v, datetime):
            text = f"{iso_ms(v)} (local date {row.get('weighed_on', '')})"
        elif key in ("max_payload_kg", "vgm_kg"):
            text = f"{float(v):,.0f} kg" if v is not None else ""
        elif key == "instrument_no":
            text = f"{v} ({row.get('instrument_id', '')}, inspected {row.get('instrument_inspected_on', '')})"
        elif key == "method":
            text = f"Yöntem-{v} / Method {v} ({row.get('derivation', '')})"
        elif key == "signer_name":
            text = f"{v}" + (f", {row['signer_title']}" if row.get("signer_title") else "")
        elif key == "fee":
            text = f"{float(v or 0.0):.2f} {row.get('currency', '')}"
        else:
            text = "" if v is None else str(v)
        lines.append(f"{label:<48} {text}")
    lines.append(f"{'Tartımlar / Weighings':<48} {', '.join(row.get('weighing_ids') or [])}")
    return "\n".join(lines) + "\n"
