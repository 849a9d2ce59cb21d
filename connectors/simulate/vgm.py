"""Seeded VGM simulator: weighbridge readings and shippers' declarations with their ground truth.

Each container's true gross mass is drawn first (tare + cargo, whole 10 kg); the weighbridge readings are
derived from it (vehicle mass + container, or the container alone), so the expected VGM of every
certificate is known without the flow's code. Besides ``containers`` ordinary exports it writes one case
of each rule: deviation beyond 5 %, deviation of exactly 5 %, over payload, exactly at the maximum gross
mass, a packed container announced without VGM (never weighed, and weighed later), a weighing on an
instrument whose inspection is overdue, two packed containers on one truck, Method 2 from an unauthorised
shipper and for scrap metal, an empty container, a dirty tank container, a loaded truck still waiting for
its empty weighing, a container known only from the configured CSC plate, and three bad lines.

Files: ``vgm.weighings.jsonl``, ``vgm.declarations.jsonl`` and ``vgm.truth.json``.
"""

from __future__ import annotations

import json
import random
import zlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.simulate.jsonl import dumps, write_lines
from operators.vgm_container_no import check_digit
from operators.vgm_policy import VgmPolicy

OWNERS = ("MSCU", "TGHU", "MAEU", "HLXU", "CMAU", "OOLU", "TCLU", "SEGU")
UNAUTHORISED_SHIPPER = "Kuzey Hurda Metal San. Tic."
MAX_GROSS_KG = 30480.0
TARES = (2230.0, 3750.0)


@dataclass(frozen=True)
class VgmScenario:
    """What to simulate.

    Attributes:
        start: Time of the first event.
        containers: Ordinary export containers (besides one case of each rule).
        special_cases: Write the rule cases and the bad lines.
    """

    start: datetime = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    containers: int = 40
    special_cases: bool = True


@dataclass
class VgmTruth:
    """What the flow must find.

    Attributes:
        certificates: Expected certificate VGM per container.
        blocked: Containers that must end blocked, with the cause (``missing_vgm``, ``payload_exceeded``,
            ``awaiting_pair``).
        loadable: Containers that must end loadable.
        alerts: Expected alerts as ``[kind, entity_id]`` (each exactly once).
        resolved: Of those, the ones that must end resolved.
        dead_letters: Number of bad lines.
        weighings: Number of weighbridge readings written.
    """

    certificates: dict[str, float] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    loadable: list[str] = field(default_factory=list)
    alerts: list[list[str]] = field(default_factory=list)
    resolved: list[list[str]] = field(default_factory=list)
    dead_letters: int = 0
    weighings: int = 0


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


class _Writer:
    def __init__(self, policy: VgmPolicy, scenario: VgmScenario, rng: random.Random) -> None:
        self.rng = rng
        self.weighings: list[tuple[datetime, str]] = []
        self.declarations: list[tuple[datetime, str]] = []
        self.truth = VgmTruth()
        self.numbers: set[str] = set()
        self.n_weighing = 0
        self.n_plate = 0
        today = scenario.start.date()
        # an instrument is usable for a year after its inspection (Art. 20): decided here by day count
        self.valid = sorted(i for i, x in policy.instruments.items() if _days(x.last_inspection, today) <= 365)
        self.expired = sorted(i for i, x in policy.instruments.items() if _days(x.last_inspection, today) > 365)
        self.operators = sorted(policy.signers)
        self.tare_plates = sorted(policy.vehicle_tares)
        self.tares = dict(policy.vehicle_tares)
        self.fuel = policy.fuel_allowance_kg
        self.authorised = sorted(policy.authorised_method2)
        if not self.valid or not self.operators:
            raise ValueError("the VGM policy needs at least one usable instrument and one signer")

    def container(self) -> str:
        while True:
            first = self.rng.choice(OWNERS) + f"{self.rng.randrange(1_000_000):06d}"
            number = first + str(check_digit(first))
            if number not in self.numbers:
                self.numbers.add(number)
                return number

    def plate(self) -> str:
        self.n_plate += 1
        return f"33 TR {self.n_plate:05d}"

    def weigh(self, ts: datetime, reading: float, plate: str, containers: list[str], kind: str,
              instrument: str | None = None, load_status: dict[str, str] | None = None) -> str:
        self.n_weighing += 1
        wid = f"W{self.n_weighing:07d}"
        rec: dict[str, Any] = {"weighing_id": wid, "instrument_id": instrument or self.rng.choice(self.valid),
                               "ts": _iso(ts), "reading_kg": reading, "vehicle_plate": plate,
                               "container_numbers": containers, "kind": kind,
                               "operator_id": self.rng.choice(self.operators)}
        if load_status:
            rec["load_status"] = load_status
        self.weighings.append((ts, dumps(rec)))
        return wid

    def declare(self, ts: datetime, container: str, vgm: float | None, method: int, shipper: str,
                tare: float, cargo_kind: str = "general", load_status: str = "full") -> None:
        rec = {"container_number": container, "ts": _iso(ts), "vgm_kg": vgm, "method": method, "shipper": shipper,
               "authorization_no": f"DBA-Y{method}-{zlib.crc32(shipper.encode()) % 10_000:04d}",
               "signer": "Selin Aydin",
               "max_gross_kg": MAX_GROSS_KG, "tare_kg": tare, "cargo_kind": cargo_kind, "load_status": load_status}
        self.declarations.append((ts, dumps(rec)))

    def weigh_method1(self, t: datetime, container: str, vgm: float, how: str,
                      load_status: dict[str, str] | None = None) -> datetime:
        """Weighings giving ``vgm`` for ``container``; returns when the VGM is known."""
        if how == "alone":
            self.weigh(t, vgm, self.plate(), [container], "container", load_status=load_status)
            return t
        if how == "tare" and self.tare_plates:
            plate = self.rng.choice(self.tare_plates)
            # the vehicle really carries the fuel the allowance assumes: gross − (tare + fuel) = VGM
            self.weigh(t, self.tares[plate] + self.fuel + vgm, plate, [container], "gross", load_status=load_status)
            return t
        plate = self.plate()
        vehicle = float(self.rng.randrange(1400, 1700) * 10)
        self.weigh(t, vehicle + vgm, plate, [container], "gross", load_status=load_status)
        t2 = t + timedelta(minutes=self.rng.randrange(20, 90))
        self.weigh(t2, vehicle, plate, [], "empty")
        return t2

    def alert(self, kind: str, entity: str, resolved: bool = False) -> None:
        self.truth.alerts.append([kind, entity])
        if resolved:
            self.truth.resolved.append([kind, entity])


