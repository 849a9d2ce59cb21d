"""Method 1 at the weighbridge (Art. 22): from weighings of one vehicle to a measured gross mass.

Per vehicle plate, in event order:

- ``container`` weighing (the container alone on the platform): the reading is the gross mass.
- ``gross`` weighing (loaded vehicle): with a recorded tare for the vehicle, the gross mass is the reading
  minus (tare + the configured fuel allowance, Art. 22(5)(b)); otherwise it waits for the same vehicle's
  ``empty`` weighing (the in/out pair, Art. 22(5)(a)) within ``pair_window_h``.
- more than one packed container on one weighing gives no VGM (Art. 22(7)): a violation for the weighing.
- a weighing on an instrument whose periodic inspection is more than a year old is rejected (Art. 20).

Every weighing yields its ``vgm_weighings`` row (accepted, or the reason it was rejected); containers get
a :class:`Measurement` or a :class:`ContainerNotice` saying why they have none yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from operators.vgm_events import Weighing
from operators.vgm_policy import VgmPolicy
from operators.vgm_rules import inspection_valid_until, instrument_usable, local_date, needs_vgm
from operators.vgm_violations import Violation

#: How many recent weighing ids a vehicle remembers, so a redelivered weighing is not counted twice.
SEEN_IDS = 64


@dataclass(frozen=True)
class Measurement:
    """A gross mass obtained by Method 1 for one container.

    Attributes:
        container_number: The container.
        vgm_kg: Gross mass, kg.
        weighed_at: Time of the loaded (or container-alone) weighing.
        completed_at: Time the figure became known (the empty weighing of a pair).
        instrument_id: Instrument of the loaded weighing.
        operator_id: Person on duty at the loaded weighing.
        derivation: ``in_out_pair`` | ``recorded_tare`` | ``container_alone``.
        weighing_ids: The weighings used, loaded first.
        gross_reading_kg: Reading of the loaded weighing.
        deduction_kg: What was subtracted (empty weighing, or tare + fuel allowance); 0 when alone.
        load_status: ``full`` or ``dirty_tank``.
    """

    container_number: str
    vgm_kg: float
    weighed_at: datetime
    completed_at: datetime
    instrument_id: str
    operator_id: str
    derivation: str
    weighing_ids: tuple[str, ...]
    gross_reading_kg: float
    deduction_kg: float
    load_status: str = "full"


@dataclass(frozen=True)
class ContainerNotice:
    """What a weighing means for a container that did not get a measurement from it.

    Attributes:
        container_number: The container.
        ts: Event time.
        state: ``awaiting_pair`` (loaded weighing waiting for the empty one), ``rejected`` (the weighing
            cannot give a VGM) or ``empty`` (an empty container: exempt, Art. 9).
        cause: Why, in words.
        weighing_id: The weighing.
    """

    container_number: str
    ts: datetime
    state: str
    cause: str
    weighing_id: str


@dataclass
class WeighingResult:
    """Everything one weighing produces."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    notices: list[ContainerNotice] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)


def weighing_row(w: Weighing, policy: VgmPolicy, accepted: bool, reason: str) -> dict[str, Any]:
    """The ``vgm_weighings`` row of a weighing."""
    inst = policy.instruments[w.instrument_id]
    return {"weighing_id": w.weighing_id, "ts": w.ts, "instrument_id": w.instrument_id,
            "instrument_no": inst.number, "instrument_inspected_on": inst.last_inspection.isoformat(),
            "reading_kg": w.reading_kg, "vehicle_plate": w.vehicle_plate,
            "container_numbers": list(w.container_numbers), "kind": w.kind, "operator_id": w.operator_id,
            "accepted": accepted, "reason": reason, "source_position": w.position}


def _kg(x: float) -> float:
    """A difference of readings without binary noise (readings have at most gram resolution)."""
    return round(x, 3)


