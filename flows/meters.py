"""Bulk-fuel meters and shore tanks dataflow (M1–M12): wiring only.

raw events ──decode──▶ meter:ID ──MeterTracker──▶ meter_readings, meter_operations, alerts (M6, M7, M8)
│          tank:ID  ──TankTracker───▶ tank_readings (→ tank_inventory by materialized view), alerts (M11)
│          transfers / lab density ──▶ transfers, lab_densities
│   operations + tank points + documents ──▶ transfer:ID ──TransferReconciler──▶ reconciliations, alerts (M9)
│                                   per-transfer differences ──▶ drift:METER ──DriftTracker──▶ alerts (M6)
└─ invalid ─────────────────────────▶ dead_letters (table, and topic with Kafka)
Alerts go to the ``alerts`` table and, with Kafka, the alerts topic.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterable
from typing import Any, cast

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.operators import KeyedStream, StatefulLogic

from flows.audit import audit_step
from flows.config import Config
from flows.io import FlowIO
from operators.alerts import Alert, alert_message, alert_record
from operators.events import METER_STREAMS, DeadLetter, dead_letter_message
from operators.meter_events import (
    KEY_DEAD_LETTERS,
    KEY_TRANSFERS,
    LabDensity,
    SiteDecoder,
    Transfer,
)
from operators.meter_health import HealthParams
from operators.meter_operations import MeterOutput, MeterParams, MeterTracker
from operators.reconciliation import (
    DriftPoint,
    DriftTracker,
    MeterDetached,
    ReconcileOutput,
    ReconcileParams,
    TankDetached,
    TankPoint,
    TransferReconciler,
)
from operators.rows import Rows, dead_letter_rows
from operators.strapping import StrappingTable
from operators.tank_inventory import TankOutput, TankParams, TankTracker
from operators.tolerances import ToleranceTable

FLOW = "meters"
STREAMS: tuple[str, ...] = METER_STREAMS
Item = Rows | DeadLetter | Alert | TankPoint | TankDetached | MeterDetached | DriftPoint | dict[str, Any]


def meter_params(cfg: Config) -> dict[str, MeterParams]:
    """Tracker parameters of every configured meter."""
    o, c = cfg.operations, cfg.checks
    return {
        m.meter_id: MeterParams(
            meter_id=m.meter_id, serial=m.serial, product=m.product, product_group=m.product_group,
            has_densitometer=m.has_densitometer, default_density_15c_kgm3=m.default_density_15c_kgm3,
            alpha60_per_f=m.alpha60_per_f, start_flow_m3h=o.start_flow_m3h, stop_flow_m3h=o.stop_flow_m3h,
            stop_after_s=o.stop_after_s, min_volume_m3=o.min_volume_m3, progress_every_s=o.progress_every_s,
            max_reset_jump_m3=o.max_reset_jump_m3, round_inputs=cfg.vcf_round_inputs,
            health=HealthParams(
                m.meter_id, m.serial, gap_s=c.gap_s, stuck_s=c.stuck_s, qmax_m3h=m.qmax_m3h,
                jump_factor=c.jump_factor, min_flow_m3h=o.start_flow_m3h,
                calibration_certificate=m.calibration_certificate, calibration_expires=m.calibration_expires,
                calibration_warn_days=c.calibration_warn_days, flow=FLOW))
        for m in cfg.meters
    }


def tank_params(cfg: Config) -> dict[str, TankParams]:
    """Tracker parameters of every configured tank (strapping tables loaded)."""
    return {
        t.tank_id: TankParams(
            tank_id=t.tank_id, strapping=StrappingTable.from_csv(t.strapping_table),
            reference_height_mm=t.reference_height_mm, capacity_m3=t.capacity_m3, product=t.product,
            product_group=t.product_group, density_15c_kgm3=t.density_15c_kgm3, alpha60_per_f=t.alpha60_per_f,
            window_s=cfg.tank_state.window_s, min_rate_m3h=cfg.tank_state.min_rate_m3h,
            round_inputs=cfg.vcf_round_inputs, heel_m3=cfg.checks.heel_m3,
            opening_max_age_s=cfg.checks.opening_max_age_s)
        for t in cfg.tanks
    }


def reconcile_params(cfg: Config) -> ReconcileParams:
    """Reconciliation thresholds from the configuration."""
    c = cfg.checks
    return ReconcileParams(
        window_s=c.reconcile_window_s, grace_s=c.reconcile_grace_s,
        system_mpe_pct=float(cfg.tolerances.get("system_mpe_pct", 0.3)),
        gauge_uncertainty_mm=c.tank_gauge_uncertainty_mm, min_window_m3=c.min_window_m3, flow=FLOW)


def _emit(out: MeterOutput | TankOutput | ReconcileOutput | list[Alert]) -> list[Item]:
    items: list[Item] = []
    if isinstance(out, list):
        return list(out)
    if isinstance(out, MeterOutput):
        if out.readings is not None:
            items.append(out.readings)
        if out.operations:
            items.append(Rows.from_dicts("meter_operations", out.operations))
            items.extend(rec for rec in out.operations if rec["transfer_id"])  # → reconciliation
        items.extend(out.detached)  # → reconciliation
        items.extend(out.dead_letters)
    elif isinstance(out, TankOutput):
        items.extend(out.rows)
        items.extend(out.points)
        items.extend(out.dead_letters)
    else:
        if out.rows:
            items.append(Rows.from_dicts("reconciliations", out.rows))
        items.extend(out.drift)
    items.extend(out.alerts)
    return items


Tracker = MeterTracker | TankTracker | TransferReconciler | DriftTracker


class _TrackerLogic(StatefulLogic[tuple[str, Any], Item, Tracker]):
    """Bytewax glue around a meter or tank tracker; the tracker is built from the key of its first item."""

    def __init__(self, resume: Tracker | None, make: Callable[[str], Tracker]) -> None:
        self.tracker = resume
        self.make = make

    def on_item(self, value: tuple[str, Any]) -> tuple[Iterable[Item], bool]:
        key, item = value
        if self.tracker is None:
            self.tracker = self.make(key)
        return _emit(self.tracker.on_item(item)), StatefulLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[Item], bool]:
        if self.tracker is None:
            return [], StatefulLogic.RETAIN
        return _emit(self.tracker.finish()), StatefulLogic.RETAIN

    def snapshot(self) -> Tracker:
        assert self.tracker is not None
        return copy.deepcopy(self.tracker)


def _transfer_key(x: Item) -> tuple[str, Any] | None:
    """Route a tracker output to its transfer's reconciliation (operation records and tank points)."""
    if isinstance(x, TankPoint | TankDetached | MeterDetached):
        return _tag(f"transfer:{x.transfer_id}", x)
    if isinstance(x, dict):
        return _tag(f"transfer:{x['transfer_id']}", x)
    return None


