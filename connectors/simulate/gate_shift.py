"""Seeded gate shift: a few hundred truck passages over several lanes, as camera READS, with pre-gate notices.

Running OCR on every frame of a shift takes minutes, so the shift is written as the read records the OCR stage
produces for each frame (:func:`operators.gate_rows.read_record`, stream ``gate.reads``); they take the same path
through the gate flow from the lanes on (passages, fusion, the pre-gate join, decisions, warehouse).

Every truck is planted with one scenario and the decision the rules of issue 5 give for it:

=======================  =================================================  ==========================================
scenario                 what is planted                                    expected
=======================  =================================================  ==========================================
match                    notice agrees with the truck                       open (registered)
duplicate_notice         the same notice sent twice                         open (registered)
correction               wrong container, corrected (same id) before        open (registered)
wrong_plate              notice names another tractor, the truck's box      divert plate_mismatch
missing_container        notice names another container                     divert container_missing, container_unexp.
wrong_size               notified size/type of another length               divert size_mismatch
placard                  placard on the truck, notice not hazardous         divert placard_unexpected
seal_missing             full container, doors without a seal               divert seal_missing
no_notice                no notice at all                                   divert no_notice
notice_after_truck       notice sent 2-20 min after the truck               divert no_notice
conflicting_notices      two open notices (different ids) for the plate     manual_review notice_conflict
unreadable_plate         no camera read the plate                           manual_review unreadable
unreadable_container     every code read fails its check digit              manual_review unreadable
=======================  =================================================  ==========================================

The pre-gate feed goes down for ``outage_min`` minutes (no notice is sent; what would have been is held back
and sent when the feed recovers). Trucks whose notice is held:

- ``outage_undetected``: arrive while the feed has been silent for at most 30 minutes → divert no_notice;
- ``degraded_regularised``: arrive later in the outage → open in degraded_mode; the held notice, sent on
  recovery, regularises them (C.2.1);
- ``degraded_unregularised``: the same, but the notice never comes → listed as not regularised;
- ``degraded_late_notice``: the same, but the notice is sent 26 hours later → not regularised within 24 h.

Trucks arriving within 90 s of the 30-minute mark, or in the first minutes after recovery, are not generated, so
every truth is unambiguous. The generator checks that no truck planted without a notice outside the outage
meets a feed silent for 25 minutes.

A long shift (a soak of hours of ingest covers weeks of event time) is written by :func:`simulate_shifts` as
consecutive independent tiles, one at a time: memory stays about that of one tile whatever the length.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from connectors.simulate.gate_scenes import SIZE_TYPES, random_container, random_plate
from operators.events import iso_ms, ts_text
from operators.gate_passages import FrameMeta
from operators.gate_read_events import STREAM_GATE_READS
from operators.gate_rows import read_record
from operators.iso6346 import ContainerCandidate, is_valid
from operators.ocr.marks import Mark
from operators.ocr.reader import FrameRead
from operators.plates import PlateCandidate
from operators.pregate import STREAM_GATE_PREGATE
from operators.size_type import decode

#: scenario → (decision, reasons, share of trucks outside the outage)
SHIFT_SCENARIOS: dict[str, tuple[str, tuple[str, ...], float]] = {
    "match": ("open", (), 0.66),
    "duplicate_notice": ("open", (), 0.03),
    "correction": ("open", (), 0.03),
    "wrong_plate": ("divert", ("plate_mismatch",), 0.025),
    "missing_container": ("divert", ("container_missing", "container_unexpected"), 0.025),
    "wrong_size": ("divert", ("size_mismatch",), 0.025),
    "placard": ("divert", ("placard_unexpected",), 0.02),
    "seal_missing": ("divert", ("seal_missing",), 0.03),
    "no_notice": ("divert", ("no_notice",), 0.03),
    "notice_after_truck": ("divert", ("no_notice",), 0.03),
    "conflicting_notices": ("manual_review", ("notice_conflict",), 0.02),
    "unreadable_plate": ("manual_review", ("unreadable",), 0.025),
    "unreadable_container": ("manual_review", ("unreadable",), 0.025),
}
OUTAGE_SCENARIOS: dict[str, tuple[str, tuple[str, ...]]] = {
    "outage_undetected": ("divert", ("no_notice",)),
    "degraded_regularised": ("open", ("degraded_mode",)),
    "degraded_unregularised": ("open", ("degraded_mode",)),
    "degraded_late_notice": ("open", ("degraded_mode",)),
}
#: (camera, checkpoint), in the order a truck passes them; the LPR camera is the last.
CAMERAS: tuple[tuple[str, int], ...] = (("front", 1), ("left", 1), ("right", 1), ("rear", 1), ("lpr", 2))
FRAME_STEP = timedelta(milliseconds=700)
_OTHER_LENGTH = {"2": "42G1", "4": "22G1", "L": "22G1"}
_OUTAGE_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class ShiftScenario:
    """What to simulate.

    Attributes:
        start: First possible arrival.
        hours: Shift length.
        lanes: Lanes of the gate.
        headway_min: Mean time between trucks on one lane (exponential, at least 40 s).
        outage_at_h: Hours into the shift when the pre-gate feed goes silent.
        outage_min: How long it stays silent (more than 30 minutes: passages are admitted degraded).
        gate_id: Gate id.
        seed: Random seed (same seed, same files).
        id_tag: Inserted in every passage id after the gate id (``G2-<tag>L1-0001``; notice ids derive from
            passage ids): tiles of a long shift are told apart by it. Empty: ``G2-L1-0001``.
    """

    start: datetime = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
    hours: float = 8.0
    lanes: int = 3
    headway_min: float = 4.0
    outage_at_h: float = 3.0
    outage_min: float = 90.0
    gate_id: str = "G2"
    seed: int = 23
    id_tag: str = ""


@dataclass(frozen=True)
class _Truck:
    passage_id: str
    lane_id: str
    arrival: datetime
    plate: str
    trailer_plate: str
    container: str
    size_type: str
    placard: bool


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _bad_code(code: str) -> str:
    """The code with its check digit changed: reads that fail ISO 6346."""
    for d in "0123456789":
        bad = code[:10] + d
        if not is_valid(bad):
            return bad
    raise AssertionError(code)  # pragma: no cover - at most one digit validates


def _notice(nid: str, ts: datetime, t: _Truck, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "notice_id": nid, "ts": iso_ms(ts), "direction": "in", "plate": t.plate, "trailer_plate": t.trailer_plate,
        "containers": [{"number": t.container, "size_type": t.size_type, "load_status": "full", "seal_no": "S1"}],
        "declaration_type": "import", "declaration_no": f"D-{nid}", "notifier": "port-operator",
        "hazardous": t.placard}
    body.update(over)
    return body


def _notices(scenario: str, t: _Truck, lead: timedelta, rng: np.random.Generator,
             plates: set[str]) -> list[dict[str, Any]]:
    """The notices a scenario plants for a truck (``[]``: none)."""
    nid = f"N-{t.passage_id}"
    sent = t.arrival - lead
    full = [{"number": t.container, "size_type": t.size_type, "load_status": "full", "seal_no": "S1"}]
    if scenario in ("match", "seal_missing", "unreadable_plate", "unreadable_container"):
        return [_notice(nid, sent, t)]
    if scenario == "duplicate_notice":
        return [_notice(nid, sent, t), _notice(nid, sent + timedelta(minutes=2), t)]
    if scenario == "correction":
        wrong = [{**full[0], "number": random_container(rng)}]
        return [_notice(nid, sent - timedelta(minutes=5), t, containers=wrong), _notice(nid, sent, t)]
    if scenario == "wrong_plate":
        return [_notice(nid, sent, t, plate=_unique(random_plate, rng, plates), trailer_plate=None)]
    if scenario == "missing_container":
        return [_notice(nid, sent, t, containers=[{**full[0], "number": random_container(rng)}])]
    if scenario == "wrong_size":
        return [_notice(nid, sent, t, containers=[{**full[0], "size_type": _OTHER_LENGTH[t.size_type[0]]}])]
    if scenario == "placard":
        return [_notice(nid, sent, t, hazardous=False)]
    if scenario == "conflicting_notices":
        other = [{**full[0], "number": random_container(rng)}]
        return [_notice(nid, sent, t), _notice(nid + "-B", sent + timedelta(minutes=3), t, containers=other)]
    if scenario == "notice_after_truck":
        return [_notice(nid, t.arrival + timedelta(minutes=float(rng.uniform(2, 20))), t)]
    if scenario == "no_notice":
        return []
    raise ValueError(f"unknown scenario {scenario!r}")


def _unique(make: Any, rng: np.random.Generator, seen: set[str]) -> str:
    while True:
        v = str(make(rng))
        if v not in seen:
            seen.add(v)
            return v


def _reads(scenario: str, t: _Truck, gate_id: str) -> list[dict[str, Any]]:
    """The read records of one passage, camera by camera, as the OCR stage writes them."""
    out = []
    plate_read = None if scenario == "unreadable_plate" else PlateCandidate(t.plate, 0, 0.96, confirmed=True)
    codes = () if scenario == "unreadable_container" else (ContainerCandidate(t.container, 0, True, 0.93),)
    rejected = (_bad_code(t.container),) if scenario == "unreadable_container" else ()
    st = decode(t.size_type)
    placard = Mark(t.placard, 0.9)
    for k, (camera, checkpoint) in enumerate(CAMERAS):
        side = camera in ("left", "right")
        read = FrameRead(
            camera_id=camera, plate=plate_read if camera in ("front", "lpr") else None,
            trailer_plate=PlateCandidate(t.trailer_plate, 0, 0.95, confirmed=True) if camera == "rear" else None,
            containers=codes if side else (), rejected_codes=rejected if side else (),
            size_type=st if side else None, size_type_confidence=0.9 if side else 0.0,
            hazard_placard=placard if side else Mark(None, 0.0),
            seal=Mark(scenario != "seal_missing", 0.88) if camera == "rear" else Mark(None, 0.0),
            lines=(), ms=0.0)
        meta = FrameMeta(gate_id, t.lane_id, checkpoint, camera, t.arrival + FRAME_STEP * k, t.passage_id)
        rec = read_record(meta, _sha(f"{t.passage_id}/{camera}"), t.passage_id, "simulated", read, "")
        rec["ts"] = iso_ms(meta.ts)
        del rec["source_position"]
        out.append(rec)
    return out


def lpr_ts(arrival: datetime) -> datetime:
    """Event time of a passage's LPR frame."""
    return arrival + FRAME_STEP * (len(CAMERAS) - 1)


