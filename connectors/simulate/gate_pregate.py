"""Seeded gate-decision scenario: truck passages (frames with ground truth) and their pre-gate notices.

Each passage is one scenario from issue 5 with the decision the rules of the issue give for it:

====================  ======================================================  =====================
scenario              notice                                                  expected
====================  ======================================================  =====================
match                 agrees with the truck                                   open
wrong_plate           another tractor plate, the truck's container            divert plate_mismatch
missing_container     another container than the one on the truck             divert container_missing
wrong_size            a size/type of another length                           divert size_mismatch
placard               no ``hazardous``; the truck shows a placard             divert placard_unexpected
seal_missing          full container; the doors show no seal                  divert seal_missing
expired               sent 25 h before the truck (validity 24 h)              divert no_notice
duplicate             two open notices for the plate                          manual_review notice_conflict
correction            wrong container, corrected (same id) before the truck   open
notice_after_truck    sent a minute after the truck                           divert no_notice
outage                none for 2 h (feed down); sent an hour after the truck  open degraded_mode
====================  ======================================================  =====================

:func:`write_scenario` writes ``gate.frames/`` (as :func:`~connectors.simulate.gate_scenes.write_replay`),
``gate.pregate.jsonl`` (the notice contract) and ``decisions_truth.jsonl`` (one line per passage).
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from connectors.simulate.gate_scenes import PassageTruth, passage_frames, random_container, random_plate, random_truth
from operators.events import iso_ms

SCENARIOS: dict[str, tuple[str, tuple[str, ...]]] = {
    "match": ("open", ()),
    "wrong_plate": ("divert", ("plate_mismatch",)),
    "missing_container": ("divert", ("container_missing", "container_unexpected")),
    "wrong_size": ("divert", ("size_mismatch",)),
    "placard": ("divert", ("placard_unexpected",)),
    "seal_missing": ("divert", ("seal_missing",)),
    "expired": ("divert", ("no_notice",)),
    "duplicate": ("manual_review", ("notice_conflict",)),
    "correction": ("open", ()),
    "notice_after_truck": ("divert", ("no_notice",)),
    "outage": ("open", ("degraded_mode",)),
}
CAMERAS: tuple[tuple[str, int], ...] = (("left", 1), ("right", 1), ("rear", 1), ("lpr", 2))
_LPR_INDEX = [c for c, _k in CAMERAS].index("lpr")
_OTHER_LENGTH = {"2": "42G1", "4": "22G1", "L": "22G1"}


def _notice(nid: str, ts: datetime, t: PassageTruth, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "notice_id": nid, "ts": iso_ms(ts), "direction": "in", "plate": t.plate, "trailer_plate": t.trailer_plate,
        "containers": [{"number": t.container, "size_type": t.size_type, "load_status": "full", "seal_no": "S1"}],
        "declaration_type": "import", "declaration_no": f"D-{nid}", "notifier": "port-operator",
        "hazardous": t.hazard_placard}
    body.update(over)
    return body


def write_scenario(out: Path, scenarios: tuple[str, ...] = tuple(SCENARIOS), seed: int = 11, width: int = 960,
                   tier: str = "easy", start: datetime | None = None, gate_id: str = "G1",
                   lane_id: str = "L1") -> list[dict[str, Any]]:
    """Write the scenario replay directory.

    Args:
        out: Replay directory (created).
        scenarios: One passage per name (from :data:`SCENARIOS`), in this order, 90 s apart; ``outage`` is
            placed two hours after the previous passage.
        seed: Random seed (same seed, same bytes).
        width: Frame width.
        tier: Image tier (``easy`` | ``hard``).
        start: Event time of the first passage.
        gate_id: Gate id.
        lane_id: Lane id.

    Returns:
        The truth per passage: passage id, scenario, expected decision and reasons.
    """
    rng = np.random.default_rng(seed)
    frames_dir = out / "gate.frames"
    frames_dir.mkdir(parents=True, exist_ok=True)
    t = start or datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    lines: list[str] = []
    notices: list[dict[str, Any]] = [{
        "notice_id": "FEED-0", "ts": iso_ms(t - timedelta(minutes=20)), "direction": "in", "plate": "06 A 1000",
        "containers": [], "declaration_type": "import", "notifier": "port-operator"}]  # the feed is up
    truth: list[dict[str, Any]] = []
    for i, name in enumerate(scenarios):
        decision, reasons = SCENARIOS[name]
        if name == "outage":
            t += timedelta(hours=2)
        pt = replace(random_truth(rng, f"{gate_id}-{lane_id}-{i:05d}", lane_id, tier, CAMERAS),
                     seal=name != "seal_missing", hazard_placard=name == "placard")
        nid = f"N{i:04d}"
        before = t - timedelta(minutes=10)
        if name == "match":
            notices.append(_notice(nid, before, pt))
        elif name == "wrong_plate":
            other = random_plate(rng)
            notices.append(_notice(nid, before, pt, plate=other, trailer_plate=None))
        elif name == "missing_container":
            notices.append(_notice(nid, before, pt, containers=[
                {"number": random_container(rng), "size_type": pt.size_type, "load_status": "full"}]))
        elif name == "wrong_size":
            notices.append(_notice(nid, before, pt, containers=[
                {"number": pt.container, "size_type": _OTHER_LENGTH[pt.size_type[0]], "load_status": "full"}]))
        elif name == "placard":
            notices.append(_notice(nid, before, pt, hazardous=False))
        elif name == "seal_missing":
            notices.append(_notice(nid, before, pt))
        elif name == "expired":
            notices.append(_notice(nid, t - timedelta(hours=25), pt))
        elif name == "duplicate":
            notices.append(_notice(nid, before, pt))
            notices.append(_notice(nid + "B", before + timedelta(minutes=1), pt))
        elif name == "correction":
            notices.append(_notice(nid, t - timedelta(minutes=30), pt, containers=[
                {"number": random_container(rng), "size_type": pt.size_type, "load_status": "full"}]))
            notices.append(_notice(nid, before, pt))
        elif name == "notice_after_truck":
            notices.append(_notice(nid, t + timedelta(minutes=1), pt))
        elif name == "outage":
            notices.append(_notice(nid, t + timedelta(hours=1), pt))
        for k, fr in enumerate(passage_frames(pt, rng, width, CAMERAS)):
            file = f"{pt.passage_id}-{fr.camera_id}.jpg"
            (frames_dir / file).write_bytes(fr.jpeg)
            lines.append(json.dumps({"file": file, "gate_id": gate_id, "lane_id": lane_id,
                                     "checkpoint": fr.checkpoint, "camera_id": fr.camera_id,
                                     "ts": iso_ms(t + timedelta(milliseconds=700 * k)),
                                     "passage_id": pt.passage_id}))
        truth.append({"passage_id": pt.passage_id, "scenario": name, "decision": decision,
                      "reasons": list(reasons), "notice_id": nid, "started_at": iso_ms(t),
                      "lpr_ts": iso_ms(t + timedelta(milliseconds=700 * _LPR_INDEX)),
                      "truth": asdict(pt)})
        t += timedelta(seconds=90)
        if name != "outage" and i + 1 < len(scenarios) and scenarios[i + 1] != "outage":
            # keep the feed alive between passages (a notice for a truck that never comes)
            notices.append({"notice_id": f"FEED-{i + 1}", "ts": iso_ms(t - timedelta(seconds=45)), "direction": "in",
                            "plate": "06 A 1000", "containers": [], "declaration_type": "import",
                            "notifier": "port-operator"})
    (frames_dir / "frames.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    notices.sort(key=lambda n: str(n["ts"]))
    (out / "gate.pregate.jsonl").write_text("".join(json.dumps(n) + "\n" for n in notices), encoding="utf-8")
    (out / "decisions_truth.jsonl").write_text("".join(json.dumps(x) + "\n" for x in truth), encoding="utf-8")
    return truth