@dataclass
class VehicleWeighbridge:
    """Method 1 state of one vehicle: its pending loaded weighing and the ids it has seen.

    Attributes:
        plate: The vehicle.
        pending: The loaded weighing waiting for its empty weighing.
        seen: Recent weighing ids (duplicates are ignored).
    """

    plate: str
    pending: Weighing | None = None
    seen: list[str] = field(default_factory=list)

    def on_weighing(self, w: Weighing, policy: VgmPolicy) -> WeighingResult:
        """Apply one weighing of this vehicle."""
        res = WeighingResult()
        if w.weighing_id in self.seen:
            return res
        self.seen = [*self.seen[-(SEEN_IDS - 1):], w.weighing_id]
        inst = policy.instruments[w.instrument_id]
        on = local_date(w.ts, policy.utc_offset)
        if not instrument_usable(inst.last_inspection, on):
            reason = (f"instrument {w.instrument_id} ({inst.number}) was last inspected on "
                      f"{inst.last_inspection.isoformat()}; usable until "
                      f"{inspection_valid_until(inst.last_inspection).isoformat()} (Art. 20)")
            res.rows.append(weighing_row(w, policy, False, reason))
            res.violations.append(Violation(
                "instrument_overdue", w.instrument_id, w.ts,
                f"Weighing {w.weighing_id} on {w.instrument_id}, whose periodic inspection is overdue, was "
                "rejected; have the instrument inspected and weigh on a certified instrument.",
                container_number=",".join(w.container_numbers), weighing_id=w.weighing_id,
                discriminator=w.weighing_id,
                details={"instrument_no": inst.number, "last_inspection": inst.last_inspection.isoformat(),
                         "weighed_on": on.isoformat()}))
            res.notices.extend(ContainerNotice(c, w.ts, "rejected", reason, w.weighing_id)
                               for c in w.container_numbers if needs_vgm(w.status_of(c)))
            return res
        if w.kind == "empty":
            self._pair(w, policy, res)
            return res
        full = [c for c in w.container_numbers if needs_vgm(w.status_of(c))]
        res.notices.extend(ContainerNotice(c, w.ts, "empty", "empty container (Art. 9): no VGM required",
                                           w.weighing_id)
                           for c in w.container_numbers if not needs_vgm(w.status_of(c)))
        if len(full) > 1:
            reason = (f"{len(full)} packed containers on one weighing: each must be weighed separately "
                      "(Art. 22(7))")
            res.rows.append(weighing_row(w, policy, False, reason))
            res.violations.append(Violation(
                "multiple_containers", w.weighing_id, w.ts,
                f"Weighing {w.weighing_id} of {w.vehicle_plate} carried {len(full)} packed containers; weigh "
                "each container separately.", container_number=",".join(full), weighing_id=w.weighing_id,
                details={"containers": full, "reading_kg": w.reading_kg}))
            res.notices.extend(ContainerNotice(c, w.ts, "rejected", reason, w.weighing_id) for c in full)
            return res
        if not full:
            res.rows.append(weighing_row(w, policy, True, "no packed container: nothing to verify"))
            return res
        if len(w.container_numbers) > 1:
            reason = "the vehicle also carries an empty container: weigh the packed container separately"
            res.rows.append(weighing_row(w, policy, False, reason))
            res.notices.append(ContainerNotice(full[0], w.ts, "rejected", reason, w.weighing_id))
            return res
        self._single(w, full[0], policy, res)
        return res

    def _single(self, w: Weighing, container: str, policy: VgmPolicy, res: WeighingResult) -> None:
        status = w.status_of(container)
        if w.kind == "container":
            res.rows.append(weighing_row(w, policy, True, ""))
            res.measurements.append(Measurement(container, _kg(w.reading_kg), w.ts, w.ts, w.instrument_id,
                                                w.operator_id, "container_alone", (w.weighing_id,),
                                                w.reading_kg, 0.0, status))
            return
        tare = policy.vehicle_tares.get(w.vehicle_plate)
        if tare is not None:
            deduction = tare + policy.fuel_allowance_kg
            if w.reading_kg <= deduction:
                reason = (f"loaded reading {w.reading_kg:g} kg is not above the vehicle's recorded tare plus fuel "
                          f"{deduction:g} kg")
                res.rows.append(weighing_row(w, policy, False, reason))
                res.notices.append(ContainerNotice(container, w.ts, "rejected", reason, w.weighing_id))
                return
            res.rows.append(weighing_row(w, policy, True, ""))
            res.measurements.append(Measurement(container, _kg(w.reading_kg - deduction), w.ts, w.ts,
                                                w.instrument_id, w.operator_id, "recorded_tare",
                                                (w.weighing_id,), w.reading_kg, deduction, status))
            return
        if self.pending is not None:
            old = self.pending
            res.notices.extend(ContainerNotice(c, w.ts, "rejected",
                                               f"loaded weighing {old.weighing_id} was never followed by the "
                                               "vehicle's empty weighing", old.weighing_id)
                               for c in old.container_numbers if needs_vgm(old.status_of(c)))
        self.pending = w
        res.rows.append(weighing_row(w, policy, True, "awaiting the vehicle's empty weighing"))
        res.notices.append(ContainerNotice(container, w.ts, "awaiting_pair",
                                           f"weighed loaded ({w.weighing_id}); awaiting the vehicle's empty "
                                           "weighing", w.weighing_id))

    def _pair(self, w: Weighing, policy: VgmPolicy, res: WeighingResult) -> None:
        g = self.pending
        if g is None or w.ts < g.ts:
            res.rows.append(weighing_row(w, policy, True, "no loaded weighing of this vehicle to pair with"))
            return
        self.pending = None
        full = [c for c in g.container_numbers if needs_vgm(g.status_of(c))]
        container = full[0]
        if w.ts - g.ts > timedelta(hours=policy.pair_window_h):
            reason = (f"empty weighing {w.weighing_id} came more than {policy.pair_window_h:g} h after the loaded "
                      f"weighing {g.weighing_id}")
            res.rows.append(weighing_row(w, policy, False, reason))
            res.notices.append(ContainerNotice(container, w.ts, "rejected", reason, g.weighing_id))
            return
        if w.reading_kg >= g.reading_kg:
            reason = (f"empty weighing {w.reading_kg:g} kg is not below the loaded weighing "
                      f"{g.reading_kg:g} kg ({g.weighing_id})")
            res.rows.append(weighing_row(w, policy, False, reason))
            res.notices.append(ContainerNotice(container, w.ts, "rejected", reason, g.weighing_id))
            return
        res.rows.append(weighing_row(w, policy, True, f"paired with loaded weighing {g.weighing_id}"))
        res.measurements.append(Measurement(container, _kg(g.reading_kg - w.reading_kg), g.ts, w.ts,
                                            g.instrument_id, g.operator_id, "in_out_pair",
                                            (g.weighing_id, w.weighing_id), g.reading_kg, w.reading_kg,
                                            g.status_of(container)))