def _days(d: date, today: date) -> int:
    return (today - d).days


def _mass(rng: random.Random) -> tuple[float, float]:
    tare = rng.choice(TARES)
    return tare, tare + rng.randrange(500, 2400) * 10


def _ordinary(w: _Writer, t: datetime) -> None:
    rng = w.rng
    c = w.container()
    tare, vgm = _mass(rng)
    how = rng.choices(("pair", "tare", "alone"), (6, 2, 2))[0]
    method = rng.choice((1, 2)) if w.authorised else 1
    shipper = rng.choice(w.authorised) if method == 2 else "Akdeniz Narenciye Ihracat A.S."
    declared = round(vgm * (1 + rng.uniform(-0.03, 0.03)) / 10) * 10  # within 3 %: no deviation
    if rng.random() < 0.7:
        w.declare(t, c, declared, method, shipper, tare)
        w.weigh_method1(t + timedelta(minutes=rng.randrange(10, 60)), c, vgm, how)
    else:
        done = w.weigh_method1(t, c, vgm, how)
        w.declare(done + timedelta(minutes=rng.randrange(1, 30)), c, declared, method, shipper, tare)
    w.truth.certificates[c] = vgm
    w.truth.loadable.append(c)


def _specials(w: _Writer, t: datetime, policy: VgmPolicy) -> None:
    step = timedelta(minutes=7)
    tr = w.truth
    shipper = "Akdeniz Narenciye Ihracat A.S."

    c = w.container()  # deviation beyond 5 %: alert, verified value certified
    w.declare(t, c, 21600.0, 1, shipper, 2230.0)  # +8 %
    w.weigh_method1(t + step, c, 20000.0, "pair")
    tr.certificates[c] = 20000.0
    tr.loadable.append(c)
    w.alert("vgm_deviation", c)
    t += 3 * step

    c = w.container()  # exactly 5 %: within the tolerance
    w.declare(t, c, 21000.0, 1, shipper, 2230.0)
    w.weigh_method1(t + step, c, 20000.0, "alone")
    tr.certificates[c] = 20000.0
    tr.loadable.append(c)
    t += 3 * step

    c = w.container()  # above the maximum gross mass: no certificate, blocked
    w.declare(t, c, 30400.0, 1, shipper, 2230.0)
    w.weigh_method1(t + step, c, MAX_GROSS_KG + 720.0, "pair")
    tr.blocked[c] = "payload_exceeded"
    w.alert("vgm_over_payload", c)
    t += 3 * step

    c = w.container()  # exactly at the maximum gross mass: certified
    w.declare(t, c, MAX_GROSS_KG, 1, shipper, 2230.0)
    w.weigh_method1(t + step, c, MAX_GROSS_KG, "alone")
    tr.certificates[c] = MAX_GROSS_KG
    tr.loadable.append(c)
    t += 3 * step

    c = w.container()  # announced without VGM, never weighed (Art. 12)
    w.declare(t, c, None, 1, shipper, 3750.0)
    tr.blocked[c] = "missing_vgm"
    w.alert("vgm_missing", c)
    t += 3 * step

    c = w.container()  # announced without VGM, then weighed by the terminal
    w.declare(t, c, None, 1, shipper, 3750.0)
    w.weigh_method1(t + 2 * step, c, 18340.0, "pair")
    tr.certificates[c] = 18340.0
    tr.loadable.append(c)
    w.alert("vgm_missing", c, resolved=True)
    t += 4 * step

    if w.expired:  # weighing on an instrument whose inspection is overdue (Art. 20)
        c = w.container()
        inst = w.expired[0]
        w.weigh(t, 15000.0 + 21000.0, w.plate(), [c], "gross", instrument=inst)
        tr.blocked[c] = "missing_vgm"
        w.alert("vgm_instrument_expired", inst)
        w.alert("vgm_missing", c)
        t += 3 * step

    c1, c2 = w.container(), w.container()  # two packed containers on one truck (Art. 22(7))
    plate = w.plate()
    wid = w.weigh(t, 15500.0 + 14000.0 + 12000.0, plate, [c1, c2], "gross")
    w.weigh(t + step, 15500.0, plate, [], "empty")
    for c in (c1, c2):
        tr.blocked[c] = "missing_vgm"
        w.alert("vgm_missing", c)
    w.alert("vgm_multiple_containers", wid)
    t += 3 * step

    c = w.container()  # Method 2 from a shipper without the authorisation
    w.declare(t, c, 16000.0, 2, UNAUTHORISED_SHIPPER, 2230.0)
    tr.blocked[c] = "missing_vgm"
    w.alert("vgm_unauthorised_method2", c)
    w.alert("vgm_missing", c)
    t += 3 * step

    if w.authorised:  # Method 2 for scrap metal: refused; the terminal weighs it
        c = w.container()
        w.declare(t, c, 24000.0, 2, w.authorised[0], 2230.0, cargo_kind="scrap_metal")
        w.weigh_method1(t + 2 * step, c, 24310.0, "pair")
        tr.certificates[c] = 24310.0
        tr.loadable.append(c)
        w.alert("vgm_unauthorised_method2", c)
        w.alert("vgm_missing", c, resolved=True)
        t += 4 * step

    c = w.container()  # an empty container passes the weighbridge: exempt (Art. 9)
    w.weigh(t, 15800.0 + 2230.0, w.plate(), [c], "gross", load_status={c: "empty"})
    tr.loadable.append(c)
    t += 3 * step

    c = w.container()  # a dirty tank container counts as packed (Art. 9(2))
    w.declare(t, c, 3650.0, 1, shipper, 3650.0, load_status="dirty_tank")
    w.weigh_method1(t + step, c, 3660.0, "alone", load_status={c: "dirty_tank"})
    tr.certificates[c] = 3660.0
    tr.loadable.append(c)
    t += 3 * step

    c = w.container()  # loaded truck weighed, not yet back empty
    w.weigh(t, 15200.0 + 19000.0, w.plate(), [c], "gross")
    tr.blocked[c] = "awaiting_pair"
    t += 3 * step

    for c in sorted(policy.csc)[:1]:  # known only from the configured CSC plate, no declaration
        w.weigh_method1(t, c, 22150.0, "alone")
        tr.certificates[c] = 22150.0
        tr.loadable.append(c)
        t += 3 * step

    bad = ["{not json", json.dumps({"weighing_id": "WBAD1", "instrument_id": w.valid[0], "ts": _iso(t),
                                    "reading_kg": 30000, "vehicle_plate": "33 X 1",
                                    "container_numbers": ["CSQU3054384"], "kind": "container",
                                    "operator_id": w.operators[0]}),
           json.dumps({"weighing_id": "WBAD2", "instrument_id": "WB-99", "ts": _iso(t), "reading_kg": 30000,
                       "vehicle_plate": "33 X 1", "container_numbers": [], "kind": "empty",
                       "operator_id": w.operators[0]})]
    w.weighings.extend((t, line) for line in bad)
    tr.dead_letters = len(bad)


