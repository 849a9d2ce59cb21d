"""Seeded gate-out scenario: the port's events for the containers flow and the trucks leaving through the gate.

Each truck is one scenario with the decision the rules give for it (A.5, A.2.21, A.5.3, B.3.2.5):

===========  ==================================================================  ===================================
scenario     port events (containers flow)                                        expected at the barrier
===========  ==================================================================  ===================================
held         X-ray ordered, not released; storage exit recorded                   divert ``exit_blocked`` (A.2.21)
released     X-ray ordered, scanned clear, hold released; storage exit recorded    open
no_storage   no temporary-storage exit record                                     divert ``exit_blocked`` (A.5)
multi_1      declaration EX released 300 packages / 30 000 kg; truck 1: 120/12 000  open
multi_2      truck 2: 120 / 12 000 (the port reported truck 1 leaving)              open
multi_3      truck 3: 120 / 6 000 where 60 remain                                 divert ``package_count_mismatch``
===========  ==================================================================  ===================================

The port reports (``gate_out``) every truck the barrier let out a minute after it passed. :func:`write_exit_scenario`
writes the port events to ``port_dir`` (``port.containers.jsonl``, ``port.customs.jsonl``) and the gate's
frames and gate-out notices to ``gate_dir`` (``gate.frames/``, ``gate.pregate.jsonl``, ``exit_truth.jsonl``).
The gate's third input, ``containers.exit_status.jsonl``, is what the containers flow publishes when it replays
``port_dir`` (``RunOptions(publish_dir=gate_dir, publish_names=("containers.exit_status",))``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from connectors.simulate.gate_pregate import CAMERAS
from connectors.simulate.gate_scenes import passage_frames, random_truth
from operators.events import iso_ms

SCENARIOS: dict[str, tuple[str, tuple[str, ...]]] = {
    "held": ("divert", ("exit_blocked",)),
    "released": ("open", ()),
    "no_storage": ("divert", ("exit_blocked",)),
    "multi_1": ("open", ()),
    "multi_2": ("open", ()),
    "multi_3": ("divert", ("package_count_mismatch",)),
}
#: The multi-vehicle declaration: released packages and kg, and each truck's figures.
DECLARATION = ("EX-2026-000301", 300, 30_000.0)
TRUCKS = {"multi_1": (120, 12_000.0), "multi_2": (120, 12_000.0), "multi_3": (120, 6_000.0)}
_LPR_INDEX = [c for c, _k in CAMERAS].index("lpr")
H = timedelta(hours=1)


def write_exit_scenario(port_dir: Path, gate_dir: Path, seed: int = 5, start: datetime | None = None,
                        width: int = 960, gate_id: str = "G1", lane_id: str = "OUT1") -> list[dict[str, Any]]:
    """Write the port events and the gate replay of the gate-out scenario.

    Args:
        port_dir: Replay directory of the containers flow (created).
        gate_dir: Replay directory of the gate flow (created).
        seed: Random seed (same seed, same bytes).
        start: Event time of the first truck at the gate (the containers come off a day before).
        width: Frame width.
        gate_id: Gate id.
        lane_id: Exit lane id.

    Returns:
        The truth per passage: passage id, scenario, expected decision and reasons.
    """
    rng = np.random.default_rng(seed)
    t0 = start or datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    discharged = t0 - 26 * H
    frames_dir = gate_dir / "gate.frames"
    frames_dir.mkdir(parents=True, exist_ok=True)
    port_dir.mkdir(parents=True, exist_ok=True)
    events: dict[str, list[dict[str, Any]]] = {"port.vessels": [], "port.manifests": [], "port.containers": [],
                                               "port.customs": []}
    n = 0

    def add(stream: str, kind: str, ts: datetime, **fields: Any) -> None:
        nonlocal n
        n += 1
        events[stream].append({"event": kind, "event_id": f"GX{n:06d}", "ts": iso_ms(ts), **fields})

    decl_no, decl_pk, decl_kg = DECLARATION
    # a clean vessel call (arrival approved before discharge, every container on the summary declaration), so the
    # containers flow finds nothing but what the gate is about
    add("port.vessels", "arrival", discharged - 3 * H, vessel_call_id="VC-GX-1", vessel_name="MSC Ege", voyage="EG01")
    add("port.vessels", "arrival_approved", discharged - 2 * H, vessel_call_id="VC-GX-1",
        arrival_notification_no="VB-GX-1")
    add("port.customs", "declaration_released", discharged + 6 * H, declaration_no=decl_no,
        package_count=decl_pk, gross_kg=decl_kg)
    notices: list[dict[str, Any]] = []
    lines: list[str] = []
    truth: list[dict[str, Any]] = []
    t = t0
    for i, name in enumerate(SCENARIOS):
        decision, reasons = SCENARIOS[name]
        pt = replace(random_truth(rng, f"{gate_id}-{lane_id}-{i:05d}", lane_id, "easy", CAMERAS),
                     seal=True, hazard_placard=False)
        c = pt.container
        add("port.containers", "discharged", discharged + i * 60 * timedelta(seconds=1), container_no=c,
            vessel_call_id="VC-GX-1", summary_declaration_no="SD-GX-1", bl_no="BL-GX-1", load_status="full",
            seal_no=f"S{i}")
        add("port.containers", "storage_entry", discharged + H, container_no=c)
        if name in ("held", "released"):
            add("port.customs", "inspection_ordered", discharged + 2 * H, container_no=c, inspection="xray",
                source="risk_system")
        if name == "released":
            add("port.customs", "xray_result", discharged + 3 * H, container_no=c, result="clear", operator_id="XR-1")
            add("port.customs", "hold_released", discharged + 4 * H, container_no=c, officer_id="GM-1")
        if name != "no_storage":
            add("port.containers", "storage_exit", discharged + 5 * H, container_no=c, exit_slip_no=f"GDC-GX-{i}")
        notice: dict[str, Any] = {
            "notice_id": f"GXN{i:04d}", "ts": iso_ms(t - timedelta(minutes=10)), "direction": "out",
            "plate": pt.plate, "trailer_plate": pt.trailer_plate,
            "containers": [{"number": c, "size_type": pt.size_type, "load_status": "full", "seal_no": f"S{i}"}],
            "declaration_type": "import", "declaration_no": f"IM-GX-{i}", "notifier": "port-operator",
            "hazardous": False}
        figures = TRUCKS.get(name)
        if figures is not None:
            notice.update(declaration_no=decl_no, package_count=figures[0], weight_kg=figures[1])
        notices.append(notice)
        for k, fr in enumerate(passage_frames(pt, rng, width, CAMERAS)):
            file = f"{pt.passage_id}-{fr.camera_id}.jpg"
            (frames_dir / file).write_bytes(fr.jpeg)
            lines.append(json.dumps({"file": file, "gate_id": gate_id, "lane_id": lane_id,
                                     "checkpoint": fr.checkpoint, "camera_id": fr.camera_id,
                                     "ts": iso_ms(t + timedelta(milliseconds=700 * k)),
                                     "passage_id": pt.passage_id}))
        lpr = t + timedelta(milliseconds=700 * _LPR_INDEX)
        if decision == "open":  # the port reports the truck leaving a minute after the barrier
            extra = {} if figures is None else {"declaration_no": decl_no, "package_count": figures[0],
                                                "gross_kg": figures[1]}
            add("port.containers", "gate_out", lpr + timedelta(minutes=1), container_no=c, plate=pt.plate, **extra)
        truth.append({"passage_id": pt.passage_id, "scenario": name, "decision": decision, "reasons": list(reasons),
                      "notice_id": notice["notice_id"], "container": c, "plate": pt.plate, "lpr_ts": iso_ms(lpr)})
        t += timedelta(minutes=3)
    add("port.manifests", "manifest_line", discharged - 4 * H, vessel_call_id="VC-GX-1",
        summary_declaration_no="SD-GX-1", bl_no="BL-GX-1", container_numbers=[t["container"] for t in truth])
    add("port.vessels", "departure", discharged + 3 * H, vessel_call_id="VC-GX-1")
    (frames_dir / "frames.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (gate_dir / "gate.pregate.jsonl").write_text("".join(json.dumps(x) + "\n" for x in notices), encoding="utf-8")
    (gate_dir / "exit_truth.jsonl").write_text("".join(json.dumps(x) + "\n" for x in truth), encoding="utf-8")
    for stream, rows in events.items():
        rows.sort(key=lambda r: (str(r["ts"]), str(r["event_id"])))
        (port_dir / f"{stream}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return truth