def _tag(key: str, value: Any) -> tuple[str, tuple[str, Any]]:
    """A keyed item whose value carries its key (the logic builder is not told its key)."""
    return key, (key, value)


def transfer_row(t: Transfer) -> Rows:
    """The ``transfers`` table row of a transfer document event."""
    f = t.fields

    def num(name: str) -> float | None:
        v = f.get(name)
        return None if v is None else float(v)

    return Rows.from_dicts("transfers", [{
        "transfer_id": t.transfer_id, "event": t.event, "ts": t.ts, "direction": t.direction,
        "ship_name": str(f.get("ship_name", "")), "product": str(f.get("product", "")),
        "product_group": str(f.get("product_group", "")), "meter_ids": list(t.meter_ids),
        "tank_ids": list(t.tank_ids), "bl_no": str(f.get("bl_no", "")), "bl_date": str(f.get("bl_date", "")),
        "bl_quantity_kg_air": num("bl_quantity_kg_air"), "bl_quantity_m3_15c": num("bl_quantity_m3_15c"),
        "summary_declaration_no": str(f.get("summary_declaration_no", "")),
        "summary_declaration_date": str(f.get("summary_declaration_date", "")),
        "declaration_no": str(f.get("declaration_no", "")), "declaration_date": str(f.get("declaration_date", "")),
        "declaration_quantity_kg": num("declaration_quantity_kg"),
        "ship_tank_opening_m3_15c": num("ship_tank_opening_m3_15c"),
        "ship_tank_closing_m3_15c": num("ship_tank_closing_m3_15c"),
        "document": json.dumps(dict(f), sort_keys=True, ensure_ascii=False), "source_position": "",
    }])


def lab_density_row(lab: LabDensity) -> Rows:
    """The ``lab_densities`` table row of an officer-entered density."""
    return Rows.from_dicts("lab_densities", [{
        "transfer_id": lab.transfer_id, "ts": lab.ts, "officer_id": lab.officer_id,
        "density_15c_kgm3": lab.density_15c_kgm3, "source": lab.source, "note": lab.note,
        "source_position": lab.position,
    }])


