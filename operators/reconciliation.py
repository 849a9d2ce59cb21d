"""Per-transfer reconciliation (M9, M5): meters against shore tanks, documents and ship tanks.

Meters are compared with the shore tanks in event-time windows and at close, and at close with the B/L,
the declaration and the ship's tanks.

Inputs, all for one transfer: its documents, the running and closed records of its meter operations, and
the gauge points of its receiving tanks. Meter and tank figures are compared *at the same instant*: both
series are interpolated linearly at each window boundary, and a boundary is evaluated only once the
transfer's event time has passed it by a grace period (so late progress records and gauge readings are
in). A window whose difference exceeds the class 0.3 system MPE plus the gauges' uncertainty raises a
``tank_mismatch`` alert; at close the whole transfer is compared the same way, and the meter quantity
against the B/L and declaration within the natural-loss tolerance (``bl_tolerance``). For LPG the ship's
figures decide when the meter is out of tolerance (Art. 9(4)).
"""

from __future__ import annotations

from bisect import bisect_right, insort
from dataclasses import dataclass, field
from typing import Any

from operators.alerts import Alert
from operators.events import iso_ms, ts_from_ms
from operators.meter_events import Transfer
from operators.tolerances import ToleranceTable


@dataclass(frozen=True)
class ReconcileParams:
    """Thresholds of the reconciliation.

    Attributes:
        window_s: Event-time window of the meter vs tank comparison during a transfer.
        grace_s: A boundary is evaluated once the transfer's event time is this far past it.
        system_mpe_pct: Measuring-system maximum permissible error (class 0.3: 0.3 %).
        gauge_uncertainty_mm: Uncertainty of one tank gauge reading, in level.
        min_window_m3: Windows in which the meters delivered less than this are not judged.
        flow: Flow name on the alerts.
    """

    window_s: float = 1800.0
    grace_s: float = 300.0
    system_mpe_pct: float = 0.3
    gauge_uncertainty_mm: float = 3.0
    min_window_m3: float = 50.0
    flow: str = "meters"


@dataclass(frozen=True, slots=True)
class TankPoint:
    """A receiving tank's standard volume at a gauge reading, routed to the tank's transfer."""

    tank_id: str
    transfer_id: str
    ts_ms: int
    gsv_15c_m3: float
    mass_air_kg: float
    m3_per_mm: float


@dataclass(frozen=True, slots=True)
class TankDetached:
    """A tank left a transfer (the transfer's close reached the tank): no more points of it will come."""

    tank_id: str
    transfer_id: str
    ts_ms: int


@dataclass(frozen=True, slots=True)
class MeterDetached:
    """The transfer's close reached a meter: beyond its running operation's records, nothing more of it comes."""

    meter_id: str
    transfer_id: str
    ts_ms: int


@dataclass(frozen=True, slots=True)
class DriftPoint:
    """One transfer's meter-vs-tank difference, for the meter drift check of each of its meters."""

    meter_id: str
    transfer_id: str
    ts_ms: int
    diff_pct: float
    meter_gsv_15c_m3: float


