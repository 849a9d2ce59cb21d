"""The whole VGM state of a site in one ordered place: vehicles, containers and the certificate registry.

Events are applied strictly in event-time order (after a short reorder window that absorbs two topics
arriving slightly out of step), so the pairing of weighings, the checks and the certificate sequence never
depend on how the input was cut into batches: a replay, a restart from a Bytewax snapshot and a live run give
the same numbers. What decides the order is the event alone: its time, then (same instant) declarations
before weighings, then the event's id — never its arrival, its Kafka partition or offset. The window is
checked after every event, not once per input batch, so whether an event is late does not depend on where
Bytewax cut the batches. An event already applied (same weighing id, same declaration content) is
recognised here, within the retention horizon, whatever the transport did: redelivered, re-produced or
resumed after a crash, it changes nothing. A terminal weighs
a few thousand containers a day, far below what one ordered state handles (see bench/bench_vgm.py).

State that can no longer matter is dropped by event time: vehicles whose loaded weighing is older than the
pairing window, containers untouched for ``retain_days``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from operators.alerts import Alert
from operators.vgm_certificate import CertificateRegistry
from operators.vgm_container import ContainerResult, ContainerVgm, declaration_id
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


def order_key(event: Weighing | Declaration) -> tuple[int, str]:
    """Order of events of the same instant: declarations first, then by id (content, never arrival)."""
    if isinstance(event, Declaration):
        return 0, declaration_id(event)
    return 1, event.weighing_id


def event_id(event: Weighing | Declaration) -> str:
    """Identity of an event for recognising a redelivery: the weighing id, or the declaration's content id."""
    return ("d:" + declaration_id(event)) if isinstance(event, Declaration) else "w:" + event.weighing_id


@dataclass
class VgmState:
    """Vehicles (Method 1 pairing), containers (checks, status) and the registry (numbers, audit chain).

    Attributes:
        vehicles: Per plate.
        containers: Per container number.
        touched: Last event time per container.
        registry: Certificate sequences and the ``vgm`` audit chain.
        events: Events applied (drives pruning).
        pending: Events waiting for the reorder window, as a heap on (event time, :func:`order_key`, arrival
            number — the last only between events of one id, of which only the first applied counts).
        arrivals: Events offered so far.
        latest: Newest event time seen.
        released: Event time of the last event applied from the heap.
        applied: Event time per :func:`event_id` applied (forgotten after :data:`RETAIN_DAYS`).
    """

    vehicles: dict[str, VehicleWeighbridge] = field(default_factory=dict)
    containers: dict[str, ContainerVgm] = field(default_factory=dict)
    touched: dict[str, datetime] = field(default_factory=dict)
    registry: CertificateRegistry = field(default_factory=CertificateRegistry)
    events: int = 0
    pending: list[tuple[datetime, tuple[int, str], int, Weighing | Declaration]] = field(default_factory=list)
    arrivals: int = 0
    latest: datetime | None = None
    released: datetime | None = None
    applied: dict[str, datetime] = field(default_factory=dict)

    def offer(self, events: Iterable[Weighing | Declaration], policy: VgmPolicy) -> VgmOutput:
        """Take events as they arrive and apply, in event-time order, those older than the reorder window.

        Events wait until an event ``policy.reorder_s`` newer has been seen, so a declaration and a weighing
        arriving on different topics slightly out of order are still applied in event time (same instant:
        :func:`order_key`). The window is checked after each event, so the result does not depend on how the
        events were cut into batches. An event older than one already applied is applied at once (late, not
        dropped).

        Returns:
            What the applied events produced.
        """
        out = VgmOutput()
        for event in events:
            self.arrivals += 1
            if self.released is not None and event.ts < self.released:
                self.on_event(event, policy, out)
                continue
            heapq.heappush(self.pending, (event.ts, order_key(event), self.arrivals, event))
            self.latest = event.ts if self.latest is None else max(self.latest, event.ts)
            self._release(self.latest - timedelta(seconds=policy.reorder_s), policy, out)
        return out

    def flush(self, policy: VgmPolicy) -> VgmOutput:
        """Apply every waiting event (end of a replay)."""
        out = VgmOutput()
        self._release(None, policy, out)
        return out

    def _release(self, upto: datetime | None, policy: VgmPolicy, out: VgmOutput) -> None:
        while self.pending and (upto is None or self.pending[0][0] <= upto):
            ts, _k, _n, event = heapq.heappop(self.pending)
            self.released = ts
            self.on_event(event, policy, out)

    def on_events(self, events: Iterable[Weighing | Declaration], policy: VgmPolicy) -> VgmOutput:
        """Apply decoded events in the given order, without reordering; one output for all of them."""
        out = VgmOutput()
        for event in events:
            self.on_event(event, policy, out)
        return out

    def on_event(self, event: Weighing | Declaration, policy: VgmPolicy, out: VgmOutput | None = None) -> VgmOutput:
        """Apply one decoded event (adding to ``out`` when given)."""
        out = VgmOutput() if out is None else out
        eid = event_id(event)
        if eid in self.applied:  # redelivered: applying it again would pair, notify and number twice
            return out
        self.applied[eid] = event.ts
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
        for eid in [e for e, t in self.applied.items() if t < horizon]:
            del self.applied[eid]