def build_flow(cfg: Config, io: FlowIO) -> Dataflow:
    """Build the meters dataflow.

    Args:
        cfg: Site configuration.
        io: Input, warehouse sink and (with a broker) output topics.

    Returns:
        The dataflow.
    """
    flow = Dataflow(FLOW)
    events, errors = io.inputs(flow)
    # events dated more than a day after they are decoded are impossible: dead-lettered, not applied
    decoder = SiteDecoder(FLOW, (m.meter_id for m in cfg.meters), (t.tank_id for t in cfg.tanks), ticks=True,
                          clock=time.time)
    keyed = cast(KeyedStream[Any], op.flat_map_batch("decode", events, decoder.decode_batch))

    m_params, t_params = meter_params(cfg), tank_params(cfg)
    # The logic builder is not told its key, so each value travels with its entity key.
    tagged = op.map("tag_entity", keyed, lambda kv: (kv[0], kv))

    meters = op.filter("meters", tagged, lambda kv: kv[0].startswith("meter:"))
    meter_items = op.stateful(
        "meter_state", meters,
        lambda resume: _TrackerLogic(resume, lambda key: MeterTracker(m_params[key[len("meter:"):]], FLOW)))
    tanks = op.filter("tanks", tagged, lambda kv: kv[0].startswith("tank:"))
    tank_items = op.stateful(
        "tank_state", tanks,
        lambda resume: _TrackerLogic(resume, lambda key: TankTracker(t_params[key[len("tank:"):]], FLOW)))

    transfers = op.filter_map("transfers", keyed,
                              lambda kv: transfer_row(kv[1]) if kv[0] == KEY_TRANSFERS else None)
    labs = op.filter_map("lab_densities", keyed,
                         lambda kv: lab_density_row(kv[1]) if kv[0] == "lab_density" else None)
    decode_dead = op.filter_map("decode_dead", keyed,
                                lambda kv: kv[1] if kv[0] == KEY_DEAD_LETTERS else None)
    state_items = op.merge("state_items", op.key_rm("meter_out", meter_items), op.key_rm("tank_out", tank_items))

    # reconciliation per transfer: its documents, its operations' records and its tanks' gauge points
    docs = op.filter_map("transfer_docs", keyed,
                         lambda kv: _tag(f"transfer:{kv[1].transfer_id}", kv[1]) if kv[0] == KEY_TRANSFERS else None)
    facts = op.filter_map("transfer_facts", state_items, _transfer_key)
    rec_params, tol = reconcile_params(cfg), ToleranceTable.from_config(cfg.tolerances)
    rec_items = op.key_rm("reconcile_out", op.stateful(
        "reconcile", op.merge("reconcile_in", docs, facts),
        lambda resume: _TrackerLogic(resume, lambda key: TransferReconciler(rec_params, tol))))
    drift_in = op.filter_map("drift_in", rec_items,
                             lambda x: _tag(x.meter_id, x) if isinstance(x, DriftPoint) else None)
    c = cfg.checks
    drift_items = op.key_rm("drift_out", op.stateful(
        "meter_drift", drift_in,
        lambda resume: _TrackerLogic(resume, lambda key: DriftTracker(
            key, c.drift_operations, c.drift_threshold_pct, FLOW, c.drift_lateness_s))))
    items = op.merge("items", state_items, rec_items, drift_items)

    state_rows = op.filter_map("state_rows", items, lambda x: x if isinstance(x, Rows) else None)
    state_dead = op.filter_map("state_dead", items, lambda x: x if isinstance(x, DeadLetter) else None)
    alerts = op.filter_map("alerts", items, lambda x: x if isinstance(x, Alert) else None)
    dead_streams = [decode_dead, state_dead] + ([errors] if errors is not None else [])
    dead = op.merge("dead_letters", *dead_streams)
    if io.publish is not None:
        io.publish("dead_letters", op.map("dead_letter_msg", dead, dead_letter_message))
        io.publish("alerts", op.map("alert_msg", alerts, alert_message))
    alert_rows = op.map("alert_rows", alerts, lambda a: Rows.from_dicts("alerts", [alert_record(a)]))
    rows = op.merge("rows", state_rows, transfers, labs, alert_rows,
                    op.map("dead_letter_rows", dead, dead_letter_rows))
    rows = op.merge("audited_rows", rows, audit_step("audit", rows, io.audit_chain(FLOW)))
    op.output("warehouse", rows, io.sink)
    return flow