def simulate_vgm(policy: VgmPolicy, scenario: VgmScenario, out: Path, seed: int = 7) -> VgmTruth:
    """Write a VGM replay directory and return the truth.

    Args:
        policy: The site's VGM policy (instruments, signers, vehicle tares, authorised shippers).
        scenario: What to simulate.
        out: Replay directory (created).
        seed: Random seed.

    Returns:
        The ground truth (also written to ``vgm.truth.json``).
    """
    out.mkdir(parents=True, exist_ok=True)
    w = _Writer(policy, scenario, random.Random(seed))
    t = scenario.start
    for _ in range(scenario.containers):
        _ordinary(w, t)
        t += timedelta(seconds=w.rng.randrange(60, 240))
    if scenario.special_cases:
        _specials(w, t + timedelta(minutes=5), policy)
    w.truth.weighings = w.n_weighing
    write_lines(out / "vgm.weighings.jsonl", [line for _ts, line in sorted(w.weighings, key=lambda x: x[0])])
    write_lines(out / "vgm.declarations.jsonl", [line for _ts, line in sorted(w.declarations, key=lambda x: x[0])])
    (out / "vgm.truth.json").write_text(json.dumps(asdict(w.truth), indent=1, sort_keys=True), encoding="utf-8")
    return w.truth
