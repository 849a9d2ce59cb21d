"""Seeded vessel calls for the containers flow: discharge list, declarations, inspections, storage, exits.

:func:`simulate_containers` writes a replay directory (``port.vessels.jsonl``, ``port.manifests.jsonl``,
``port.containers.jsonl``, ``port.customs.jsonl``) and ``truth.json``: the discrepancies it planted, as the
alerts (kind, entity, discriminator) the flow must raise — and no others. A first vessel call discharges
thousands of containers, each of which goes through temporary storage, maybe inspections, and leaves 2–28
days after its discharge; a second call at least 50 days later (after every container of the first has
left) discharges a few containers, loads two export containers and carries the exit notices, so the event
time passes the storage limits.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.simulate.jsonl import dumps, write_lines
from operators.container_no import with_check_digit
from operators.events import iso_ms

OWNERS = ("MSCU", "MAEU", "CMAU", "HLXU", "TGHU", "OOLU", "CSQU", "TCLU")
H = timedelta(hours=1)
D = timedelta(days=1)


@dataclass
class _Writer:
    rng: random.Random
    lines: dict[str, list[tuple[datetime, int, dict[str, Any]]]] = field(default_factory=dict)
    n: int = 0
    expected: list[dict[str, str]] = field(default_factory=list)

    def add(self, stream: str, event: str, ts: datetime, **fields: Any) -> dict[str, Any]:
        self.n += 1
        obj = {"event": event, "event_id": f"E{self.n:08d}", "ts": iso_ms(ts), **fields}
        self.lines.setdefault(stream, []).append((ts, self.n, obj))
        return obj

    def expect(self, kind: str, entity_id: str, discriminator: str = "") -> None:
        self.expected.append({"kind": kind, "entity_id": entity_id, "discriminator": discriminator})


def container_numbers(rng: random.Random, n: int) -> list[str]:
    """``n`` distinct valid container numbers."""
    seen: set[str] = set()
    while len(seen) < n:
        seen.add(with_check_digit(f"{rng.choice(OWNERS)}{rng.randrange(1_000_000):06d}"))
    out = sorted(seen)
    rng.shuffle(out)
    return out


def simulate_containers(out: Path, start: datetime, seed: int = 7, containers: int = 2000,
                        duplicates: float = 0.01, bad_lines: bool = True, step_s: float = 50.0) -> dict[str, Any]:
    """Write a replay directory with planted discrepancies and its ground truth.

    Args:
        out: Replay directory (created).
        start: Arrival of the first vessel.
        seed: Random seed.
        containers: Containers discharged from the first vessel (at least 200).
        duplicates: Share of container events written twice (same ``event_id``).
        bad_lines: Append a malformed record, a wrong check digit and an unknown kind.
        step_s: Seconds between two discharges (35 s with 75,000 containers: a month at ~5,000 moves a day).

    Returns:
        The truth (also written to ``truth.json``).
    """
    if containers < 200:
        raise ValueError("simulate at least 200 containers")
    rng = random.Random(seed)
    w = _Writer(rng)
    out.mkdir(parents=True, exist_ok=True)
    nums = container_numbers(rng, containers + 12)
    discharged_nums, extra = nums[:containers], nums[containers:]
    call = f"VC-{start:%Y%m%d}-01"
    arrival, approved, first = start, start + 2 * H, start + 3 * H
    step = timedelta(seconds=step_s)
    w.add("port.vessels", "arrival", arrival, vessel_call_id=call, vessel_name="MSC Akdeniz", voyage="AK612R")
    w.add("port.vessels", "arrival_approved", approved, vessel_call_id=call, arrival_notification_no="VB-2026-118")

    # summary declarations of 20–80 containers; about a third cover several bills of lading
    decl: list[tuple[str, str, list[str]]] = []
    i = k = 0
    while i < containers:
        size = min(rng.randint(20, 80), containers - i)
        chunk = discharged_nums[i:i + size]
        sd = f"SD26{k:05d}"
        n_bl = rng.choice((1, 1, 2, 3)) if size >= 30 else 1
        cuts = sorted(rng.sample(range(1, size), n_bl - 1)) if n_bl > 1 else []
        for j, (a, b) in enumerate(zip([0, *cuts], [*cuts, size], strict=True)):
            decl.append((sd, f"BL{k:05d}-{j + 1}", chunk[a:b]))
        i += size
        k += 1
    sd_of = {c: (sd, bl) for sd, bl, cs in decl for c in cs}
    multi = {sd for sd, _bl, _c in decl if sum(1 for s, _b, _x in decl if s == sd) > 1}
    single_sds = [sd for sd, _b, _c in decl if sd not in multi]

    # planted: missing containers (declared, never discharged), surplus (discharged, not declared)
    miss_single = next(c for sd, _b, cs in decl if sd == single_sds[0] for c in cs[:1])
    multi_decl = next(d for d in decl if d[0] in multi)
    miss_multi = multi_decl[2][0]
    w.expect("discharge_missing", single_sds[0])
    w.expect("discharge_missing", multi_decl[0], multi_decl[1])
    surplus_single, surplus_undeclared = extra[0], extra[1]
    sd_of[surplus_single] = (single_sds[1], next(b for s, b, _c in decl if s == single_sds[1]))
    sd_of[surplus_undeclared] = ("SD26UNDECL", "BL-UNDECL")
    w.expect("discharge_surplus", single_sds[1])
    w.expect("discharge_surplus", call, "undeclared")
    for sd, bl, cs in decl:
        w.add("port.manifests", "manifest_line", start - 6 * H, vessel_call_id=call, summary_declaration_no=sd,
              bl_no=bl, container_numbers=cs)

    order = [c for c in discharged_nums if c not in (miss_single, miss_multi)] + [surplus_single, surplus_undeclared]
    rng.shuffle(order)
    order.sort(key=lambda c: sd_of[c][0])  # a declaration's containers come off together, in random order
    # the last one discharged is selected for X-ray at approval: discharged > 24 h after the order (A.2.4)
    late = order[-1]
    w.add("port.customs", "inspection_ordered", approved, container_no=late, inspection="xray", source="risk_system",
          vessel_call_id=call)
    w.expect("inspection_discharged_late", late)
    w.add("port.customs", "inspection_ordered", approved + H, container_no=miss_single, inspection="physical",
          source="officer", vessel_call_id=call)
    w.expect("inspection_not_discharged", miss_single)
    early = order[0]
    w.expect("discharge_before_approval", call)

    specials = order[1:17]
    open_hold, no_storage_exit, no_form, no_reason, overdue, warn_only = specials[:6]
    # goods of one declaration leaving on several vehicles (A.5.3): IM-MULTI-1 balances, IM-MULTI-2 overdraws
    multi_exits = {specials[11]: ("IM-MULTI-1", 30, 6000.0), specials[12]: ("IM-MULTI-1", 30, 6000.0),
                   specials[13]: ("IM-MULTI-1", 40, 8000.0), specials[14]: ("IM-MULTI-2", 40, 9000.0),
                   specials[15]: ("IM-MULTI-2", 30, 6000.0)}
    w.expect("exit_over_declared_packages", "IM-MULTI-2")
    w.expect("exit_with_open_hold", open_hold)
    w.expect("exit_without_storage_exit", no_storage_exit)
    w.expect("exit_without_tracking_form", no_form)
    w.expect("storage_overdue", overdue)
    w.expect("storage_expiry_warning", overdue)
    w.expect("storage_expiry_warning", warn_only)

    foreign_forms: dict[str, list[str]] = {}
    last_of_sd: dict[str, datetime] = {}
    multi_at: list[datetime] = []
    t = first
    # the late one comes off 26 h after its order whatever the size of the call
    late_at = max(first + step * (len(order) - 1), approved + 26 * H)
    discharge_end = late_at + step
    call2, t2 = f"VC-{start:%Y%m%d}-02", max(start + 50 * D, discharge_end + 30 * D)
    for idx, c in enumerate(order):
        t = arrival + H if c == early else late_at if c == late else first + step * idx
        sd, bl = sd_of[c]
        foreign = c == no_form or (c not in specials and c not in (early, late) and rng.random() < 0.25)
        last_of_sd[sd] = max(t, last_of_sd.get(sd, t))
        status = "empty" if rng.random() < 0.1 else "full"
        w.add("port.containers", "discharged", t, container_no=c, vessel_call_id=call, summary_declaration_no=sd,
              bl_no=bl, load_status=status, seal_no=f"S{rng.randrange(10**7):07d}", foreign=foreign)
        entry = t + H
        inspect = c == open_hold or (c not in specials and c != late and rng.random() < 0.04)
        if inspect:
            kind = "xray" if c == open_hold or rng.random() < 0.6 else "physical"
            w.add("port.customs", "inspection_ordered", t - 2 * H, container_no=c, inspection=kind,
                  source=rng.choice(("risk_system", "officer")), vessel_call_id=call)
        if (inspect and c != open_hold) or c == late:
            kind_late = "xray" if c == late else kind
            if kind_late == "xray":
                result = "search" if rng.random() < 0.2 else "clear"
                w.add("port.customs", "xray_result", t + 3 * H, container_no=c, result=result, operator_id="XR-2")
                if result == "search":
                    w.add("port.containers", "seal_broken", t + 4 * H, container_no=c, seal_no="S-OLD",
                          reason="search after X-ray")
                    w.add("port.customs", "search_result", t + 6 * H, container_no=c, result="clear",
                          officer_id="GM-7")
            else:
                w.add("port.containers", "seal_replaced", t + 4 * H, container_no=c, seal_no="S-OLD",
                      new_seal_no=f"TR{rng.randrange(10**6):06d}", reason="physical inspection")
            w.add("port.customs", "hold_released", t + 7 * H, container_no=c, officer_id="GM-7")
            entry = t + 8 * H
        if c == warn_only:
            entry = t2 + 8 * H - 42 * D  # the warning is due two days before the end of the events
        w.add("port.containers", "storage_entry", entry, container_no=c)
        if c == no_reason:
            w.add("port.containers", "seal_broken", entry + 2 * H, container_no=c, seal_no="S-LOST")
            w.expect("seal_without_reason", c, f"E{w.n:08d}")
        if foreign:
            foreign_forms.setdefault(sd, []).append(c)
        if c in (overdue, warn_only):
            continue
        leave = t + timedelta(days=rng.uniform(2, 28))
        if c != no_storage_exit:
            w.add("port.containers", "storage_exit", leave, container_no=c, exit_slip_no=f"GDC-{idx:06d}")
        if c in multi_exits:
            multi_at.append(t)
            decl_no, packages, kg = multi_exits[c]
            w.add("port.containers", "gate_out", leave + H, container_no=c, plate=f"33 ABC {idx % 1000:03d}",
                  declaration_no=decl_no, package_count=packages, gross_kg=kg)
        else:
            w.add("port.containers", "gate_out", leave + H, container_no=c, plate=f"33 ABC {idx % 1000:03d}",
                  declaration_no=f"IM26{idx:06d}")
    for n, (sd, cs) in enumerate(sorted(foreign_forms.items())):
        form = f"KTF-{n:05d}"
        w.add("port.customs", "tracking_form_registered", last_of_sd[sd] + 6 * H, form_no=form, container_numbers=cs)
        approved_cs = [c for c in cs if c != no_form]
        if approved_cs:
            w.add("port.customs", "tracking_form_approved", last_of_sd[sd] + 30 * H, form_no=form,
                  container_numbers=approved_cs)
    w.add("port.vessels", "departure", discharge_end + 2 * H, vessel_call_id=call)
    for decl_no, packages, kg in (("IM-MULTI-1", 100, 20_000.0), ("IM-MULTI-2", 60, 15_000.0)):
        w.add("port.customs", "declaration_released", max(multi_at) + H, declaration_no=decl_no,
              package_count=packages, gross_kg=kg)

    # second call after every container of the first has left: a clean discharge, two export containers loaded,
    # the exit notices
    w.add("port.vessels", "arrival", t2, vessel_call_id=call2, vessel_name="CMA Bosphorus", voyage="BS07")
    w.add("port.vessels", "arrival_approved", t2 + H, vessel_call_id=call2, arrival_notification_no="VB-2026-301")
    c2 = extra[2:7]
    w.add("port.manifests", "manifest_line", t2 - 6 * H, vessel_call_id=call2, summary_declaration_no="SD26B0001",
          bl_no="BLB-1", container_numbers=c2)
    for j, c in enumerate(c2):
        w.add("port.containers", "discharged", t2 + 2 * H + j * step, container_no=c, vessel_call_id=call2,
              summary_declaration_no="SD26B0001", bl_no="BLB-1", load_status="full", seal_no=f"B{j}")
    ok_export, bad_export = extra[7], extra[8]
    for c, decl_no in ((ok_export, "EX26000001"), (bad_export, "EX26000002")):
        w.add("port.containers", "gate_in", t2 - 2 * D, container_no=c, load_status="full", declaration_no=decl_no)
    w.add("port.customs", "declaration_completed", t2 - D, declaration_no="EX26000001", container_numbers=[ok_export])
    w.add("port.containers", "loaded", t2 + 5 * H, container_no=ok_export, vessel_call_id=call2)
    w.add("port.containers", "loaded", t2 + 5 * H + step, container_no=bad_export, vessel_call_id=call2)
    w.expect("loading_incomplete_declaration", bad_export)
    in_port = _in_port_rules(w, call2, t2, step, {*nums}, seed)
    notices = [("CB-OK", 120, 24_000.0, 120, 24_000.0), ("CB-PKG", 118, 18_000.0, 120, 18_000.0),
               ("CB-KG15", 50, 11_500.0, 50, 10_000.0), ("CB-KG2", 70, 7_140.0, 70, 7_000.0)]
    for no, pk, kg, dpk, dkg in notices:
        w.add("port.vessels", "exit_notice", t2 + 6 * H, vessel_call_id=call2, exit_notice_no=no, package_count=pk,
              gross_kg=kg, declarations=[{"declaration_no": f"EX-{no}-1", "package_count": dpk // 2,
                                          "gross_kg": dkg / 2},
                                         {"declaration_no": f"EX-{no}-2", "package_count": dpk - dpk // 2,
                                          "gross_kg": dkg / 2}])
    w.expect("exit_notice_package_mismatch", "CB-PKG")
    w.expect("exit_notice_weight_blocked", "CB-KG15")
    w.expect("exit_notice_weight_difference", "CB-KG2")
    w.add("port.vessels", "departure", t2 + 8 * H, vessel_call_id=call2)

    dead = []
    for stream, items in w.lines.items():
        items.sort(key=lambda x: (x[0], x[1]))
        lines = []
        for _ts, _n, obj in items:
            line = dumps(obj)
            lines.append(line)
            if stream in ("port.containers", "port.customs") and rng.random() < duplicates:
                lines.append(line)
        if bad_lines and stream == "port.containers":
            bad_ts = iso_ms(t2 + 7 * H)
            extra_lines = ["{not json", dumps({"event": "gate_out", "event_id": "BAD-1", "ts": bad_ts,
                                               "container_no": "MSCU1234560", "plate": "34 X 1"}),
                           dumps({"event": "teleported", "event_id": "BAD-2", "ts": bad_ts,
                                  "container_no": extra[2]})]
            lines.extend(extra_lines)
            dead = extra_lines
        write_lines(out / f"{stream}.jsonl", lines)
    truth = {"seed": seed, "vessel_calls": [call, call2], "containers_discharged": len(order) + len(c2) + in_port,
             "events": w.n, "expected_alerts": w.expected, "dead_letters": len(dead)}
    (out / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True), encoding="utf-8")
    return truth


def _in_port_rules(w: _Writer, call: str, t2: datetime, step: timedelta, taken: set[str], seed: int) -> int:
    """Plant the in-port rules of ``operators.container_rules`` on the second call, each with a case not reported.

    Returns how many containers it discharged. Numbers come from their own generator, so the first call's data
    do not change.
    """
    more = [c for c in container_numbers(random.Random(seed + 1000), 20) if c not in taken][:10]
    # A.6.5: a tracking form approved for a container that never came into the port
    w.add("port.customs", "tracking_form_approved", t2 + 4 * H, form_no="KTF-GHOST", container_numbers=[more[0]])
    w.expect("tracking_form_not_in_port", more[0], f"E{w.n:08d}")
    # B.3.18: two exports given up; one leaves with customs' exit approval, the other without
    for c, decl_no in ((more[1], "EX26000003"), (more[2], "EX26000004")):
        w.add("port.containers", "gate_in", t2 - 2 * D, container_no=c, load_status="full", declaration_no=decl_no)
    w.add("port.customs", "export_withdrawal_approved", t2 + H, declaration_no="EX26000004",
          container_numbers=[more[2]])
    w.add("port.containers", "gate_out", t2 + 2 * H, container_no=more[2], plate="34 EX 2")
    w.add("port.containers", "gate_out", t2 + 3 * H, container_no=more[1], plate="34 EX 1")
    w.expect("abandoned_export_exit", more[1])
    # discharged under their own summary declaration: empties (A.4.14) and stuffing/stripping (A.3.7)
    cs = more[3:10]
    w.add("port.manifests", "manifest_line", t2 - 6 * H, vessel_call_id=call, summary_declaration_no="SD26B0002",
          bl_no="BLB-2", container_numbers=cs)
    empty = {more[3], more[5], more[6]}
    for j, c in enumerate(cs):
        status = "empty" if c in empty else "full"
        seal = {} if c in empty else {"seal_no": f"BB{j}"}
        w.add("port.containers", "discharged", t2 + 2 * H + (5 + j) * step, container_no=c, vessel_call_id=call,
              summary_declaration_no="SD26B0002", bl_no="BLB-2", load_status=status, **seal)
        w.add("port.containers", "storage_entry", t2 + 3 * H + j * step, container_no=c)
    # A.4.14: an empty leaves on an approved list (the list is its storage exit); a full one is on the list too
    w.add("port.customs", "empty_list_registered", t2 + 4 * H, list_no="BOS-26-1", container_numbers=[more[3], more[4]])
    w.add("port.customs", "empty_list_approved", t2 + 5 * H, list_no="BOS-26-1", container_numbers=[more[3], more[4]])
    w.expect("empty_list_check_failed", more[4], f"E{w.n:08d}")
    w.add("port.containers", "gate_out", t2 + 6 * H, container_no=more[3], plate="33 BOS 1")
    # stuffing: sealed in time (fine); not sealed and gone (reported)
    w.add("port.containers", "stuffed", t2 + 4 * H, container_no=more[5], declaration_no="EX26000005")
    w.add("port.containers", "sealed", t2 + 5 * H, container_no=more[5], seal_no="EXS-5")
    w.add("port.containers", "stuffed", t2 + 4 * H, container_no=more[6], declaration_no="EX26000006")
    w.expect("stuffed_not_sealed", more[6], f"E{w.n:08d}")
    w.add("port.containers", "storage_exit", t2 + 5 * H, container_no=more[6])
    w.add("port.containers", "gate_out", t2 + 6 * H, container_no=more[6], plate="34 DOL 6")
    # stripping: seal break not recorded; under an open hold; without declaration or officer
    w.add("port.containers", "stripped", t2 + 4 * H, container_no=more[7], declaration_no="IM26B00007")
    w.expect("stripping_seal_not_recorded", more[7], f"E{w.n:08d}")
    w.add("port.customs", "inspection_ordered", t2 + 4 * H, container_no=more[8], inspection="physical",
          source="officer")
    for c in (more[8], more[9]):
        w.add("port.containers", "seal_broken", t2 + 5 * H, container_no=c, seal_no="BB", reason="stripping")
    w.add("port.containers", "stripped", t2 + 6 * H, container_no=more[8], officer_id="GM-9")
    w.expect("stuffing_with_open_hold", more[8], f"E{w.n:08d}")
    w.add("port.containers", "stripped", t2 + 6 * H, container_no=more[9])
    w.expect("stuffing_without_reference", more[9], f"E{w.n:08d}")
    return len(cs)
