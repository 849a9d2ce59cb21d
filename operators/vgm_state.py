"""The whole VGM state of a site in one ordered place: vehicles, containers and the certificate registry.

Events are applied strictly in the order they arrive (the replay merges its files in event time), so the
pairing of weighings, the checks and the certificate sequence never depend on how the input was cut into
batches: a replay, a restart from a Bytewax snapshot and a live run give the same numbers. A terminal weighs
a few thousand containers a day, far below what one ordered state handles (see bench/bench_vgm.py).

State that can no longer matter is dropped by event time: vehicles whose loaded weighing is older than the
pairing window, containers untouched for ``retain_days``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from operators.alerts import Alert
from operators.vgm_certificate import CertificateRegistry
from operators.vgm_container import ContainerResult, ContainerVgm
from operators.vgm_events import Declaration, Weighing
from operators.vgm_policy import VgmPolicy
from operators.vgm_violations import Violation
from operators.vgm_weighing import VehicleWeighbridge

#: Containers untouched for this long (event time) are forgotten.
RETAIN_DAYS = 14
#: Pruning runs every this many events.
PRUNE_EVERY = 1000


@dataclass
class VgmOutput:
    """Rows per table and the alerts raised or resolved by one event."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)

    def add(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Append rows of a table."""
        if rows:
            self.rows.setdefault(table, []).extend(rows)


@dataclass
class VgmState:
    """Vehicles (Method 1 pairing), containers (checks, status) and the registry (numbers, audit chain).

    Attributes:
        vehicles: Per plate.
        containers: Per container number.
        touched: Last event time per container.
        registry: Certificate sequences and the ``vgm`` audit chain.
        events: Events applied (drives pruning).
    """

    vehicles: dict[str, VehicleWeighbridge] = field(default_factory=dict)
    containers: dict[str, ContainerVgm] = field(default_factory=dict)
    touched: dict[str, datetime] = field(default_factory=dict)
    registry: CertificateRegistry = field(default_factory=CertificateRegistry)
    events: int = 0

    def on_events(self, events: Iterable[Weighing | Declaration], policy: VgmPolicy) -> VgmOutput:
        """Apply decoded events in order; one output for all of them."""
        out = VgmOutput()
        for event in events:
            self.on_event(event, policy, out)
        return out

    def on_event(self, event: Weighing | Declaration, policy: VgmPolicy, out: VgmOutput | None = None) -> VgmOutput:
        """Apply one decoded event (adding to ``out`` when given)."""
        out = VgmOutput() if out is None else out
        self.events += 1
        if isinstance(event, Declaration):
            self._container(event.container_number, event.ts, out,
                            lambda c: c.on_declaration(event, policy), policy)
        else:
            vehicle = self.vehicles.get(event.vehicle_plate)
            if vehicle is None:
                vehicle = self.vehicles[event.vehicle_plate] = VehicleWeighbridge(event.vehicle_plate)
            res = vehicle.on_weighing(event, policy)
            out.add("vgm_weighings", res.rows)
            out.violations.extend(res.violations)
            for m in res.measurements:
                self._container(m.container_number, event.ts, out, lambda c, m=m: c.on_measurement(m, policy), policy)
            for n in res.notices:
                self._container(n.container_number, event.ts, out, lambda c, n=n: c.on_notice(n, policy), policy)
        if self.events % PRUNE_EVERY == 0:
            self.prune(event.ts, policy)
        return out

    def _container(self, number: str, ts: datetime, out: VgmOutput, apply: Any, policy: VgmPolicy) -> None:
        c = self.containers.get(number)
        if c is None:
            c = self.containers[number] = ContainerVgm(number)
        self.touched[number] = max(ts, self.touched.get(number, ts))
        res: ContainerResult = apply(c)
        out.add("vgm_declarations", res.declaration_rows)
        out.add("vgm_status", res.status_rows)
        out.violations.extend(res.violations)
        out.resolved.extend(res.resolved)
        for req in res.requests:
            issued = self.registry.issue(req, policy)
            if issued is not None:
                out.add("vgm_certificates", [issued[0]])
                out.add("audit_log", [issued[1]])

    def prune(self, now: datetime, policy: VgmPolicy) -> None:
        """Forget vehicles with nothing pending and containers untouched for :data:`RETAIN_DAYS`."""
        window = timedelta(hours=policy.pair_window_h)
        for plate in [p for p, v in self.vehicles.items() if v.pending is None or now - v.pending.ts > window]:
            del self.vehicles[plate]
        horizon = now - timedelta(days=RETAIN_DAYS)
        for number in [n for n, t in self.touched.items() if t < horizon]:
            del self.touched[number]
            del self.containers[number]
