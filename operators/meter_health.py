"""Meter failure detection (M7) and calibration expiry (M6), in event time.

A failure is an *episode* with a cause and a start; it raises one ``meter_failure`` alert, updated (same
id) while the episode lasts, whose evidence records the last good totalizer index and its time (Art. 7:
"the meter reading at that moment is recorded"). Causes:

- ``gap``: no reading for longer than ``gap_s`` — seen when the next reading arrives or when the site's
  event time (a tick from the other streams) passes the meter's last reading by ``gap_s``;
- ``fault`` / ``power_loss``: the meter reports that status;
- ``stuck``: a signal (totalizer while flowing, flow, temperature, pressure, density) repeats exactly the
  same value for ``stuck_s`` — real transmitters always wander in their last digit;
- ``jump``: a flow above what the meter can pass (``qmax_m3h`` × ``jump_factor``) or a totalizer step
  flow cannot explain (reset, rollover, jump).

During an operation every failure is ``critical`` and its message says the transfer must stop; outside
an operation it is a ``warning``. Everything is vectorised over a chunk; Python only runs per episode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from operators.alerts import Alert, Severity
from operators.events import iso_ms, ts_from_ms

SIGNALS = ("gov_total_m3", "flow_m3h", "temp_c", "pressure_kpa", "density_kgm3")


@dataclass(frozen=True)
class HealthParams:
    """Failure and calibration thresholds of one meter.

    Attributes:
        meter_id: The meter.
        serial: Its serial number (for messages).
        gap_s: Longest silence accepted between two readings.
        stuck_s: A signal repeating the same value this long is stuck.
        qmax_m3h: Maximum flow rate of the meter (``None``: no flow-range check).
        jump_factor: A flow above ``qmax_m3h`` × this is impossible.
        min_flow_m3h: Totalizer standing still while flow is above this is a stuck totalizer.
        calibration_certificate: Certificate number.
        calibration_expires: Last valid day of the calibration certificate.
        calibration_warn_days: Warn this many days before expiry.
        flow: Flow name on the alerts.
    """

    meter_id: str
    serial: str = ""
    gap_s: float = 30.0
    stuck_s: float = 300.0
    qmax_m3h: float | None = None
    jump_factor: float = 1.5
    min_flow_m3h: float = 30.0
    calibration_certificate: str = ""
    calibration_expires: date | None = None
    calibration_warn_days: int = 30
    flow: str = "meters"


@dataclass
class _Episode:
    cause: str
    start_ms: int
    last_good_ms: int | None
    last_good_index: float | None
    operation_id: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Run:
    """Current run of identical values of one signal."""

    value: float = float("nan")
    start_ms: int | None = None


class MeterHealth:
    """Failure episodes and calibration state of one meter (plain state, picklable).

    Args:
        params: Thresholds.
    """

    def __init__(self, params: HealthParams) -> None:
        self.p = params
        self.episodes: dict[str, _Episode] = {}
        self.runs = {s: _Run() for s in SIGNALS}
        self.last_ts_ms: int | None = None
        self.last_good_ms: int | None = None
        self.last_good_index: float | None = None
        self.last_op_id = ""  # operation label of the latest reading
        self.calibration_state = ""
        self._run_starts: dict[str, NDArray[np.int64]] = {}

    # ------------------------------------------------------------------ inputs
    def on_tick(self, now_ms: int, operation_id: str) -> list[Alert]:
        """The site's event time advanced to ``now_ms`` (other streams); detects a silent meter."""
        gap_ms = int(self.p.gap_s * 1000)
        if self.last_ts_ms is None or now_ms - self.last_ts_ms <= gap_ms:
            return []
        if "gap" in self.episodes:
            return []  # already raised; updated when the readings resume
        # as of the moment the silence passed the limit, in the operation of the last reading: the same alert
        # whenever the site's time happens to be seen (ticks come once per input batch)
        ep = self.episodes["gap"] = _Episode("gap", self.last_ts_ms, self.last_good_ms, self.last_good_index,
                                             getattr(self, "last_op_id", operation_id))
        ep.detail["silent_s"] = self.p.gap_s
        return [self._alert(ep, self.last_ts_ms + gap_ms)]

    def on_readings(self, ts: NDArray[np.int64], signals: dict[str, NDArray[np.float64]], status: list[str],
                    bad_delta: NDArray[np.bool_], op_ids: list[str]) -> list[Alert]:
        """Check one chunk of readings (already in time order).

        Args:
            ts: Event times, epoch ms.
            signals: ``SIGNALS`` name → values (density NaN when not measured).
            status: Reported status per reading.
            bad_delta: Totalizer steps flow cannot explain (reset, rollover, jump).
            op_ids: Operation id per reading (empty outside operations).

        Returns:
            Alerts raised or updated by this chunk.
        """
        n = len(ts)
        if n == 0:
            return []
        alerts: list[Alert] = []
        active = np.fromiter((bool(o) for o in op_ids), dtype=bool, count=n)
        status_arr = np.asarray(status)
        ok = status_arr == "ok"
        prev_ts = np.concatenate(([self.last_ts_ms if self.last_ts_ms is not None else ts[0]], ts[:-1]))
        gaps = (ts - prev_ts) > self.p.gap_s * 1000
        flow = signals["flow_m3h"]
        jump = bad_delta.copy()
        if self.p.qmax_m3h is not None:
            jump |= flow > self.p.qmax_m3h * self.p.jump_factor
        stuck = self._stuck_mask(ts, signals, active)
        good = ok & ~jump & ~stuck
        after_bad = np.logical_or.accumulate(~ok | stuck) | self._any_open()
        interesting = np.flatnonzero(gaps | ~ok | jump | stuck | (good & after_bad))
        good_idx = np.flatnonzero(good)
        # index of the last good reading strictly before each reading (-1: none in this chunk)
        last_good_before = np.concatenate(([-1], np.maximum.accumulate(np.where(good, np.arange(n), -1))[:-1]))
        totals = signals["gov_total_m3"]
        for i in interesting.tolist():
            t = int(ts[i])
            g = int(last_good_before[i])
            if g >= 0:
                self.last_good_ms, self.last_good_index = int(ts[g]), float(totals[g])
            if gaps[i]:  # a gap belongs to the operation of the reading before it (as when a tick saw it)
                before = op_ids[i - 1] if i > 0 else getattr(self, "last_op_id", op_ids[i])
                alerts.extend(self._gap_ended(int(prev_ts[i]), t, before))
            if not ok[i]:
                a = self._continue(str(status_arr[i]), t, op_ids[i], {"status": str(status_arr[i])})
                if a is not None:
                    alerts.append(a)
            if jump[i]:
                detail = {"flow_m3h": float(flow[i]), "qmax_m3h": self.p.qmax_m3h,
                          "gov_total_m3": float(signals["gov_total_m3"][i]),
                          "totalizer_step": bool(bad_delta[i])}
                alerts.append(self._once("jump", t, op_ids[i], detail))
            if stuck[i]:
                names = [s for s in SIGNALS if self._stuck_at(s, i, ts, signals)]
                since = min(int(self._run_starts[s][i]) for s in names) if names else t
                a = self._continue("stuck", t, op_ids[i], {"signals": names}, since)
                if a is not None:
                    alerts.append(a)
            if good[i]:
                alerts.extend(self._recover(t, ok_cause=("fault", "power_loss", "stuck")))
                self.last_good_ms, self.last_good_index = t, float(signals["gov_total_m3"][i])
        if good_idx.size:
            j = int(good_idx[-1])
            self.last_good_ms, self.last_good_index = int(ts[j]), float(signals["gov_total_m3"][j])
        self.last_ts_ms = int(ts[-1])
        self.last_op_id = op_ids[-1]
        return alerts

    def on_day(self, day: date, at_ms: int) -> list[Alert]:
        """Calibration certificate state on an event-time day; an alert when the state worsens."""
        exp = self.p.calibration_expires
        if exp is None:
            return []
        days_left = (exp - day).days
        state = "expired" if days_left < 0 else ("expiring" if days_left <= self.p.calibration_warn_days else "valid")
        if state == self.calibration_state or state == "valid":
            self.calibration_state = state
            return []
        self.calibration_state = state
        severity: Severity = "critical" if state == "expired" else "warning"
        at = ts_from_ms(at_ms)
        cert = self.p.calibration_certificate or "(no number)"
        msg = (f"Calibration certificate {cert} of meter {self.p.meter_id} expired on {exp.isoformat()}: "
               "its measurements are not valid for customs until it is recalibrated (Art. 5)."
               if state == "expired" else
               f"Calibration certificate {cert} of meter {self.p.meter_id} expires on {exp.isoformat()} "
               f"({days_left} days): renew it in time (Art. 5).")
        return [Alert("calibration_expiry", severity, "meter", self.p.meter_id, at, at, msg,
                      {"certificate": cert, "expires": exp.isoformat(), "days_left": days_left, "state": state},
                      flow=self.p.flow, status_ts=at, discriminator=f"{state}:{exp.isoformat()}")]

    # ------------------------------------------------------------------ internals
    def _any_open(self) -> bool:
        return any(c in self.episodes for c in ("fault", "power_loss", "stuck"))

    def _stuck_mask(self, ts: NDArray[np.int64], signals: dict[str, NDArray[np.float64]],
                    active: NDArray[np.bool_]) -> NDArray[np.bool_]:
        stuck = np.zeros(len(ts), dtype=bool)
        limit = self.p.stuck_s * 1000
        self._run_starts = {}
        for name in SIGNALS:
            x = signals[name]
            run = self.runs[name]
            prev = np.concatenate(([run.value], x[:-1]))
            same = (x == prev)
            changed = ~same
            if run.start_ms is None:
                changed[0] = True
            starts = np.where(changed, ts, np.iinfo(np.int64).min)
            if not changed[0]:
                starts[0] = run.start_ms if run.start_ms is not None else ts[0]
            starts = np.maximum.accumulate(starts)
            self._run_starts[name] = starts
            run.value, run.start_ms = float(x[-1]), int(starts[-1])
            valid = ~np.isnan(x)
            if name == "gov_total_m3":
                valid &= signals["flow_m3h"] >= self.p.min_flow_m3h
            stuck |= valid & active & ((ts - starts) >= limit)
        return stuck

    def _stuck_at(self, name: str, i: int, ts: NDArray[np.int64], signals: dict[str, NDArray[np.float64]]) -> bool:
        x = signals[name]
        if np.isnan(x[i]) or (name == "gov_total_m3" and signals["flow_m3h"][i] < self.p.min_flow_m3h):
            return False
        return bool(ts[i] - self._run_starts[name][i] >= self.p.stuck_s * 1000)

    def _gap_ended(self, last_ms: int, resumed_ms: int, op_id: str) -> list[Alert]:
        ep = self.episodes.pop("gap", None)
        if ep is None:
            ep = _Episode("gap", last_ms, self.last_good_ms, self.last_good_index, op_id)
        ep.detail["silent_s"] = (resumed_ms - last_ms) / 1000.0
        ep.detail["resumed_at"] = iso_ms(ts_from_ms(resumed_ms))
        return [self._alert(ep, resumed_ms)]

    def _continue(self, cause: str, t: int, op_id: str, detail: dict[str, Any],
                  since: int | None = None) -> Alert | None:
        """Open an episode (an alert now) or extend it silently; the alert is updated when it ends."""
        ep = self.episodes.get(cause)
        if ep is None:
            ep = self.episodes[cause] = _Episode(cause, t if since is None else since, self.last_good_ms,
                                                 self.last_good_index, op_id, detail)
            return self._alert(ep, t)
        ep.operation_id = ep.operation_id or op_id
        ep.detail.update(detail)
        ep.detail["last_seen_at"] = iso_ms(ts_from_ms(t))
        return None

    def _once(self, cause: str, t: int, op_id: str, detail: dict[str, Any]) -> Alert:
        return self._alert(_Episode(cause, t, self.last_good_ms, self.last_good_index, op_id, detail), t)

    def _recover(self, t: int, ok_cause: tuple[str, ...]) -> list[Alert]:
        out = []
        for cause in ok_cause:
            ep = self.episodes.pop(cause, None)
            if ep is not None:
                ep.detail["recovered_at"] = iso_ms(ts_from_ms(t))
                last_seen = ep.detail.get("last_seen_at")
                end_ms = t if last_seen is None else max(ep.start_ms, t - 1)
                out.append(self._alert(ep, end_ms))
        return out

    def _alert(self, ep: _Episode, now_ms: int) -> Alert:
        p = self.p
        active = bool(ep.operation_id)
        severity: Severity = "critical" if active else "warning"
        start, end = ts_from_ms(ep.start_ms), ts_from_ms(max(now_ms, ep.start_ms))
        last_good = (f"last good index {ep.last_good_index:.3f} m³ at {iso_ms(ts_from_ms(ep.last_good_ms))}"
                     if ep.last_good_ms is not None and ep.last_good_index is not None else "no good reading yet")
        what = {"gap": f"no readings for {ep.detail.get('silent_s', 0):.0f} s",
                "fault": "the meter reports a fault", "power_loss": "the meter reports a power loss",
                "stuck": f"stuck value ({', '.join(ep.detail.get('signals', [])) or 'signal'})",
                "jump": ("impossible totalizer step (reset, rollover or jump)" if ep.detail.get("totalizer_step")
                         else f"impossible flow {ep.detail.get('flow_m3h', 0):.0f} m³/h (above the meter's range)")
                }[ep.cause]
        if active:
            msg = (f"Meter {p.meter_id} ({p.serial}) failed during operation {ep.operation_id}: {what}. Stop the "
                   f"transfer (Art. 7); {last_good}; the final quantity must come from meter and tank measurements.")
        else:
            msg = f"Meter {p.meter_id} ({p.serial}): {what} while idle; {last_good}."
        details = {"cause": ep.cause, "operation_id": ep.operation_id, "last_good_index_m3": ep.last_good_index,
                   "last_good_at": iso_ms(ts_from_ms(ep.last_good_ms)) if ep.last_good_ms is not None else None,
                   **ep.detail}
        return Alert("meter_failure", severity, "meter", p.meter_id, start, end, msg, details, flow=p.flow,
                     status_ts=end, discriminator=ep.cause)


def day_of(ms: int) -> date:
    """UTC calendar day of an epoch-ms instant."""
    d: datetime = ts_from_ms(ms)
    return d.date()