_Shift = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]
#: the files of a shift, in the order :func:`_generate` returns their records
SHIFT_FILES: tuple[str, ...] = (f"{STREAM_GATE_READS}.jsonl", f"{STREAM_GATE_PREGATE}.jsonl", "shift_truth.jsonl")


def simulate_shift(out: Path, sc: ShiftScenario | None = None) -> list[dict[str, Any]]:
    """Write ``gate.reads.jsonl``, ``gate.pregate.jsonl`` and ``shift_truth.jsonl`` into ``out``.

    Args:
        out: Replay directory (created).
        sc: The shift.

    Returns:
        The truth per passage: ``passage_id``, ``lane_id``, ``lpr_ts``, ``scenario``, ``decision``, ``reasons``
        (sorted), ``notice_id`` (the notice an opened truck is registered against) and ``registration``
        (``registered`` | ``degraded`` | ``regularised`` | ``None``).

    Raises:
        ValueError: When the random draw left the pre-gate feed silent for 25 minutes outside the outage.
    """
    shift = _generate(sc or ShiftScenario())
    _write(out, shift)
    return shift[2]


def _write(out: Path, shift: _Shift) -> None:
    """The files of a shift (:data:`SHIFT_FILES`) in ``out`` (created)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, records in zip(SHIFT_FILES, shift, strict=True):
        (out / name).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def _generate(sc: ShiftScenario) -> _Shift:
    """The records of a shift: reads and notices sorted by ``ts``, truth by LPR time (see :func:`simulate_shift`)."""
    rng = np.random.default_rng(sc.seed)
    end = sc.start + timedelta(hours=sc.hours)
    t0 = sc.start + timedelta(hours=sc.outage_at_h)
    t1 = t0 + timedelta(minutes=sc.outage_min)
    names = list(SHIFT_SCENARIOS)
    weights = np.array([SHIFT_SCENARIOS[n][2] for n in names])
    plates: set[str] = set()
    trucks: list[_Truck] = []
    for lane in range(1, sc.lanes + 1):
        t = sc.start + timedelta(seconds=float(rng.uniform(0, 60)))
        i = 0
        while t < end:
            lane_id = f"L{lane}"
            trucks.append(_Truck(f"{sc.gate_id}-{sc.id_tag}{lane_id}-{i:04d}", lane_id, t,
                                 _unique(random_plate, rng, plates), _unique(random_plate, rng, plates),
                                 random_container(rng),
                                 str(rng.choice(SIZE_TYPES)), False))
            i += 1
            t += timedelta(seconds=max(40.0, float(rng.exponential(sc.headway_min * 60))))
    trucks.sort(key=lambda x: (x.arrival, x.lane_id))
    plan: list[tuple[_Truck, str, list[dict[str, Any]]]] = []
    for tr in trucks:
        scenario = str(rng.choice(names, p=weights / weights.sum()))
        placard = scenario == "placard" or (scenario == "match" and rng.random() < 0.1)
        tr = _Truck(tr.passage_id, tr.lane_id, tr.arrival, tr.plate, tr.trailer_plate, tr.container, tr.size_type,
                    placard)
        lead = timedelta(minutes=float(rng.uniform(10, 60)))
        notices = _notices(scenario, tr, lead, rng, plates)
        touched = t0 - timedelta(minutes=5) <= tr.arrival < t1 + timedelta(minutes=5) or any(
            t0 <= datetime.fromisoformat(n["ts"]) < t1 for n in notices)
        if touched:  # anything near the outage: a plain truck whose notice may be held back
            scenario = "match"
            tr = _Truck(tr.passage_id, tr.lane_id, tr.arrival, tr.plate, tr.trailer_plate, tr.container,
                        tr.size_type, False)
            notices = [_notice(f"N-{tr.passage_id}", tr.arrival - lead, tr)]
        plan.append((tr, scenario, notices))
    before = max(datetime.fromisoformat(n["ts"]) for _t, _s, ns in plan for n in ns
                 if datetime.fromisoformat(n["ts"]) < t0)
    mark = before + _OUTAGE_AFTER  # from here on the feed counts as down
    backlog = t1
    reads: list[dict[str, Any]] = []
    notices_out: list[dict[str, Any]] = []
    truth: list[dict[str, Any]] = []
    for tr, scenario, notices in plan:
        held = [n for n in notices if t0 <= datetime.fromisoformat(n["ts"]) < t1]
        lpr = lpr_ts(tr.arrival)
        if abs(lpr - mark) < timedelta(seconds=90) or t1 <= lpr < t1 + timedelta(minutes=5):
            continue  # too close to a boundary to plant an unambiguous truth
        if held:
            assert len(held) == 1 == len(notices)
            n = held[0]
            if lpr >= t1:
                scenario = "match"  # the backlog is sent before the truck comes
            elif lpr < mark:
                scenario = "outage_undetected"
            else:
                scenario = str(rng.choice(["degraded_regularised"] * 6 + ["degraded_unregularised"] * 2
                                          + ["degraded_late_notice"] * 2))
            if held:
                if scenario == "degraded_unregularised":
                    notices = []
                elif scenario == "degraded_late_notice":
                    notices = [{**n, "ts": iso_ms(lpr + timedelta(hours=26))}]
                else:
                    backlog += timedelta(seconds=2)  # the feed sends its backlog on recovery
                    notices = [{**n, "ts": iso_ms(backlog)}]
        if scenario in SHIFT_SCENARIOS:
            decision, reasons, _w = SHIFT_SCENARIOS[scenario]
        else:
            decision, reasons = OUTAGE_SCENARIOS[scenario]
        registration = {"open": "registered"}.get(decision) if not reasons else None
        if scenario.startswith("degraded"):
            registration = "regularised" if scenario == "degraded_regularised" else "degraded"
        reads += _reads(scenario, tr, sc.gate_id)
        notices_out += notices
        truth.append({"passage_id": tr.passage_id, "lane_id": tr.lane_id, "lpr_ts": iso_ms(lpr),
                      "scenario": scenario, "decision": decision, "reasons": sorted(reasons),
                      "notice_id": f"N-{tr.passage_id}" if registration == "registered" else None,
                      "registration": registration, "plate": tr.plate})
    final = sorted(datetime.fromisoformat(n["ts"]) for n in notices_out)
    for x in truth:
        lpr = datetime.fromisoformat(x["lpr_ts"])
        i = bisect.bisect_right(final, lpr)  # the latest notice sent at or before the truck
        last = final[i - 1] if i else None
        planted_without = x["reasons"] == ["no_notice"] and x["scenario"] != "outage_undetected"
        if planted_without and (last is None or lpr - last > timedelta(minutes=25)):
            raise ValueError(f"pre-gate feed silent before {x['passage_id']} outside the outage; change the seed")
    reads.sort(key=lambda r: (r["ts"], r["lane_id"], r["camera_id"]))
    notices_out.sort(key=lambda n: (n["ts"], n["notice_id"]))
    return reads, notices_out, truth


def tile_scenario(sc: ShiftScenario, k: int) -> ShiftScenario:
    """Tile ``k`` of a long shift: ``k`` shifts later, seed ``+ k``, ``T<k>-`` added to the id tag."""
    return replace(sc, start=sc.start + timedelta(hours=sc.hours) * k, seed=sc.seed + k,
                   id_tag=f"{sc.id_tag}T{k:04d}-")


def _text_field(name: str) -> Callable[[str], str]:
    """Sort key of a JSON line: the text value of the field ``name`` (canonical timestamps sort as time)."""
    if name == "ts":
        return ts_text
    tag = f'"{name}": "'

    def key(line: str) -> str:
        i = line.find(tag) + len(tag)
        return line[i : line.find('"', i)]

    return key


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as fh:
        yield from fh


def simulate_shifts(out: Path, sc: ShiftScenario, tiles: int) -> dict[str, int]:
    """Write a long shift as ``tiles`` consecutive independent shifts (:func:`tile_scenario`), with bounded memory.

    Each tile is generated, sorted and written to its own part files, one at a time; each file of the replay
    directory is then the k-way merge of its parts on event time (``ts``; the truth on ``lpr_ts``), ties in tile
    order. Tiles overlap at their edges (notices are sent up to an hour before their truck, late ones 26 hours
    after it), so the merge is needed. The files equal those of the tiles generated one by one, concatenated and
    sorted stably on event time; memory stays about that of one tile. Tiles are independent draws: a plate
    drawn in two tiles is possible but rare (the plate space is large).

    Args:
        out: Replay directory (created; its part files are removed at the end).
        sc: The first tile (its ``hours`` is the tile length).
        tiles: How many tiles.

    Returns:
        Lines written per file name.

    Raises:
        ValueError: As :func:`simulate_shift`, or when a notice of one tile falls near the pre-gate outage of
            another (that tile's truth would no longer hold; use longer tiles).
    """
    if tiles < 1:
        raise ValueError(f"tiles must be at least 1, not {tiles}")
    out.mkdir(parents=True, exist_ok=True)
    parts = out / ".tiles"
    shutil.rmtree(parts, ignore_errors=True)
    span = timedelta(hours=sc.hours)
    outage_at, outage = timedelta(hours=sc.outage_at_h), timedelta(minutes=sc.outage_min)
    for k in range(tiles):
        shift = _generate(tile_scenario(sc, k))
        for n in shift[1]:  # the outage of another tile: the feed must stay silent there and just before
            ts = datetime.fromisoformat(n["ts"])
            j0 = (ts - sc.start) // span
            for j in (j0 - 1, j0, j0 + 1):
                t0 = sc.start + span * j + outage_at
                if j != k and 0 <= j < tiles and t0 - 2 * _OUTAGE_AFTER <= ts < t0 + outage + timedelta(minutes=5):
                    raise ValueError(f"notice {n['notice_id']} of tile {k} falls in the outage of tile {j}")
        _write(parts / str(k), shift)
        del shift
    counts: dict[str, int] = {}
    for name, field in zip(SHIFT_FILES, ("ts", "ts", "lpr_ts"), strict=True):
        key = _text_field(field)
        sources = [_lines(parts / str(k) / name) for k in range(tiles)]
        written = 0
        with (out / name).open("w", encoding="utf-8") as fh:
            for line in heapq.merge(*sources, key=key):
                fh.write(line)
                written += 1
        counts[name] = written
    shutil.rmtree(parts)
    return counts


def planted_counts(truth: list[dict[str, Any]]) -> dict[str, Any]:
    """What the truth says the warehouse must count: decisions, reasons, degraded, regularised, awaiting."""
    reasons: Counter[str] = Counter(r for x in truth for r in x["reasons"])
    degraded = sum(x["scenario"].startswith("degraded") for x in truth)
    regularised = sum(x["registration"] == "regularised" for x in truth)
    return {"passages": len(truth), "decisions": dict(Counter(x["decision"] for x in truth)),
            "reasons": dict(reasons), "degraded": degraded, "regularised": regularised,
            "awaiting": degraded - regularised}
