"""Per-meter state: readings corrected to 15 °C, transfer operations detected and totalled (M1–M4).

Quantities follow the API MPMS 12.2 / 21.2 practice: the totalizer increment of each interval (gross
observed volume, GOV) is corrected with that interval's CTL·CPL into gross standard volume at 15 °C (GSV)
and into mass, and the corrected increments are summed. Temperature, pressure and density of an operation
are flow-weighted averages (weights = GOV increments). The integrated flow rate is kept as a cross-check.

Operation detection is a hysteresis on flow rate in event time: idle → open when flow reaches
``start_flow_m3h``; open → closed when flow stays below ``stop_flow_m3h`` for ``stop_after_s``. An
operation's opening index is the totalizer at the last still reading before movement began, so no
volume of the pump ramp is lost; its closing index is the totalizer when the stop was confirmed, so
``closing - opening`` equals the operation's GOV (barring totalizer resets, which are flagged).
Movement that never reaches the start threshold is recorded as a ``creep`` record (M8, M10 evidence).

Checks riding on the same pass (each an :class:`~operators.alerts.Alert`): meter failures and calibration
expiry (:mod:`operators.meter_health`), movement while no transfer is open (``flow_without_operation``,
unless it starts inside a phase-change window the firm reported — then the record's status is
``phase_change`` and it is excluded from the cumulative totals, M8), and readings behind the meter's
event time (``late_data``: dead-lettered with the reason, never silently dropped).

An officer's density at 15 °C (M1) replaces the substituted density (configured default or an earlier
entry) of every reading of the transfer's operations that had no measured density, and the operation is
recomputed exactly: readings are binned by their rounded temperature and pressure — the only inputs of the
correction besides density — so the new CTPL is applied per bin. The previous density and quantities stay
on the record (``*_previous_*`` columns) next to the new ones.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from operators.alerts import Alert
from operators.events import DeadLetter, iso_ms, ms_from_ts, ts_from_ms
from operators.meter_events import LabDensity, MeterChunk, Tick, Transfer
from operators.meter_health import SIGNALS, HealthParams, MeterHealth, day_of
from operators.reconciliation import MeterDetached
from operators.rows import Rows
from operators.vcf import AIR_BUOYANCY_KGM3, BatchCorrection, VcfError, correct_batch

# Column order of the per-reading contribution matrix summed over operations.
_GOV, _GSV, _MASS, _TW, _PW, _RHO_OBS_W, _GOV_OBS, _FLOW_INT, _COUNT, _GOV_NO_DENSITY = range(10)
_NCOLS = 10


@dataclass(frozen=True)
class MeterParams:
    """What the tracker needs to know about its meter and the site's detection rules."""

    meter_id: str
    serial: str
    product: str
    product_group: str
    has_densitometer: bool = True
    default_density_15c_kgm3: float | None = None
    alpha60_per_f: float | None = None
    start_flow_m3h: float = 30.0
    stop_flow_m3h: float = 10.0
    stop_after_s: float = 120.0
    min_volume_m3: float = 0.5
    progress_every_s: float = 60.0
    max_reset_jump_m3: float = 50.0
    round_inputs: bool = True
    health: HealthParams | None = None
    keep_closed: int = 8


@dataclass
class _Op:
    """Accumulators of one operation (or of creep while idle)."""

    sums: NDArray[np.float64] = field(default_factory=lambda: np.zeros(_NCOLS))
    first_move_ms: int | None = None
    started_ms: int | None = None
    opening_index: float = 0.0
    quiet_since_ms: int | None = None
    flags: set[str] = field(default_factory=set)
    density_sources: set[str] = field(default_factory=set)
    editions: set[str] = field(default_factory=set)
    transfer: Transfer | None = None
    op_id: str | None = None
    op_id_ms: int | None = None
    phase_change: bool = False
    # substituted-density readings: (temp, pressure) bin → GOV, and the GSV/mass they contributed
    subst_bins: dict[tuple[float, float], float] = field(default_factory=dict)
    subst_gsv: float = 0.0
    subst_mass: float = 0.0
    subst_rho15: float | None = None
    previous: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)


