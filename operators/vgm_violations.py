"""VGM violations: one record per finding, stored in ``vgm_violations`` and raised as an alert.

Violation kinds (issue 6) and the alert kind each raises:

=====================  ===========================  ==========================================
violation              alert                        entity
=====================  ===========================  ==========================================
tolerance              vgm_deviation                container
payload_exceeded       vgm_over_payload             container
missing_vgm            vgm_missing                  container (resolved once a VGM is known)
multiple_containers    vgm_multiple_containers      weighing
instrument_overdue     vgm_instrument_expired       instrument (one per weighing on it)
method2_not_allowed    vgm_unauthorised_method2     container
=====================  ===========================  ==========================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from operators.alerts import Alert, Severity

FLOW = "vgm"

#: violation kind → (alert kind, severity, entity type)
KINDS: Mapping[str, tuple[str, Severity, str]] = {
    "tolerance": ("vgm_deviation", "warning", "container"),
    "payload_exceeded": ("vgm_over_payload", "critical", "container"),
    "missing_vgm": ("vgm_missing", "warning", "container"),
    "multiple_containers": ("vgm_multiple_containers", "warning", "weighing"),
    "instrument_overdue": ("vgm_instrument_expired", "critical", "instrument"),
    "method2_not_allowed": ("vgm_unauthorised_method2", "warning", "container"),
}
VGM_ALERT_KINDS = frozenset(k for k, _s, _e in KINDS.values())


@dataclass(frozen=True)
class Violation:
    """One finding of a VGM check.

    Attributes:
        kind: One of :data:`KINDS`.
        entity_id: Container number, weighing id or instrument id (see the table above).
        ts: Event time of the finding.
        message: One sentence for the operator.
        container_number: The container concerned (empty when none, e.g. an empty-vehicle weighing).
        weighing_id: The weighing concerned, if any.
        discriminator: Tells apart findings of one kind, entity and time.
        details: Evidence.
    """

    kind: str
    entity_id: str
    ts: datetime
    message: str
    container_number: str = ""
    weighing_id: str = ""
    discriminator: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown VGM violation kind {self.kind!r}")

    def alert(self) -> Alert:
        """The alert this violation raises."""
        alert_kind, severity, entity_type = KINDS[self.kind]
        return Alert(kind=alert_kind, severity=severity, entity_type=entity_type, entity_id=self.entity_id,
                     window_start=self.ts, window_end=self.ts, message=self.message,
                     details={"violation": self.kind, "container_number": self.container_number,
                              "weighing_id": self.weighing_id, **self.details},
                     flow=FLOW, discriminator=self.discriminator)

    def row(self) -> dict[str, Any]:
        """The ``vgm_violations`` row (keyed by the alert id)."""
        return {"violation_id": self.alert().alert_id, "ts": self.ts, "kind": self.kind,
                "container_number": self.container_number, "weighing_id": self.weighing_id,
                "entity_id": self.entity_id, "message": self.message,
                "details": json.dumps(dict(self.details), sort_keys=True, ensure_ascii=False, default=str)}
