"""A campaign of discharges in one replay directory: the fuel checks' demo and test scenario.

1. Discharge 1: a clean discharge whose B/L agrees with the meters (within the natural-loss tolerance).
2. Afterwards, with no transfer open, LPG-style phase-change flow on one meter that the firm reported (in
   transfer 1's close event): recorded as ``phase_change`` and excluded from the totals (M8). Optionally a
   second, unreported movement (``flow_without_operation``).
3. Discharge 2: the B/L overstates the cargo by ``bl_bias_pct`` (outside tolerance → ``bl_tolerance``), and
   one meter reports ``power_loss`` for a minute mid-discharge (``meter_failure``, M7).

The meters and tanks continue from one discharge to the next (totalizer indexes and tank stock), and every
meter keeps reporting between them (idle readings), so nothing but the planted faults is abnormal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.simulate.scenario import DischargeScenario, Truth
from flows.config import Config

METER_FILE, TANK_FILE, TRANSFER_FILE = "meter.readings.jsonl", "tank.readings.jsonl", "transfers.jsonl"


@dataclass(frozen=True)
class CampaignTruth:
    """What the campaign planted, for tests and the demo.

    Attributes:
        discharges: Truth of each discharge.
        bl_bias_pct: B/L and declaration overstatement of discharge 2, in percent of the true weight.
        power_loss: Meter and window of the reported power loss.
        phase_change: Meter and window of the reported phase-change flow.
        unreported_flow: Meter and window of movement with no transfer and no report (or empty).
    """

    discharges: list[Truth]
    bl_bias_pct: float
    power_loss: dict[str, str]
    phase_change: dict[str, Any]
    unreported_flow: dict[str, Any] = field(default_factory=dict)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _read(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _last_readings(lines: list[str]) -> dict[str, dict[str, Any]]:
    last: dict[str, dict[str, Any]] = {}
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and "meter_id" in obj and "gov_total_m3" in obj:
            last[str(obj["meter_id"])] = obj
    return last


def _movement(last: dict[str, dict[str, Any]], mover: str, start: datetime, seconds: int, flow_m3h: float,
              lead_s: int = 120, trail_s: int = 300) -> tuple[list[str], datetime]:
    """Idle readings of every meter, with ``mover`` flowing for ``seconds`` after ``lead_s`` idle seconds."""
    out = []
    totals = {m: float(r["gov_total_m3"]) for m, r in last.items()}
    t = start
    for k in range(lead_s + seconds + trail_s):
        t = start + timedelta(seconds=k)
        for m in sorted(last):
            r = dict(last[m])
            moving = m == mover and lead_s <= k < lead_s + seconds
            f = flow_m3h if moving else 0.0
            totals[m] += f / 3600.0
            r.update(ts=_iso(t), flow_m3h=f, gov_total_m3=round(totals[m], 6), status="ok")
            wander = 0.01 if k % 2 else -0.01  # transmitters wander in their last digit
            r["temp_c"] = round(float(r["temp_c"]) + wander, 3)
            r["pressure_kpa"] = round(float(r["pressure_kpa"]) + 10 * wander, 3)
            if r.get("density_kgm3") is not None:
                r["density_kgm3"] = round(float(r["density_kgm3"]) + 2 * wander, 3)
            r.pop("mass_total_kg", None)
            r.pop("mass_flow_kgh", None)
            out.append(json.dumps(r))
    return out, t


def simulate_campaign(config: Config, out_dir: Path, start: datetime, seed: int = 7, bl_bias_pct: float = 1.2,
                      unreported_flow: bool = False) -> CampaignTruth:
    """Write the campaign's replay directory (``meter.readings``, ``tank.readings``, ``transfers``).

    Args:
        config: The site.
        out_dir: Replay directory to write (its files are replaced).
        start: First reading of discharge 1 (timezone-aware UTC).
        seed: Seed; the same seed gives the same bytes.
        bl_bias_pct: How much discharge 2's B/L overstates the cargo.
        unreported_flow: Also plant a movement nobody reported (``flow_without_operation``).

    Returns:
        What was planted.
    """
    from connectors.simulate.discharge import simulate_discharge

    out_dir.mkdir(parents=True, exist_ok=True)
    work1, work2 = out_dir / ".discharge-1", out_dir / ".discharge-2"
    t1 = simulate_discharge(config, DischargeScenario(start=start, transfer_id="TR-2026-0001",
                                                      total_gsv_15c_m3=5000.0), work1, seed=seed)
    meters = _read(work1 / METER_FILE)
    tanks = _read(work1 / TANK_FILE)
    transfers = _read(work1 / TRANSFER_FILE)
    last = _last_readings(meters)
    end1 = max(datetime.fromisoformat(r["ts"]) for r in last.values())
    mover = sorted(last)[0]

    # phase change after discharge 1, reported in its close event
    extra, t_end = _movement(last, mover, end1 + timedelta(seconds=1), 300, 45.0)
    pc_from, pc_to = end1 + timedelta(seconds=100), end1 + timedelta(seconds=1 + 120 + 300 + 150)
    transfers = [_add_phase_window(line, pc_from, pc_to) for line in transfers]
    planted_unreported: dict[str, Any] = {}
    if unreported_flow:
        more, t_end2 = _movement(_last_readings(extra), mover, t_end + timedelta(seconds=1), 240, 60.0)
        planted_unreported = {"meter_id": mover, "from": _iso(t_end + timedelta(seconds=121)),
                              "to": _iso(t_end + timedelta(seconds=361)), "flow_m3h": 60.0, "seconds": 240}
        extra += more
        t_end = t_end2
    last = _last_readings(extra)

    start2 = t_end + timedelta(seconds=1)
    opening_index = {m: float(r["gov_total_m3"]) for m, r in last.items()}
    opening_stock = {k: v["closing_gsv_15c_m3"] for k, v in t1.per_tank.items()}
    t2 = simulate_discharge(config, DischargeScenario(
        start=start2, transfer_id="TR-2026-0002", ship_name="MT Karadeniz", total_gsv_15c_m3=4000.0,
        meter_opening_index_m3=opening_index, tank_opening_gsv_15c_m3=opening_stock,
        idle_before_s=300.0), work2, seed=seed + 1)
    meters2 = _read(work2 / METER_FILE)
    pl_meter = sorted(last)[-1]
    mid = datetime.fromisoformat(t2.started_at) + (
        datetime.fromisoformat(t2.ended_at) - datetime.fromisoformat(t2.started_at)) / 2
    pl_from, pl_to = mid, mid + timedelta(seconds=60)
    meters2 = [_mark_status(line, pl_meter, pl_from, pl_to, "power_loss") for line in meters2]
    transfers2 = [_bias_bl(line, bl_bias_pct) for line in _read(work2 / TRANSFER_FILE)]

    (out_dir / METER_FILE).write_text("\n".join(meters + extra + meters2) + "\n", encoding="utf-8")
    (out_dir / TANK_FILE).write_text("\n".join(tanks + _read(work2 / TANK_FILE)) + "\n", encoding="utf-8")
    (out_dir / TRANSFER_FILE).write_text("\n".join(transfers + transfers2) + "\n", encoding="utf-8")
    for work in (work1, work2):
        for f in work.iterdir():
            f.unlink()
        work.rmdir()
    truth = CampaignTruth(
        [t1, t2], bl_bias_pct, {"meter_id": pl_meter, "from": _iso(pl_from), "to": _iso(pl_to)},
        {"meter_id": mover, "from": _iso(pc_from), "to": _iso(pc_to), "flow_m3h": 45.0, "seconds": 300},
        planted_unreported)
    (out_dir / "campaign.json").write_text(json.dumps({
        "bl_bias_pct": bl_bias_pct, "power_loss": truth.power_loss, "phase_change": truth.phase_change,
        "unreported_flow": planted_unreported,
        "transfers": [t.transfer_id for t in truth.discharges]}, indent=2) + "\n", encoding="utf-8")
    return truth


def _add_phase_window(line: str, a: datetime, b: datetime) -> str:
    obj = json.loads(line)
    if obj.get("event") == "close":
        obj["phase_change_reported"] = [{"from": _iso(a), "to": _iso(b)}]
    return json.dumps(obj, ensure_ascii=False)


def _bias_bl(line: str, pct: float) -> str:
    obj = json.loads(line)
    f = 1.0 + pct / 100.0
    for name in ("bl_quantity_kg_air", "declaration_quantity_kg"):
        if obj.get(name) is not None:
            obj[name] = round(float(obj[name]) * f)
    if obj.get("bl_quantity_m3_15c") is not None:
        obj["bl_quantity_m3_15c"] = round(float(obj["bl_quantity_m3_15c"]) * f, 3)
    return json.dumps(obj, ensure_ascii=False)


def _mark_status(line: str, meter_id: str, a: datetime, b: datetime, status: str) -> str:
    if f'"{meter_id}"' not in line:
        return line
    obj = json.loads(line)
    ts = datetime.fromisoformat(obj["ts"])
    if obj.get("meter_id") == meter_id and a <= ts < b:
        obj["status"] = status
        return json.dumps(obj)
    return line
