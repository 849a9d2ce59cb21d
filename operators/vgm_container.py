"""Per-container VGM state: declarations and weighings in, checks, certificate requests and the block list out.

One :class:`ContainerVgm` per container number, fed in event order with the shipper's declarations, the
Method 1 measurements and the weighbridge notices. It applies Art. 7 (tolerance; the verified value
prevails), Art. 8 (payload), Art. 9 (empties), Art. 12 (no VGM, not loadable), Art. 24 (Method 2), asks
for a certificate once a measured mass passes the payload check, and keeps the container's loadable/blocked
status. Condition alerts (missing VGM, over payload) are resolved when the condition ends.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from operators.alerts import Alert
from operators.events import iso_ms
from operators.vgm_certificate import CertificateRequest
from operators.vgm_events import Declaration
from operators.vgm_policy import VgmPolicy
from operators.vgm_rules import (
    PayloadLimit,
    beyond_tolerance,
    deviation_pct,
    method2_refusal,
    needs_vgm,
    over_payload,
    payload_limit,
)
from operators.vgm_violations import Violation
from operators.vgm_weighing import ContainerNotice, Measurement

MISSING = "missing_vgm"
PAYLOAD = "payload_exceeded"


@dataclass
class ContainerResult:
    """What one event for a container produces."""

    declaration_rows: list[dict[str, Any]] = field(default_factory=list)
    status_rows: list[dict[str, Any]] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)
    requests: list[CertificateRequest] = field(default_factory=list)


def declaration_id(d: Declaration) -> str:
    """Deterministic id of a declaration (content and time, not the transport position)."""
    key = "|".join((d.container_number, iso_ms(d.ts), str(d.method), d.shipper, repr(d.vgm_kg)))
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


@dataclass
class _Status:
    loadable: bool
    reason: str
    vgm_kg: float | None
    source: str
    missing: bool = False
    over: bool = False


@dataclass
class ContainerVgm:
    """VGM state of one container.

    Attributes:
        container_number: The container.
        declaration: Latest declaration.
        declared_ok: Whether the latest declaration's VGM may be used.
        refusal: Why it may not (empty when it may, or when there is none).
        measurement: Latest Method 1 measurement.
        notice: Latest weighbridge notice without a measurement.
        exempt: Known to be an empty container.
        handled: Measurements (by weighing ids) already checked against the payload.
        checked: Declaration/measurement pairs already compared.
        seen: Declaration ids seen.
        version: Version of the last status row.
        last: Last status written.
        open_alerts: Condition alerts open, by violation kind.
    """

    container_number: str
    declaration: Declaration | None = None
    declared_ok: bool = False
    refusal: str = ""
    measurement: Measurement | None = None
    notice: ContainerNotice | None = None
    exempt: bool = False
    handled: set[tuple[str, ...]] = field(default_factory=set)
    checked: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    version: int = 0
    last: tuple[bool, str, float | None] | None = None
    open_alerts: dict[str, Alert] = field(default_factory=dict)

    def on_declaration(self, d: Declaration, policy: VgmPolicy) -> ContainerResult:
        """Apply a shipper's declaration."""
        res = ContainerResult()
        did = declaration_id(d)
        if did in self.seen:
            return res
        self.seen.add(did)
        refusal = method2_refusal(d.shipper, d.cargo_kind, policy) if d.method == 2 else None
        if refusal is not None:
            res.violations.append(Violation(
                "method2_not_allowed", self.container_number, d.ts,
                f"Method 2 declaration for {self.container_number} by {d.shipper} refused: {refusal}.",
                container_number=self.container_number, discriminator=did,
                details={"shipper": d.shipper, "cargo_kind": d.cargo_kind, "declared_vgm_kg": d.vgm_kg}))
        self.declaration = d
        self.declared_ok = d.vgm_kg is not None and refusal is None
        self.refusal = refusal or ("declared without a verified gross mass" if d.vgm_kg is None else "")
        self.exempt = not needs_vgm(d.load_status)
        res.declaration_rows.append({
            "declaration_id": did, "container_number": d.container_number, "ts": d.ts, "vgm_kg": d.vgm_kg,
            "method": d.method, "shipper": d.shipper, "authorization_no": d.authorization_no, "signer": d.signer,
            "max_payload_kg": d.max_payload_kg, "tare_kg": d.tare_kg, "max_gross_kg": d.max_gross_kg,
            "cargo_kind": d.cargo_kind, "load_status": d.load_status, "accepted": self.declared_ok,
            "reason": self.refusal, "source_position": d.position})
        self._compare(d.ts, policy, res)
        self._certify(d.ts, policy, res)
        self._evaluate(d.ts, policy, res)
        return res

    def on_measurement(self, m: Measurement, policy: VgmPolicy) -> ContainerResult:
        """Apply a Method 1 measurement of the terminal's weighbridge."""
        res = ContainerResult()
        if self.measurement is not None and self.measurement.weighing_ids == m.weighing_ids:
            return res
        self.measurement = m
        self.exempt = False
        self._compare(m.completed_at, policy, res)
        self._certify(m.completed_at, policy, res)
        self._evaluate(m.completed_at, policy, res)
        return res

    def on_notice(self, n: ContainerNotice, policy: VgmPolicy) -> ContainerResult:
        """Apply a weighbridge notice (awaiting the empty weighing, rejected weighing, empty container)."""
        res = ContainerResult()
        if n.state == "empty":
            self.exempt = True
        else:
            self.notice = n
        self._evaluate(n.ts, policy, res)
        return res

    def limit(self, policy: VgmPolicy) -> PayloadLimit | None:
        """CSC limits from the latest declaration, else the configured plate."""
        d = self.declaration
        plate = policy.csc.get(self.container_number)
        if d is None:
            return payload_limit(None, None, None, plate)
        return payload_limit(d.max_gross_kg, d.max_payload_kg, d.tare_kg, plate)

    def _compare(self, ts: datetime, policy: VgmPolicy, res: ContainerResult) -> None:
        d, m = self.declaration, self.measurement
        if d is None or m is None or d.vgm_kg is None:
            return
        key = (declaration_id(d), m.weighing_ids)
        if key in self.checked:
            return
        self.checked.add(key)
        if beyond_tolerance(d.vgm_kg, m.vgm_kg, policy.deviation_pct):
            dev = deviation_pct(d.vgm_kg, m.vgm_kg)
            res.violations.append(Violation(
                "tolerance", self.container_number, ts,
                f"Declared VGM of {self.container_number} ({d.vgm_kg:g} kg by {d.shipper}) differs from the "
                f"verified {m.vgm_kg:g} kg by {dev:+.2f} % (limit ±{policy.deviation_pct:g} %); the verified mass "
                "prevails and the terminal issues the final VGM (Art. 7).",
                container_number=self.container_number, weighing_id=m.weighing_ids[0],
                discriminator="|".join(key[1]),
                details={"declared_kg": d.vgm_kg, "verified_kg": m.vgm_kg, "deviation_pct": round(dev, 4),
                         "limit_pct": policy.deviation_pct, "shipper": d.shipper, "method": d.method}))

    def _certify(self, ts: datetime, policy: VgmPolicy, res: ContainerResult) -> None:
        m = self.measurement
        if m is None or m.weighing_ids in self.handled:
            return
        limit = self.limit(policy)
        if limit is None:
            return
        self.handled.add(m.weighing_ids)
        if over_payload(m.vgm_kg, limit):
            return
        shipper = self.declaration.shipper if self.declaration is not None else ""
        res.requests.append(CertificateRequest(
            self.container_number, m.vgm_kg, limit.max_payload_kg, limit.max_gross_kg, m.weighed_at, ts,
            m.instrument_id, m.operator_id, m.derivation, m.weighing_ids, m.gross_reading_kg, m.deduction_kg,
            shipper))

    def _status(self, policy: VgmPolicy) -> _Status:
        limit = self.limit(policy)
        m, d = self.measurement, self.declaration
        if m is not None or (d is not None and self.declared_ok):
            if m is not None:
                vgm, source = m.vgm_kg, f"verified by weighing (Method 1, {m.derivation})"
            else:
                assert d is not None and d.vgm_kg is not None
                vgm, source = d.vgm_kg, f"declared by {d.shipper} (Method {d.method})"
            if limit is not None and over_payload(vgm, limit):
                return _Status(False, f"{vgm:g} kg exceeds the maximum gross mass {limit.max_gross_kg:g} kg "
                                      f"(payload {limit.max_payload_kg:g} kg): not loadable, no certificate "
                                      "(Art. 8)", vgm, source, over=True)
            if m is not None and limit is None:
                return _Status(False, f"weighed {vgm:g} kg; maximum payload unknown (no CSC plate data): "
                                      "no certificate yet", vgm, source)
            return _Status(True, f"{source}: {vgm:g} kg", vgm, source)
        if self.exempt:
            return _Status(True, "empty container: no VGM required (Art. 9)", None, "exempt")
        n = self.notice
        if n is not None and n.state == "awaiting_pair":
            return _Status(False, n.cause, None, "weighbridge")
        cause = n.cause if n is not None else self.refusal
        return _Status(False, "no verified gross mass (Art. 12): not loadable until weighed by Method 1"
                              + (f" — {cause}" if cause else ""), None, "", missing=True)

    def _evaluate(self, ts: datetime, policy: VgmPolicy, res: ContainerResult) -> None:
        s = self._status(policy)
        self._condition(MISSING, s.missing, ts, res, f"{self.container_number} is packed and has no verified "
                        "gross mass: it may not be loaded; weigh it by Method 1 (Art. 12).",
                        {"reason": s.reason})
        self._condition(PAYLOAD, s.over, ts, res, f"{self.container_number} exceeds its maximum payload: do "
                        "not load it; no VGM certificate may be issued (Art. 8).",
                        {"reason": s.reason, "vgm_kg": s.vgm_kg})
        state = (s.loadable, s.reason, s.vgm_kg)
        if state == self.last:
            return
        self.last = state
        self.version += 1
        res.status_rows.append({"container_number": self.container_number, "ts": ts, "loadable": s.loadable,
                                "reason": s.reason, "vgm_kg": s.vgm_kg, "vgm_source": s.source,
                                "version": self.version})

    def _condition(self, kind: str, active: bool, ts: datetime, res: ContainerResult, message: str,
                   details: dict[str, Any]) -> None:
        if active and kind not in self.open_alerts:
            v = Violation(kind, self.container_number, ts, message, container_number=self.container_number,
                          details=details)
            res.violations.append(v)
            self.open_alerts[kind] = v.alert()
        elif not active and kind in self.open_alerts:
            res.resolved.append(self.open_alerts.pop(kind).with_status("resolved", ts))
