"""Per-tank state: gauge level → volumes at 15 °C, movement state and the stock at every moment (M2, M12).

From a gauge reading: total observed volume (TOV) from the strapping table at the product level, free
water (FW) from the strapping table at the water level, gross observed volume GOV = TOV − FW, gross
standard volume GSV = GOV × CTL(tank temperature, ρ15) at atmospheric pressure (CPL = 1), mass in vacuum and
weight in air. The tank is ``receiving`` / ``delivering`` / ``idle`` (M2's yellow / navy / green) from the
change of GSV over an event-time window.

While a transfer uses the tank, every reading is also a :class:`~operators.reconciliation.TankPoint` for
that transfer's reconciliation. A tank that starts receiving a transfer's product while it holds product
of another B/L, without a gauge reading taken while it was still idle shortly before (the opening
measurement of Art. 10(3)), raises ``shared_tank_no_opening`` (M11).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from operators.alerts import Alert
from operators.events import DeadLetter, iso_ms, ms_from_ts, ts_from_ms
from operators.meter_events import TankReading, Transfer
from operators.reconciliation import TankDetached, TankPoint
from operators.rows import Rows
from operators.strapping import StrappingError, StrappingTable
from operators.vcf import AIR_BUOYANCY_KGM3, VcfError, correct

RECEIVING, DELIVERING, IDLE = "receiving", "delivering", "idle"

# Tank temperature and density change slowly and the standard rounds both inputs (0.05 °C, 0.1 kg/m³), so
# consecutive gauge readings mostly repeat a correction already computed: memoise the scalar path.
_correct = lru_cache(maxsize=65_536)(correct)


@dataclass(frozen=True)
class TankParams:
    """What the tracker needs to know about its tank."""

    tank_id: str
    strapping: StrappingTable
    reference_height_mm: float
    capacity_m3: float
    product: str
    product_group: str
    density_15c_kgm3: float
    alpha60_per_f: float | None = None
    window_s: float = 300.0
    min_rate_m3h: float = 5.0
    round_inputs: bool = True
    heel_m3: float = 5.0
    opening_max_age_s: float = 3600.0


@dataclass
class TankOutput:
    """What one step of the tracker emits."""

    rows: list[Rows] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    points: list[TankPoint | TankDetached] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


class TankTracker:
    """Stateful logic of one tank; feed it gauge readings and transfers in arrival order.

    Args:
        params: Tank parameters.
        flow: Flow name used on dead letters.
    """

    def __init__(self, params: TankParams, flow: str = "meters") -> None:
        self.p = params
        self.flow = flow
        self.window: deque[tuple[int, float]] = deque()
        self.last_ts_ms: int | None = None
        self.product_group = params.product_group
        self.product = params.product
        self.transfer_id = ""
        self.state = IDLE
        self.bl_no = ""
        self.transfer_bl_no = ""
        self.opening_pending = False
        self.last_idle: tuple[int, float] | None = None
        self.last_gsv: float | None = None

    def on_item(self, item: TankReading | Transfer) -> TankOutput:
        """Dispatch one routed item (a gauge reading or a transfer)."""
        return self.on_reading(item) if isinstance(item, TankReading) else self.on_transfer(item)

    def finish(self) -> TankOutput:
        """End of input: a tank has nothing pending."""
        return TankOutput()

    def on_transfer(self, t: Transfer) -> TankOutput:
        """Follow the product of the transfer that uses this tank."""
        if t.event == "close":
            out = TankOutput()
            if t.transfer_id == self.transfer_id:
                self.transfer_id = ""
                self.bl_no = self.transfer_bl_no
                self.opening_pending = False
                out.points.append(TankDetached(self.p.tank_id, t.transfer_id, ms_from_ts(t.ts)))
            return out
        if t.transfer_id != self.transfer_id:
            self.opening_pending = True
        self.transfer_id = t.transfer_id
        self.transfer_bl_no = str(t.get("bl_no") or "")
        self.product_group = str(t.get("product_group") or self.product_group)
        self.product = str(t.get("product") or self.product)
        return TankOutput()

    def on_reading(self, r: TankReading) -> TankOutput:
        """Compute the inventory for one gauge reading."""
        out = TankOutput()
        p = self.p
        ts_ms = ms_from_ts(r.ts)
        if self.last_ts_ms is not None and ts_ms <= self.last_ts_ms:
            out.dead_letters.append(DeadLetter.of(
                self.flow, r.raw, "late tank reading: ts not after the previous one; kept here, not in the stock",
                r.ts))
            hour = ts_from_ms(ts_ms // 3_600_000 * 3_600_000)
            last = ts_from_ms(self.last_ts_ms)
            out.alerts.append(Alert(
                "late_data", "warning", "tank", self.p.tank_id, hour, max(hour, last),
                f"Tank {self.p.tank_id}: a gauge reading of {iso_ms(r.ts)} arrived after one of {iso_ms(last)}; "
                "it is kept in dead_letters, not in the stock — check the gauge clock and the link.",
                {"late_reading_at": iso_ms(r.ts), "watermark": iso_ms(last)}, status_ts=max(hour, last)))
            return out
        if r.level_mm > min(p.reference_height_mm, p.strapping.max_level_mm):
            out.dead_letters.append(DeadLetter.of(
                self.flow, r.raw,
                f"level_mm {r.level_mm} above the strapping table / reference height of {p.tank_id}", r.ts))
            return out
        try:
            tov = p.strapping.volume_at_level(r.level_mm)
            fw = p.strapping.volume_at_level(r.water_mm) if r.water_mm > 0 else 0.0
        except StrappingError as exc:
            out.dead_letters.append(DeadLetter.of(self.flow, r.raw, str(exc), r.ts))
            return out
        gov = tov - fw
        try:
            if r.density_kgm3 is not None:
                rho15 = _correct(self.product_group, r.density_kgm3, "observed", r.temp_c, 0.0,
                                alpha60_per_f=p.alpha60_per_f, round_inputs=p.round_inputs).density_15c_kgm3
                source = "gauge"
            else:
                rho15, source = p.density_15c_kgm3, "config"
            corr = _correct(self.product_group, rho15, "15c", r.temp_c, 0.0, alpha60_per_f=p.alpha60_per_f,
                           round_inputs=p.round_inputs)
        except VcfError as exc:
            out.dead_letters.append(DeadLetter.of(self.flow, r.raw, f"volume correction: {exc}", r.ts))
            return out
        gsv = gov * corr.ctl
        self.last_ts_ms = ts_ms
        self.state = self._movement(ts_ms, gsv)
        if self.transfer_id:
            if self.opening_pending and self.state == RECEIVING:
                self.opening_pending = False
                out.alerts.extend(self._check_opening(ts_ms, gsv))
            per_mm = self._m3_per_mm(r.level_mm) * corr.ctl
            out.points.append(TankPoint(p.tank_id, self.transfer_id, ts_ms, gsv, gsv * (rho15 - AIR_BUOYANCY_KGM3),
                                        per_mm))
        if self.state == IDLE:
            self.last_idle = (ts_ms, gsv)
        self.last_gsv = gsv
        row: dict[str, Any] = {
            "tank_id": p.tank_id,
            "ts": r.ts,
            "level_mm": r.level_mm,
            "water_mm": r.water_mm,
            "temp_c": r.temp_c,
            "density_obs_kgm3": r.density_kgm3,
            "density_15c_kgm3": rho15,
            "density_source": source,
            "tov_m3": tov,
            "fw_m3": fw,
            "gov_m3": gov,
            "ctl": corr.ctl,
            "gsv_15c_m3": gsv,
            "mass_vacuum_kg": gsv * rho15,
            "mass_air_kg": gsv * (rho15 - AIR_BUOYANCY_KGM3),
            "fill_pct": 100.0 * gov / p.capacity_m3,
            "state": self.state,
            "product": self.product,
            "transfer_id": self.transfer_id,
            "edition": corr.edition,
            "source_position": r.raw.position,
            "capacity_m3": p.capacity_m3,
        }
        out.rows.append(Rows("tank_readings", records=[row]))
        return out

    def _m3_per_mm(self, level_mm: float) -> float:
        """Local cross-section of the tank (m³ per mm of level) from the strapping table."""
        lo, hi = max(level_mm - 5.0, 0.0), min(level_mm + 5.0, self.p.strapping.max_level_mm)
        if hi <= lo:
            return 0.0
        return (self.p.strapping.volume_at_level(hi) - self.p.strapping.volume_at_level(lo)) / (hi - lo)

    def _check_opening(self, ts_ms: int, gsv: float) -> list[Alert]:
        """M11: receiving began; was the tank's content fixed by an idle reading shortly before?"""
        max_age = int(self.p.opening_max_age_s * 1000)
        opening_ok = self.last_idle is not None and ts_ms - self.last_idle[0] <= max_age
        held = self.last_idle[1] if self.last_idle is not None else (self.last_gsv if self.last_gsv is not None
                                                                     else gsv)
        other_bl = not self.bl_no or self.bl_no != self.transfer_bl_no
        if opening_ok or held <= self.p.heel_m3 or not other_bl:
            return []
        at = ts_from_ms(ts_ms)
        since = ts_from_ms(self.last_idle[0]) if self.last_idle is not None else at
        msg = (f"Tank {self.p.tank_id} started receiving transfer {self.transfer_id} while holding about "
               f"{held:.1f} m³ at 15 °C of another B/L ({self.bl_no or 'unknown'}) with no opening measurement "
               f"before the discharge (Art. 10(3)): gauge the tank and record its content now.")
        return [Alert("shared_tank_no_opening", "critical", "tank", self.p.tank_id, since, at, msg,
                      {"transfer_id": self.transfer_id, "held_gsv_15c_m3": held, "tank_bl_no": self.bl_no,
                       "transfer_bl_no": self.transfer_bl_no,
                       "last_idle_reading_at": iso_ms(since) if self.last_idle is not None else None},
                      status_ts=at, discriminator=self.transfer_id)]

    def _movement(self, ts_ms: int, gsv: float) -> str:
        window_ms = int(self.p.window_s * 1000)
        self.window.append((ts_ms, gsv))
        while len(self.window) > 2 and ts_ms - self.window[1][0] >= window_ms:
            self.window.popleft()
        t0, v0 = self.window[0]
        if ts_ms - t0 <= 0:
            return self.state
        rate_m3h = (gsv - v0) / ((ts_ms - t0) / 3_600_000.0)
        if rate_m3h > self.p.min_rate_m3h:
            return RECEIVING
        if rate_m3h < -self.p.min_rate_m3h:
            return DELIVERING
        return IDLE