@dataclass
class ReconcileOutput:
    """What one step emits."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    drift: list[DriftPoint] = field(default_factory=list)


@dataclass
class _Series:
    t: list[int] = field(default_factory=list)
    v: list[float] = field(default_factory=list)
    m: list[float] = field(default_factory=list)
    per_mm: float = 0.0

    def add(self, t: int, v: float, m: float) -> None:
        if self.t and t <= self.t[-1]:
            if t == self.t[-1]:
                self.v[-1], self.m[-1] = v, m
            return
        self.t.append(t)
        self.v.append(v)
        self.m.append(m)

    def at(self, t: int, before: float = 0.0) -> float | None:
        """Linear interpolation at ``t``; ``before`` ahead of the first point; ``None`` past the last."""
        return _interp(self.t, self.v, t, before)


def _interp(ts: list[int], vs: list[float], t: int, before: float) -> float | None:
    if not ts or t > ts[-1]:
        return None
    if t < ts[0]:
        return before
    k = bisect_right(ts, t)
    if k == len(ts) or ts[k - 1] == t:
        return vs[k - 1]
    t0, t1, v0, v1 = ts[k - 1], ts[k], vs[k - 1], vs[k]
    return v0 + (v1 - v0) * (t - t0) / (t1 - t0)


class TransferReconciler:
    """Reconciliation state of one transfer (plain state, picklable).

    Args:
        params: Thresholds.
        tolerances: Natural-loss table.
    """

    def __init__(self, params: ReconcileParams, tolerances: ToleranceTable) -> None:
        self.p = params
        self.tol = tolerances
        self.doc: Transfer | None = None
        self.open_ms: int | None = None
        self.close_ms: int | None = None
        self.ops: dict[str, dict[str, Any]] = {}
        self.op_series: dict[str, _Series] = {}
        self.tanks: dict[str, _Series] = {}
        self.watermark = 0
        self.next_boundary: int | None = None
        self.finished = False
        self.window_alerts = 0
        self.detached: set[str] = set()
        #: latest event time each source reported (``meter:ID`` operation records, ``tank:ID`` points)
        self.progress: dict[str, int] = {}
        self.meters_detached: set[str] = set()

    # ------------------------------------------------------------------ inputs
    def on_item(self, item: Transfer | TankPoint | TankDetached | MeterDetached | dict[str, Any]) -> ReconcileOutput:
        """Take a transfer document, a tank point, a tank's or meter's detachment or a meter-operation record."""
        if isinstance(item, Transfer):
            self.doc = item
            t = int(item.ts.timestamp() * 1000)
            if item.event == "close":
                self.close_ms = t
            elif self.open_ms is None:
                self.open_ms = t
                self.next_boundary = t + int(self.p.window_s * 1000)
        elif isinstance(item, TankDetached):
            self.detached.add(item.tank_id)
            t = item.ts_ms
            self._reported(f"tank:{item.tank_id}", t)
        elif isinstance(item, MeterDetached):
            self.meters_detached.add(item.meter_id)
            t = item.ts_ms
            self._reported(f"meter:{item.meter_id}", t)
        elif isinstance(item, TankPoint):
            s = self.tanks.setdefault(item.tank_id, _Series())
            s.add(item.ts_ms, item.gsv_15c_m3, item.mass_air_kg)
            s.per_mm = item.m3_per_mm
            t = item.ts_ms
            self._reported(f"tank:{item.tank_id}", t)
        else:
            op_id = str(item["operation_id"])
            t = int(item["revision"])
            if item.get("meter_id"):
                self._reported(f"meter:{item['meter_id']}", t)
            prev = self.ops.get(op_id)
            if prev is None or int(prev["revision"]) <= t:
                self.ops[op_id] = item
            if item["status"] in ("open", "closed"):
                self.op_series.setdefault(op_id, _Series()).add(
                    _ms(item["ended_at"]) if item.get("ended_at") is not None else t,
                    float(item["gsv_15c_m3"]), float(item["mass_air_kg"]))
        self.watermark = max(self.watermark, t)
        return self._advance()

    def finish(self) -> ReconcileOutput:
        """End of input: evaluate what can be, and write the reconciliation as it stands."""
        out = self._advance(final=True)
        if not self.finished and self.doc is not None:
            out.rows.append(self._row("open", self.watermark))
        return out

    def _reported(self, source: str, t: int) -> None:
        self.progress[source] = max(self.progress.get(source, t), t)

    def low_watermark(self) -> int:
        """Event time every source of the transfer has reported up to (the slowest of them).

        Meter records and tank points come from different workers when a flow runs on several (each meter and
        tank is a key of its own), so one source can be far ahead of another: a window is judged once all of
        the document's meters and (attached) tanks are past it, never on the fastest source's time alone. A
        document listing no meter or tank falls back to the latest event time seen.
        """
        if self.doc is None:
            return self.watermark
        sources = [f"meter:{m}" for m in self.doc.meter_ids]
        sources += [f"tank:{t}" for t in self.doc.tank_ids if t not in self.detached]
        if not sources:
            return self.watermark
        return min(self.progress.get(src, -1) for src in sources)

    # ------------------------------------------------------------------ evaluation
    def _advance(self, final: bool = False) -> ReconcileOutput:
        out = ReconcileOutput()
        if self.doc is None or self.finished or self.next_boundary is None:
            return out
        grace = int(self.p.grace_s * 1000)
        step = int(self.p.window_s * 1000)
        end = self.close_ms if self.close_ms is not None else None
        low = self.low_watermark()
        while (low >= self.next_boundary + grace or final) and (end is None or self.next_boundary <= end):
            if final and self.next_boundary > self.watermark:
                break
            # meter records and tank points travel different paths and may arrive out of step: a window
            # whose data is incomplete waits (up to ten grace periods, then it is skipped as unjudgeable)
            done = self._window(self.next_boundary - step, self.next_boundary, out)
            if not done and not final and low < self.next_boundary + 10 * grace:
                break
            self.next_boundary += step
        if end is not None and (final or self._close_ready(end, grace)):
            while self.next_boundary <= end:  # every tank's points up to the close are in
                self._window(self.next_boundary - step, self.next_boundary, out)
                self.next_boundary += step
            self._close(out)
        return out

    def _close_ready(self, end: int, grace: int) -> bool:
        """Whether the close can be judged.

        Every tank and meter has left the transfer and none of its operations is still running, or every
        source still attached is a grace period past the close (:meth:`low_watermark`).
        """
        doc = self.doc
        tanks_done = all(k in self.detached for k in (doc.tank_ids if doc is not None else ()))
        # a meter that has not seen the close may still have records on their way (another worker)
        meters_done = all(m in self.meters_detached for m in (doc.meter_ids if doc is not None else ()))
        running = any(o["status"] == "open" for o in self.ops.values())
        past = self.low_watermark() >= end + grace
        return (tanks_done and meters_done and not running) or past

    def meter_gsv_at(self, t: int) -> float | None:
        """Σ GSV at 15 °C the transfer's meters delivered up to ``t`` (``None`` if not yet known)."""
        total = 0.0
        for op_id, s in sorted(self.op_series.items()):  # sums in key order: same float on any worker count
            v = s.at(t)
            if v is None:
                if self.ops[op_id]["status"] == "open":
                    return None
                v = s.v[-1]
            total += v
        return total

    def tank_gsv_at(self, t: int) -> float | None:
        """Σ GSV at 15 °C in the transfer's tanks at ``t`` (``None`` when a tank has no point around t)."""
        expected = self.doc.tank_ids if self.doc is not None and self.doc.tank_ids else tuple(self.tanks)
        if not expected:
            return None
        total = 0.0
        for tank_id in expected:
            s = self.tanks.get(tank_id)
            if s is None or not s.t or t < s.t[0]:
                return None
            v = s.at(t)
            if v is None:
                return None
            total += v
        return total

    def _tank_uncertainty(self) -> float:
        return sum(2.0 * self.p.gauge_uncertainty_mm * s.per_mm for _k, s in sorted(self.tanks.items()))

    def _window(self, a: int, b: int, out: ReconcileOutput) -> bool:
        """Judge one window; ``False`` when its data is not all in yet."""
        done_ms = self._delivery_end()
        if done_ms is not None:  # the meters stopped: later tank movements (pump-out) are not this transfer's
            if a >= done_ms:
                return True
            b = min(b, done_ms)
        ma, mb = self.meter_gsv_at(a), self.meter_gsv_at(b)
        ta, tb = self.tank_gsv_at(max(a, self._tanks_start())), self.tank_gsv_at(b)
        if ma is None or mb is None or ta is None or tb is None:
            return False
        meter_d, tank_d = mb - ma, tb - ta
        if abs(meter_d) < self.p.min_window_m3:
            return True
        tol = self.p.system_mpe_pct / 100.0 * abs(meter_d) + self._tank_uncertainty()
        diff = tank_d - meter_d
        out.rows.append(self._row("open", b))
        if abs(diff) > tol:
            self.window_alerts += 1
            out.alerts.append(self._tank_alert(a, b, meter_d, tank_d, tol, "window"))
        return True

    def _delivery_end(self) -> int | None:
        """When the transfer's meters stopped delivering (``None`` while an operation runs or none ran)."""
        ops = [o for o in self.ops.values() if o["status"] in ("open", "closed")]
        if not ops or any(o["status"] == "open" for o in ops):
            return None
        return max(_ms(o["ended_at"]) if o.get("ended_at") is not None else int(o["revision"]) for o in ops)

    def _tank_delta(self) -> tuple[float, float] | None:
        """Σ change of the tanks' GSV and weight in air from their opening to the end of delivery."""
        if not self.tanks or not all(s.t for s in self.tanks.values()):
            return None
        end = self._delivery_end()
        dv = dm = 0.0
        for _k, s in sorted(self.tanks.items()):
            if end is None or end >= s.t[-1]:
                v1, m1 = s.v[-1], s.m[-1]
            else:
                v = s.at(end, before=s.v[0])
                v1 = s.v[0] if v is None else v
                m = _interp(s.t, s.m, end, s.m[0])
                m1 = s.m[0] if m is None else m
            dv += v1 - s.v[0]
            dm += m1 - s.m[0]
        return dv, dm

    def _tanks_start(self) -> int:
        """When every tank of the transfer has its first (opening) point."""
        return max((s.t[0] for s in self.tanks.values() if s.t), default=0)

    def _tank_alert(self, a: int, b: int, meter_d: float, tank_d: float, tol: float, scope: str) -> Alert:
        assert self.doc is not None
        diff = tank_d - meter_d
        pct = 100.0 * diff / meter_d if meter_d else 0.0
        msg = (f"Transfer {self.doc.transfer_id}: shore tanks {', '.join(sorted(self.tanks))} changed by "
               f"{tank_d:.3f} m³ at 15 °C while the meters delivered {meter_d:.3f} m³ "
               f"({diff:+.3f} m³, {pct:+.3f} %), beyond the class {self.p.system_mpe_pct} tolerance of "
               f"±{tol:.3f} m³ — check for a leak, a wrong tank line-up or a meter error.")
        start, end = ts_from_ms(a), ts_from_ms(b)
        return Alert("tank_mismatch", "critical" if scope == "transfer" else "warning", "transfer",
                     self.doc.transfer_id, start, end, msg,
                     {"scope": scope, "meter_gsv_15c_m3": meter_d, "tank_gsv_15c_m3": tank_d, "diff_m3": diff,
                      "diff_pct": pct, "tolerance_m3": tol, "tanks": sorted(self.tanks),
                      "operations": sorted(self.ops)},
                     flow=self.p.flow, status_ts=end, discriminator=scope)

    def _close(self, out: ReconcileOutput) -> None:
        assert self.doc is not None and self.close_ms is not None
        self.finished = True
        end = max(self.watermark, self.close_ms)
        row = self._row("closed", end)
        out.rows.append(row)
        start = ts_from_ms(self.open_ms if self.open_ms is not None else self.close_ms)
        if row["diff_tank_m3"] is not None and row["tank_tolerance_m3"] is not None:
            if abs(row["diff_tank_m3"]) > row["tank_tolerance_m3"]:
                a = self.open_ms if self.open_ms is not None else self.close_ms
                out.alerts.append(self._tank_alert(a, end, row["meter_gsv_15c_m3"],
                                                   row["shore_tank_delta_m3_15c"], row["tank_tolerance_m3"],
                                                   "transfer"))
            meters = sorted({str(o["meter_id"]) for o in self.ops.values() if o["status"] == "closed"})
            out.drift.extend(DriftPoint(m, self.doc.transfer_id, end, float(row["diff_tank_pct"]),
                                        float(row["meter_gsv_15c_m3"])) for m in meters)
        if row["within_tolerance"] == 0:
            out.alerts.append(self._bl_alert(row, start, ts_from_ms(end)))

    def _bl_alert(self, row: dict[str, Any], start: Any, end: Any) -> Alert:
        assert self.doc is not None
        parts = []
        if row["diff_bl_pct"] is not None:
            parts.append(f"meter {row['meter_mass_air_kg']:.0f} kg in air vs B/L {row['bl_quantity_kg_air']:.0f} kg "
                         f"({row['diff_bl_pct']:+.3f} %)")
        if row["diff_declaration_pct"] is not None:
            parts.append(f"vs declaration {row['declaration_quantity_kg']:.0f} kg "
                         f"({row['diff_declaration_pct']:+.3f} %)")
        side = []
        if row["ship_delivered_m3_15c"] is not None:
            side.append(f"ship tanks {row['ship_delivered_m3_15c']:.3f} m³")
        if row["shore_tank_delta_m3_15c"] is not None:
            side.append(f"shore tanks {row['shore_tank_delta_m3_15c']:.3f} m³")
        side.append(f"meters {row['meter_gsv_15c_m3']:.3f} m³ at 15 °C")
        decide = {"ship": "the ship's figures decide (LPG)",
                  "review": "compare with the ship-tank, draft-survey and shore-tank figures and record the "
                            "difference"}.get(row["decisive_figure"], "")
        msg = (f"Transfer {self.doc.transfer_id} ({row['ship_name']}, B/L {row['bl_no']}): "
               f"{'; '.join(parts)} — outside the {row['tolerance_pct']} % natural-loss tolerance "
               f"({row['tolerance_source']}). {'; '.join(side)}. {decide}.")
        details = {k: row[k] for k in (
            "meter_gsv_15c_m3", "meter_mass_air_kg", "bl_quantity_kg_air", "bl_quantity_m3_15c",
            "declaration_quantity_kg", "diff_bl_kg", "diff_bl_pct", "diff_bl_m3_pct", "diff_declaration_pct",
            "tolerance_pct", "tolerance_source", "ship_tank_opening_m3_15c", "ship_tank_closing_m3_15c",
            "ship_delivered_m3_15c", "shore_tank_delta_m3_15c", "diff_tank_pct", "decisive_figure")}
        details["operations"] = sorted(self.ops)
        return Alert("bl_tolerance", "critical", "transfer", self.doc.transfer_id, start, end, msg, details,
                     flow=self.p.flow, status_ts=end)

    # ------------------------------------------------------------------ the record
    def _row(self, status: str, t_ms: int) -> dict[str, Any]:
        assert self.doc is not None
        d = self.doc
        ops = [o for _k, o in sorted(self.ops.items()) if o["status"] in ("open", "closed")]
        gsv = sum(float(o["gsv_15c_m3"]) for o in ops)
        m_air = sum(float(o["mass_air_kg"]) for o in ops)
        m_vac = sum(float(o["mass_vacuum_kg"]) for o in ops)
        group = str(d.get("product_group") or "")
        mode = str(d.get("transport_mode") or "sea")
        tol = self.tol.lookup(str(d.get("tariff_code") or ""), group, mode)
        bl_kg, bl_m3 = _f(d.get("bl_quantity_kg_air")), _f(d.get("bl_quantity_m3_15c"))
        decl = _f(d.get("declaration_quantity_kg"))
        s_open, s_close = _f(d.get("ship_tank_opening_m3_15c")), _f(d.get("ship_tank_closing_m3_15c"))
        ship = s_open - s_close if s_open is not None and s_close is not None else None
        delta = self._tank_delta()
        tank_d, tank_mass = delta if delta is not None else (None, None)
        tank_tol = (self.p.system_mpe_pct / 100.0 * abs(gsv) + self._tank_uncertainty()) if tank_d is not None else None
        diff_bl = m_air - bl_kg if bl_kg else None
        diff_bl_pct = 100.0 * diff_bl / bl_kg if diff_bl is not None and bl_kg else None
        diff_bl_m3_pct = 100.0 * (gsv - bl_m3) / bl_m3 if bl_m3 else None
        diff_decl = m_air - decl if decl else None
        diff_decl_pct = 100.0 * diff_decl / decl if diff_decl is not None and decl else None
        diff_tank = tank_d - gsv if tank_d is not None else None
        diff_tank_pct = 100.0 * diff_tank / gsv if diff_tank is not None and gsv else None
        diff_ship = gsv - ship if ship is not None else None
        checks = [abs(x) <= tol.pct for x in (diff_bl_pct, diff_decl_pct) if x is not None]
        within: int | None = (1 if all(checks) else 0) if checks and status == "closed" else None
        if within is None:
            decisive = ""
        elif within:
            decisive = "meter"
        else:
            decisive = "ship" if group == "lpg" and ship is not None else "review"
        return {
            "transfer_id": d.transfer_id, "ts": ts_from_ms(t_ms), "status": status,
            "ship_name": str(d.get("ship_name", "")), "product": str(d.get("product", "")), "product_group": group,
            "tariff_code": str(d.get("tariff_code") or ""), "transport_mode": mode,
            "meter_ids": list(d.meter_ids), "tank_ids": list(d.tank_ids),
            "meter_gsv_15c_m3": gsv, "meter_mass_air_kg": m_air, "meter_mass_vacuum_kg": m_vac,
            "bl_no": str(d.get("bl_no", "")), "bl_quantity_kg_air": bl_kg, "bl_quantity_m3_15c": bl_m3,
            "declaration_no": str(d.get("declaration_no", "")), "declaration_quantity_kg": decl,
            "ship_tank_opening_m3_15c": s_open, "ship_tank_closing_m3_15c": s_close,
            "ship_delivered_m3_15c": ship, "shore_tank_delta_m3_15c": tank_d,
            "shore_tank_delta_mass_air_kg": tank_mass, "tolerance_pct": tol.pct, "tolerance_source": tol.source,
            "diff_bl_kg": diff_bl, "diff_bl_pct": diff_bl_pct,
            "diff_bl_m3": gsv - bl_m3 if bl_m3 else None, "diff_bl_m3_pct": diff_bl_m3_pct,
            "diff_declaration_kg": diff_decl, "diff_declaration_pct": diff_decl_pct,
            "diff_tank_m3": diff_tank, "diff_tank_pct": diff_tank_pct,
            "diff_ship_m3": diff_ship, "diff_ship_pct": 100.0 * diff_ship / ship if diff_ship is not None and ship
            else None,
            "tank_tolerance_m3": tank_tol, "within_tolerance": within, "decisive_figure": decisive,
            "details": _details(self, t_ms), "revision": t_ms,
        }