@dataclass
class MeterOutput:
    """What one step of the tracker emits."""

    readings: Rows | None = None
    operations: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    #: transfers whose close reached this meter (for their reconciliation)
    detached: list[MeterDetached] = field(default_factory=list)


class MeterTracker:
    """Stateful logic of one meter; feed it chunks, transfers and lab densities in arrival order.

    The tracker is plain Python state (picklable) so the flow can snapshot it for recovery.

    Args:
        params: Meter and detection parameters.
        flow: Flow name used on dead letters.
    """

    def __init__(self, params: MeterParams, flow: str = "meters") -> None:
        self.p = params
        self.flow = flow
        self.last_ts_ms: int | None = None
        self.last_total: float | None = None
        self.last_flow = 0.0
        self.active = False
        self.op = _Op()
        self.anchor_total: float | None = None
        self.transfer: Transfer | None = None
        self.lab: dict[str, LabDensity] = {}
        self.cum = np.zeros(_NCOLS)
        self.last_progress_ms: int | None = None
        self.health = MeterHealth(params.health or HealthParams(params.meter_id, params.serial, flow=flow))
        self.last_day: Any = None
        self.phase_windows: list[tuple[int, int]] = []
        self.closed: deque[_Op] = deque(maxlen=params.keep_closed)
        self.late: dict[str, Any] = {}

    def on_item(self, item: MeterChunk | Transfer | LabDensity | Tick) -> MeterOutput:
        """Dispatch one routed item (a chunk of readings, a transfer, a lab density or a time tick)."""
        if isinstance(item, MeterChunk):
            return self.on_chunk(item)
        if isinstance(item, Transfer):
            return self.on_transfer(item)
        if isinstance(item, Tick):
            return MeterOutput(alerts=self.health.on_tick(item.ts_ms, self._op_id() if self.active else ""))
        return self.on_lab_density(item)

    # ----------------------------------------------------------------- documents
    def on_transfer(self, t: Transfer) -> MeterOutput:
        """Attach (or detach, on ``close``) the transfer documents to this meter's operations."""
        for w in t.phase_change_windows:
            if w not in self.phase_windows:
                self.phase_windows.append(w)
        if self.last_ts_ms is not None:  # windows that ended a day before the meter's time are done
            self.phase_windows = [w for w in self.phase_windows if w[1] >= self.last_ts_ms - 86_400_000]
        if t.event == "close":
            if self.transfer is not None and self.transfer.transfer_id == t.transfer_id:
                self.transfer = None
            return MeterOutput(detached=[MeterDetached(self.p.meter_id, t.transfer_id, ms_from_ts(t.ts))])
        self.transfer = t
        if self.active or self.op.first_move_ms is not None:
            self.op.transfer = t
        return MeterOutput()

    def on_lab_density(self, lab: LabDensity) -> MeterOutput:
        """Apply an officer-entered density at 15 °C to the transfer's operations and recompute them.

        It replaces the substituted density of readings without a measured density, from now on and
        retroactively for the transfer's operations this tracker still holds (the running one and the
        last ``keep_closed`` closed ones); each recomputed operation is emitted as a new revision.
        """
        self.lab[lab.transfer_id] = lab
        out = MeterOutput()
        ops = [o for o in self.closed if o.record.get("transfer_id") == lab.transfer_id]
        running = self.op if self.active and self.op.transfer is not None else None
        if running is not None and running.transfer is not None and running.transfer.transfer_id == lab.transfer_id:
            ops.append(running)
        t_ms = int(lab.ts.timestamp() * 1000)
        for o in ops:
            if not o.subst_bins or o.subst_rho15 == lab.density_15c_kgm3:
                continue
            self._recompute(o, lab)
            if o is running:
                continue
            rec = dict(o.record)
            s_ = o.sums
            gsv, mass = float(s_[_GSV]), float(s_[_MASS])
            rec.update(gsv_15c_m3=gsv, mass_vacuum_kg=mass, mass_air_kg=mass - AIR_BUOYANCY_KGM3 * gsv,
                       density_15c_kgm3=_ratio(mass, gsv), density_source=",".join(sorted(o.density_sources)),
                       flags=sorted(set(rec["flags"]) | {"lab_density_applied"}), **o.previous,
                       revision=max(int(rec["revision"]) + 1, t_ms))
            o.record = rec
            out.operations.append(rec)
        return out

    def _recompute(self, o: _Op, lab: LabDensity) -> None:
        """Re-correct an operation's substituted-density readings with the officer's density."""
        keys = list(o.subst_bins)
        gov = np.array([o.subst_bins[k] for k in keys])
        temps = np.array([k[0] for k in keys])
        press = np.array([k[1] for k in keys])
        rho = np.full(len(keys), lab.density_15c_kgm3)
        corr = correct_batch(self._product_group(), rho, np.zeros(len(keys), dtype=bool), temps, press,
                             alpha60_per_f=self.p.alpha60_per_f, round_inputs=self.p.round_inputs)
        gsv_new = float(np.nansum(gov * corr.ctpl))
        mass_new = gsv_new * lab.density_15c_kgm3
        if not o.previous:
            gsv0, mass0 = float(o.sums[_GSV]), float(o.sums[_MASS])
            o.previous = {"density_previous_15c_kgm3": _ratio(mass0, gsv0), "gsv_previous_15c_m3": gsv0,
                          "mass_air_previous_kg": mass0 - AIR_BUOYANCY_KGM3 * gsv0,
                          "density_previous_source": ",".join(sorted(o.density_sources))}
        d_gsv, d_mass = gsv_new - o.subst_gsv, mass_new - o.subst_mass
        o.sums[_GSV] += d_gsv
        o.sums[_MASS] += d_mass
        if o is not self.op:
            self.cum[_GSV] += d_gsv
            self.cum[_MASS] += d_mass
        o.subst_gsv, o.subst_mass, o.subst_rho15 = gsv_new, mass_new, lab.density_15c_kgm3
        o.density_sources = {s for s in o.density_sources if s == "meter"} | {f"lab:{lab.source}:{lab.officer_id}"}
        o.flags.add("lab_density_applied")

    # ----------------------------------------------------------------- readings
    def on_chunk(self, chunk: MeterChunk) -> MeterOutput:
        """Correct a chunk of readings, advance operation detection and emit rows."""
        out = MeterOutput()
        chunk = self._drop_out_of_order(chunk, out)
        n = len(chunk)
        if n == 0:
            return out
        p = self.p
        ts = chunk.ts_ms
        total = chunk.gov_total_m3
        flow = chunk.flow_m3h

        prev_ts = np.empty(n, dtype=np.int64)
        prev_total = np.empty(n)
        prev_flow = np.empty(n)
        prev_ts[0] = ts[0] if self.last_ts_ms is None else self.last_ts_ms
        prev_total[0] = total[0] if self.last_total is None else self.last_total
        prev_flow[0] = flow[0] if self.last_ts_ms is None else self.last_flow
        prev_ts[1:], prev_total[1:], prev_flow[1:] = ts[:-1], total[:-1], flow[:-1]
        dt_h = (ts - prev_ts) / 3_600_000.0
        flow_int = 0.5 * (flow + prev_flow) * dt_h
        delta = total - prev_total
        # A totalizer that goes back (reset/rollover) or jumps further than flow can explain is not volume:
        # the interval's volume comes from flow integration instead, and the reading is flagged.
        bad = (delta < 0) | (delta > np.maximum(p.max_reset_jump_m3, 3.0 * flow_int + 1.0))
        delta_source = np.where(bad, "flow_integration", "totalizer")
        bad_flags = [""] * n  # per reading: its flag goes to the operation the reading belongs to
        if bad.any():
            delta = np.where(bad, flow_int, delta)
            for i in np.flatnonzero(bad).tolist():
                bad_flags[i] = "totalizer_reset" if total[i] < prev_total[i] else "totalizer_jump"

        # density basis per row: observed at line conditions, else officer/default value at 15 °C
        observed = ~np.isnan(chunk.density_kgm3)
        rho_in = chunk.density_kgm3.copy()
        src = np.where(observed, "meter", "")
        if not observed.all():
            rho15, source = self._substitute_density()
            if rho15 is not None:
                rho_in[~observed] = rho15
                src = np.where(observed, "meter", source)
            else:
                src = np.where(observed, "meter", "missing")
        group = self._product_group()
        try:
            corr = correct_batch(group, rho_in, observed, chunk.temp_c, chunk.pressure_kpa,
                                 alpha60_per_f=p.alpha60_per_f, round_inputs=p.round_inputs)
        except VcfError as exc:  # a setup problem (group, α60): the readings are kept, uncorrected, flagged
            corr = _uncorrected(n, f"{group}: {exc}")
        ctpl = corr.ctpl
        rho15_arr = corr.density_15c_kgm3
        gsv_d = delta * ctpl
        mass_d = gsv_d * rho15_arr
        ok = ~np.isnan(gsv_d)

        contrib = np.zeros((n, _NCOLS))
        contrib[:, _GOV] = delta
        contrib[:, _GSV] = np.where(ok, gsv_d, 0.0)
        contrib[:, _MASS] = np.where(ok, mass_d, 0.0)
        contrib[:, _TW] = chunk.temp_c * delta
        contrib[:, _PW] = chunk.pressure_kpa * delta
        contrib[:, _RHO_OBS_W] = np.where(observed, chunk.density_kgm3 * delta, 0.0)
        contrib[:, _GOV_OBS] = np.where(observed, delta, 0.0)
        contrib[:, _FLOW_INT] = flow_int
        contrib[:, _COUNT] = 1.0
        contrib[:, _GOV_NO_DENSITY] = np.where(ok, 0.0, delta)
        subst = ~observed & ok
        attribute = self._attribution(bad_flags, corr, src.tolist(), subst, chunk, delta, gsv_d, mass_d, rho_in)
        op_ids = self._detect(ts, total, flow, delta, contrib, out, attribute)
        signals = {"gov_total_m3": total, "flow_m3h": flow, "temp_c": chunk.temp_c,
                   "pressure_kpa": chunk.pressure_kpa, "density_kgm3": chunk.density_kgm3}
        assert tuple(signals) == SIGNALS
        out.alerts.extend(self.health.on_readings(ts, signals, chunk.status, bad, op_ids))
        # the calibration state is judged at the first reading of each new day, whatever the chunk boundaries
        first_of_day = np.flatnonzero(np.diff(ts // 86_400_000, prepend=-1)).tolist()
        for i in first_of_day:
            day = day_of(int(ts[i]))
            if day != self.last_day:
                self.last_day = day
                out.alerts.extend(self.health.on_day(day, int(ts[i])))

        self.last_ts_ms = int(ts[-1])
        self.last_total = float(total[-1])
        self.last_flow = float(flow[-1])
        out.readings = Rows("meter_readings", {
            "meter_id": [p.meter_id] * n,
            "ts": ts.astype("datetime64[ms]"),
            "gov_total_m3": total,
            "flow_m3h": flow,
            "temp_c": chunk.temp_c,
            "pressure_kpa": chunk.pressure_kpa,
            "density_obs_kgm3": chunk.density_kgm3,
            "density_15c_kgm3": rho15_arr,
            "density_source": src.tolist(),
            "ctl": corr.ctl,
            "cpl": corr.cpl,
            "ctpl": ctpl,
            "delta_gov_m3": delta,
            "delta_gsv_15c_m3": gsv_d,
            "delta_mass_vacuum_kg": mass_d,
            "delta_source": delta_source.tolist(),
            "status": chunk.status,
            "operation_id": op_ids,
            "source_position": chunk.positions,
        })
        return out

    def _attribution(self, bad_flags: list[str], corr: BatchCorrection, sources: list[str],
                     subst: NDArray[np.bool_], chunk: MeterChunk, delta: NDArray[np.float64],
                     gsv_d: NDArray[np.float64], mass_d: NDArray[np.float64],
                     rho_in: NDArray[np.float64]) -> Callable[[_Op, int, int], None]:
        """What readings ``lo:hi`` of the chunk tell their operation besides their sums.

        Flags (totalizer reset/jump, correction errors), density sources, the correction edition, and the GOV
        corrected with a substituted density per (rounded temperature, pressure) bin: given to the operation each
        reading belongs to (:meth:`_detect` calls it per run of readings), so a chunk spanning an operation
        boundary gives each operation its own readings' — the same however the readings were chunked.
        """
        idx = np.flatnonzero(subst)
        keys: list[tuple[float, float]] = []
        if len(idx):
            t_bin = np.round(chunk.temp_c[idx] / 0.05) * 0.05 if self.p.round_inputs else chunk.temp_c[idx]
            p_bin = np.round(chunk.pressure_kpa[idx] / 5.0) * 5.0 if self.p.round_inputs else chunk.pressure_kpa[idx]
            keys = [(float(tb), float(pb)) for tb, pb in zip(np.round(t_bin, 2).tolist(), np.round(p_bin, 1).tolist(),
                                                              strict=True)]
        idx_l = idx.tolist()
        d_l, g_l, m_l, r_l = (delta[idx].tolist(), gsv_d[idx].tolist(), mass_d[idx].tolist(),
                              rho_in[idx].tolist())
        errors = [f"correction: {e}" if e else "" for e in corr.error]

        def attribute(o: _Op, lo: int, hi: int) -> None:
            if hi <= lo:
                return
            o.flags.update(f for f in {*bad_flags[lo:hi], *errors[lo:hi]} if f)
            o.editions.add(corr.edition)
            o.density_sources.update(x for x in set(sources[lo:hi]) if x)
            # one addition per reading, in reading order: the same bits however the readings were chunked
            for k in range(bisect_left(idx_l, lo), bisect_left(idx_l, hi)):
                o.subst_bins[keys[k]] = o.subst_bins.get(keys[k], 0.0) + d_l[k]
                if not math.isnan(g_l[k]):
                    o.subst_gsv += g_l[k]
                if not math.isnan(m_l[k]):
                    o.subst_mass += m_l[k]
                o.subst_rho15 = r_l[k]

        return attribute

    def finish(self) -> MeterOutput:
        """End of input: emit the operation still in progress (it stays ``open``)."""
        out = MeterOutput()
        if self.active and self.last_ts_ms is not None:
            out.operations.append(self._record("open", self.last_ts_ms, None))
        return out

    # ----------------------------------------------------------------- internals
    def _drop_out_of_order(self, chunk: MeterChunk, out: MeterOutput) -> MeterChunk:
        ts = chunk.ts_ms
        prior = np.maximum.accumulate(np.concatenate(([self.last_ts_ms or np.iinfo(np.int64).min], ts)))[:-1]
        keep = ts > prior
        if keep.all():
            return chunk
        late = np.flatnonzero(~keep)
        for i in late:
            out.dead_letters.append(DeadLetter.of(
                self.flow, chunk.raws[i],
                f"late reading: ts not after the meter's previous reading "
                f"({ts_from_ms(int(prior[i])).isoformat()}); kept here, excluded from the totals",
                ts_from_ms(int(ts[i]))))
        out.alerts.append(self._late_alert(ts[late], int(prior[late].max())))
        idx = np.flatnonzero(keep)
        return MeterChunk(chunk.meter_id, ts[idx], chunk.gov_total_m3[idx], chunk.flow_m3h[idx],
                          chunk.temp_c[idx], chunk.pressure_kpa[idx], chunk.density_kgm3[idx],
                          [chunk.status[i] for i in idx], [chunk.positions[i] for i in idx],
                          [chunk.raws[i] for i in idx])

    def _late_alert(self, late_ts: NDArray[np.int64], watermark_ms: int) -> Alert:
        """One ``late_data`` alert per meter and hour of the late readings, counting them."""
        hour_ms = int(late_ts.min()) // 3_600_000 * 3_600_000
        key = str(hour_ms)
        st = self.late.setdefault(key, {"count": 0, "first": int(late_ts.min())})
        st["count"] += int(late_ts.size)
        st["first"] = min(st["first"], int(late_ts.min()))
        if len(self.late) > 48:
            self.late.pop(min(self.late, key=int))
        start = ts_from_ms(hour_ms)
        end = ts_from_ms(max(watermark_ms, hour_ms))
        msg = (f"Meter {self.p.meter_id}: {st['count']} reading(s) arrived behind the meter's event time "
               f"(earliest {iso_ms(ts_from_ms(st['first']))}); they are kept in dead_letters with the reason and "
               "are not in the totals — check the transmitter clock and the link.")
        return Alert("late_data", "warning", "meter", self.p.meter_id, start, end, msg,
                     {"late_readings": st["count"], "earliest": iso_ms(ts_from_ms(st["first"])),
                      "watermark": iso_ms(ts_from_ms(watermark_ms))}, flow=self.flow, status_ts=end)

    def _substitute_density(self) -> tuple[float | None, str]:
        t = self.transfer
        if t is not None and t.transfer_id in self.lab:
            lab = self.lab[t.transfer_id]
            return lab.density_15c_kgm3, f"lab:{lab.source}:{lab.officer_id}"
        if self.p.default_density_15c_kgm3 is not None:
            return self.p.default_density_15c_kgm3, "config_default"
        return None, "missing"

    def _product_group(self) -> str:
        if self.transfer is not None and self.transfer.get("product_group"):
            return str(self.transfer.get("product_group"))
        return self.p.product_group

    def _detect(self, ts: NDArray[np.int64], total: NDArray[np.float64], flow: NDArray[np.float64],
                delta: NDArray[np.float64], contrib: NDArray[np.float64], out: MeterOutput,
                attribute: Callable[[_Op, int, int], None]) -> list[str]:
        """Run the hysteresis over the chunk; fold contributions into operations; label readings.

        ``attribute(op, lo, hi)`` gives readings ``lo:hi`` (all of them, idle ones included) to ``op`` before
        the operation is recorded or replaced, so what a record holds depends on its readings alone.
        """
        p = self.p
        stop_after_ms = int(p.stop_after_s * 1000)
        progress_ms = int(p.progress_every_s * 1000)
        labels: list[str] = [""] * len(ts)
        seg = 0  # first chunk row not yet folded into self.op
        given = 0  # first chunk row not yet attributed to an operation
        ts_l, flow_l, moving_l = ts.tolist(), flow.tolist(), (delta > 0).tolist()
        total_l = total.tolist()
        op = self.op
        op_id = self._op_id() if self.active else ""
        for i, (t, f, moving) in enumerate(zip(ts_l, flow_l, moving_l, strict=True)):
            if not self.active:
                if not moving:
                    if op.first_move_ms is None:
                        self.anchor_total = total_l[i]
                        seg = i + 1
                        continue
                    # creep in progress: it ends only once the totalizer has been still for stop_after_s
                    labels[i] = self._op_id()  # its sums take this reading
                    if op.quiet_since_ms is None:
                        op.quiet_since_ms = t
                    elif t - op.quiet_since_ms >= stop_after_ms:
                        op.sums = _fold(op.sums, contrib[seg:i + 1])
                        seg = i + 1
                        attribute(op, given, i + 1)
                        given = i + 1
                        self._emit_creep(out, t)
                        op = self.op
                        self.anchor_total = total_l[i]
                    continue
                op.quiet_since_ms = None
                if op.first_move_ms is None:
                    op.first_move_ms = t
                    op.opening_index = self.anchor_total if self.anchor_total is not None else total_l[i]
                    op.transfer = self.transfer
                if f >= p.start_flow_m3h:
                    self.active = True
                    op.started_ms = op.first_move_ms
                    self.last_progress_ms = t
                    op_id = self._op_id()
                    if op.transfer is None:  # its alert gives the volume so far: every reading up to this one
                        op.sums = _fold(op.sums, contrib[seg:i + 1])
                        seg = i + 1
                        self._no_transfer(out, op, t)
                # a reading of the operation (or creep) that began at the first move: labelled as it comes, never
                # afterwards, so a reading's label does not depend on the chunk it arrived in
                labels[i] = self._op_id()
                continue
            labels[i] = op_id
            if f < p.stop_flow_m3h:
                if op.quiet_since_ms is None:
                    op.quiet_since_ms = t
                elif t - op.quiet_since_ms >= stop_after_ms:
                    op.sums = _fold(op.sums, contrib[seg:i + 1])
                    seg = i + 1
                    attribute(op, given, i + 1)
                    given = i + 1
                    op.record = self._record("phase_change" if op.phase_change else "closed", t, total_l[i])
                    out.operations.append(op.record)
                    if not op.phase_change:
                        self.cum += op.sums
                        self.closed.append(op)
                    self.active = False
                    self.op = op = _Op()
                    self.anchor_total = total_l[i]
                    continue
            else:
                op.quiet_since_ms = None
            if self.last_progress_ms is not None and t - self.last_progress_ms >= progress_ms:
                op.sums = _fold(op.sums, contrib[seg:i + 1])
                seg = i + 1
                attribute(op, given, i + 1)
                given = i + 1
                self.last_progress_ms = t
                out.operations.append(self._record("open", t, total_l[i]))
        op.sums = _fold(op.sums, contrib[seg:])
        attribute(op, given, len(ts))
        return labels

    def _emit_creep(self, out: MeterOutput, t_ms: int) -> None:
        op = self.op
        op.started_ms = op.first_move_ms
        if op.transfer is None and float(op.sums[_GOV]) >= self.p.min_volume_m3:
            self._no_transfer(out, op, t_ms)
        rec = self._record("phase_change" if op.phase_change else "creep", t_ms, self.last_total_of(op))
        out.operations.append(rec)
        if not op.phase_change:
            self.cum += op.sums
        self.op = _Op()

    def _no_transfer(self, out: MeterOutput, op: _Op, t_ms: int) -> None:
        """Movement with no open transfer: a reported phase change (M8) or a ``flow_without_operation``."""
        start_ms = op.first_move_ms if op.first_move_ms is not None else t_ms
        if any(a <= start_ms <= b for a, b in self.phase_windows):
            op.phase_change = True
            return
        start = ts_from_ms(start_ms)
        end = ts_from_ms(max(t_ms, start_ms))
        gov = float(op.sums[_GOV])
        msg = (f"Meter {self.p.meter_id}: product is moving (operation {self._op_id()}) while no transfer is open "
               "and no phase change was reported — stop it or open the transfer documents (Art. 8).")
        out.alerts.append(Alert("flow_without_operation", "critical", "meter", self.p.meter_id, start, end, msg,
                                {"operation_id": self._op_id(), "gov_m3_so_far": gov,
                                 "opening_index_m3": op.opening_index}, flow=self.flow, status_ts=end))

    def last_total_of(self, op: _Op) -> float:
        """Closing index implied by an accumulator (opening index + GOV)."""
        return op.opening_index + float(op.sums[_GOV])

    def _op_id(self) -> str:
        op = self.op
        if op.op_id is None or op.op_id_ms != op.first_move_ms:
            start = op.first_move_ms if op.first_move_ms is not None else 0
            op.op_id, op.op_id_ms = f"{self.p.meter_id}-{ts_from_ms(start):%Y%m%dT%H%M%S}Z", op.first_move_ms
        return op.op_id

    def _record(self, status: str, t_ms: int, closing_index: float | None) -> dict[str, Any]:
        op = self.op
        s = op.sums
        gov = float(s[_GOV])
        gsv = float(s[_GSV])
        mass = float(s[_MASS])
        cum = self.cum if status == "phase_change" else self.cum + s  # phase change: not in the totals (M8)
        t = op.transfer or self.transfer
        tf: dict[str, Any] = dict(t.fields) if t is not None else {}
        flags = set(op.flags)
        if s[_GOV_NO_DENSITY] > 0:
            flags.add("uncorrected_volume")
        if status == "closed" and gov < self.p.min_volume_m3:
            flags.add("below_min_volume")
        started = op.started_ms if op.started_ms is not None else (op.first_move_ms or t_ms)
        ended: datetime | None = None
        if status in ("closed", "creep"):
            ended = ts_from_ms(op.quiet_since_ms if op.quiet_since_ms is not None else t_ms)
        return {
            "operation_id": self._op_id(),
            "transfer_id": str(tf.get("transfer_id", "")),
            "meter_id": self.p.meter_id,
            "meter_serial": self.p.serial,
            "ship_name": str(tf.get("ship_name", "")),
            "product": str(tf.get("product", self.p.product)),
            "product_group": self._product_group(),
            "direction": t.direction if t is not None else "",
            "started_at": ts_from_ms(started),
            "ended_at": ended,
            "opening_index_m3": op.opening_index,
            "closing_index_m3": closing_index if closing_index is not None else op.opening_index + gov,
            "gov_m3": gov,
            "gsv_15c_m3": gsv,
            "mass_vacuum_kg": mass,
            "mass_air_kg": mass - AIR_BUOYANCY_KGM3 * gsv,
            "avg_temp_c": _ratio(s[_TW], gov),
            "avg_pressure_kpa": _ratio(s[_PW], gov),
            "avg_density_obs_kgm3": _ratio(s[_RHO_OBS_W], s[_GOV_OBS]),
            "density_15c_kgm3": _ratio(mass, gsv),
            "density_source": ",".join(sorted(op.density_sources)),
            "flow_integrated_gov_m3": float(s[_FLOW_INT]),
            "reading_count": int(s[_COUNT]),
            "bl_no": str(tf.get("bl_no", "")),
            "bl_date": str(tf.get("bl_date", "")),
            "bl_quantity_kg_air": _opt(tf.get("bl_quantity_kg_air")),
            "summary_declaration_no": str(tf.get("summary_declaration_no", "")),
            "summary_declaration_date": str(tf.get("summary_declaration_date", "")),
            "declaration_no": str(tf.get("declaration_no", "")),
            "declaration_date": str(tf.get("declaration_date", "")),
            "edition": "; ".join(sorted(op.editions)),
            "status": status,
            "flags": sorted(flags),
            "cumulative_gov_m3": float(cum[_GOV]),
            "cumulative_gsv_15c_m3": float(cum[_GSV]),
            "cumulative_mass_vacuum_kg": float(cum[_MASS]),
            "cumulative_mass_air_kg": float(cum[_MASS] - AIR_BUOYANCY_KGM3 * cum[_GSV]),
            "revision": t_ms,
            "density_previous_15c_kgm3": op.previous.get("density_previous_15c_kgm3"),
            "density_previous_source": str(op.previous.get("density_previous_source", "")),
            "gsv_previous_15c_m3": op.previous.get("gsv_previous_15c_m3"),
            "mass_air_previous_kg": op.previous.get("mass_air_previous_kg"),
        }


def _fold(acc: NDArray[np.float64], rows: NDArray[np.float64]) -> NDArray[np.float64]:
    """``acc`` plus ``rows`` added one row after another.

    Sequential addition (``np.add.accumulate``, never pairwise summation or differences of a chunk's
    running sum) makes an operation's totals the same bits whatever sizes the readings arrived in:
    a replay, a Kafka run with its own batching and a restart from a snapshot agree exactly.

    Args:
        acc: Running totals, one value per column.
        rows: Per-reading contributions, shape (n, columns).

    Returns:
        The new running totals (a new array).
    """
    if len(rows) == 0:
        return acc
    out: NDArray[np.float64] = np.add.accumulate(np.vstack([acc[None, :], rows]), axis=0)[-1]
    return out


def _uncorrected(n: int, reason: str) -> BatchCorrection:
    nan = np.full(n, np.nan)
    return BatchCorrection(nan, nan, nan, nan, nan, nan, nan, nan, [reason] * n, "none")


def _ratio(num: float | np.floating[Any], den: float | np.floating[Any]) -> float | None:
    return float(num) / float(den) if den > 0 else None


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)