def _details(r: TransferReconciler, t_ms: int) -> str:
    import json

    ops = {k: {"meter_id": o["meter_id"], "status": o["status"], "gsv_15c_m3": o["gsv_15c_m3"],
               "mass_air_kg": o["mass_air_kg"]} for k, o in sorted(r.ops.items())}
    tanks = {k: {"opening_gsv_15c_m3": s.v[0], "latest_gsv_15c_m3": s.v[-1], "opening_at": iso_ms(ts_from_ms(s.t[0])),
                 "latest_at": iso_ms(ts_from_ms(s.t[-1]))} for k, s in sorted(r.tanks.items()) if s.t}
    return json.dumps({"operations": ops, "tanks": tanks, "window_alerts": r.window_alerts,
                       "as_of": iso_ms(ts_from_ms(t_ms))}, sort_keys=True)


def _f(v: Any) -> float | None:
    return None if v is None else float(v)


def _ms(v: Any) -> int:
    return int(v.timestamp() * 1000)


class DriftTracker:
    """Persistent meter-vs-tank bias of one meter over its last transfers (M6: suggests recalibration).

    A meter's transfers are reconciled on whichever workers hold them, so their differences arrive in an order
    that depends on the run (workers, processes, batching). The check is therefore made on the transfers in
    event-time order (close time, then transfer id), never in arrival order: the window ending at a transfer
    (it and the ``operations - 1`` before it) is judged once a transfer at least ``lateness_s`` later has
    arrived, or at the end of input. Differences arriving in any order within that lateness raise the same
    alerts; one arriving after its window was judged is late: kept for the windows still to come, the judged
    ones are not revisited, and a ``late_data`` alert records it.

    Args:
        meter_id: The meter.
        operations: Number of consecutive transfers judged together.
        threshold_pct: Mean difference (same sign every time) above which the meter is drifting.
        flow: Flow name on the alerts.
        lateness_s: Event time a transfer's difference may arrive after a later transfer's.
    """

    def __init__(self, meter_id: str, operations: int = 3, threshold_pct: float = 0.15, flow: str = "meters",
                 lateness_s: float = 3600.0) -> None:
        self.meter_id = meter_id
        self.n = operations
        self.threshold = threshold_pct
        self.flow = flow
        self.lateness_ms = int(lateness_s * 1000)
        #: transfers in event-time order: the last judged ones (as many as a window needs) and those not yet judged
        self.points: list[DriftPoint] = []
        #: (ts_ms, transfer_id) of the last transfer whose window was judged
        self.judged: tuple[int, str] | None = None
        self.newest_ms: int | None = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Resume a snapshot, also one taken before transfers were kept in event-time order."""
        state = {"lateness_ms": 3_600_000, "judged": None, "newest_ms": None, **state}
        state["points"] = sorted(state.get("points", []), key=_drift_key)
        if state["judged"] is None and state["points"]:  # an old snapshot: its windows were judged on arrival
            state["judged"] = _drift_key(state["points"][-1])
            state["newest_ms"] = state["points"][-1].ts_ms
        self.__dict__.update(state)

    def on_item(self, p: DriftPoint) -> list[Alert]:
        """Same as :meth:`on_point` (the tracker protocol of the flow)."""
        return self.on_point(p)

    def finish(self) -> list[Alert]:
        """End of input: judge the windows still waiting for later transfers."""
        return self._judge(None)

    def on_point(self, p: DriftPoint) -> list[Alert]:
        """Add a transfer's difference; alerts for the windows it settles (and ``late_data`` if it is late)."""
        if any(q.transfer_id == p.transfer_id for q in self.points):
            return []
        out: list[Alert] = []
        key = _drift_key(p)
        if self.judged is not None and key <= self.judged:
            out.append(self._late(p))
        insort(self.points, p, key=_drift_key)
        self.newest_ms = p.ts_ms if self.newest_ms is None else max(self.newest_ms, p.ts_ms)
        return out + self._judge(self.newest_ms - self.lateness_ms)

    def _judge(self, horizon_ms: int | None) -> list[Alert]:
        """Judge, in event-time order, the windows ending at transfers up to ``horizon_ms`` (``None``: all)."""
        out: list[Alert] = []
        for i, q in enumerate(self.points):
            if self.judged is not None and _drift_key(q) <= self.judged:
                continue
            if horizon_ms is not None and q.ts_ms > horizon_ms:
                break
            self.judged = _drift_key(q)
            if i + 1 >= self.n:
                out.extend(self._window(self.points[i + 1 - self.n:i + 1]))
        # keep what the windows still to judge need: the last ``n - 1`` judged transfers and the rest
        judged = sum(1 for q in self.points if self.judged is not None and _drift_key(q) <= self.judged)
        del self.points[:max(0, judged - (self.n - 1))]
        return out

    def _window(self, points: list[DriftPoint]) -> list[Alert]:
        diffs = [q.diff_pct for q in points]
        mean = sum(diffs) / len(diffs)
        same_sign = all(d > 0 for d in diffs) or all(d < 0 for d in diffs)
        if not same_sign or abs(mean) <= self.threshold:
            return []
        first, last = points[0], points[-1]
        direction = "below" if mean > 0 else "above"
        msg = (f"Meter {self.meter_id} read {direction} the shore tanks on its last {self.n} transfers "
               f"(mean {mean:+.3f} %, each the same sign): suspected drift — have it recalibrated (Art. 5).")
        return [Alert("meter_drift", "warning", "meter", self.meter_id, ts_from_ms(first.ts_ms),
                      ts_from_ms(last.ts_ms), msg,
                      {"transfers": [q.transfer_id for q in points], "diff_pct": diffs, "mean_pct": mean,
                       "threshold_pct": self.threshold}, flow=self.flow, status_ts=ts_from_ms(last.ts_ms))]

    def _late(self, p: DriftPoint) -> Alert:
        assert self.judged is not None
        at, judged = ts_from_ms(p.ts_ms), ts_from_ms(self.judged[0])
        return Alert("late_data", "warning", "meter", self.meter_id, at, max(at, judged),
                     f"Meter {self.meter_id}: the meter-vs-tank difference of transfer {p.transfer_id} "
                     f"(closed {iso_ms(at)}) arrived after the drift check had judged the transfers up to "
                     f"{iso_ms(judged)}; it counts for the later windows only — check the reconciliation's delay.",
                     {"transfer_id": p.transfer_id, "diff_pct": p.diff_pct, "judged_until": iso_ms(judged)},
                     flow=self.flow, status_ts=max(at, judged), discriminator=f"drift:{p.transfer_id}")


def _drift_key(p: DriftPoint) -> tuple[int, str]:
    return p.ts_ms, p.transfer_id
