"""Verified gross mass dataflow (SOLAS VGM, V1–V10): wiring only.

raw events ──decode──▶ weighings ──by vehicle plate──▶ VehicleWeighbridge (Method 1 pairing, Art. 20, 22)
│                          │ vgm_weighings, violations, measurements / notices per container
│          declarations ───┴──by container──▶ ContainerVgm (Art. 7, 8, 9, 12, 24)
│                                 │ vgm_declarations, vgm_status, violations, certificate requests
│                                 └──one key──▶ CertificateRegistry (number, fee, `vgm` audit chain)
│                                                  vgm_certificates, audit_log
│          violations ─▶ vgm_violations, alerts (table and topic)
└─ invalid ────────────▶ dead_letters (table, and topic with Kafka)
"""

from __future__ import annotations

from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow, Stream

from flows.config import Config
from flows.io import FlowIO
from flows.meters import dead_letter_rows
from operators.alerts import Alert, alert_message, alert_record
from operators.events import DeadLetter, dead_letter_message
from operators.rows import Rows
from operators.vgm_certificate import CertificateRegistry, CertificateRequest
from operators.vgm_container import ContainerResult, ContainerVgm
from operators.vgm_events import VGM_STREAMS, Declaration, VgmDecoder, Weighing
from operators.vgm_policy import VgmPolicy
from operators.vgm_violations import Violation
from operators.vgm_weighing import ContainerNotice, Measurement, VehicleWeighbridge, WeighingResult

FLOW = "vgm"
STREAMS: tuple[str, ...] = VGM_STREAMS
#: The single key of the certificate registry: one sequence space and one audit chain.
REGISTRY_KEY = "vgm"

ContainerInput = Declaration | Measurement | ContainerNotice
Out = Rows | Violation | Alert | Measurement | ContainerNotice | CertificateRequest


def vehicle_step(policy: VgmPolicy) -> Any:
    """The ``stateful_map`` mapper of the per-vehicle Method 1 state."""

    def mapper(state: VehicleWeighbridge | None, w: Weighing) -> tuple[VehicleWeighbridge, list[Out]]:
        state = state or VehicleWeighbridge(w.vehicle_plate)
        res: WeighingResult = state.on_weighing(w, policy)
        out: list[Out] = [Rows.from_dicts("vgm_weighings", [r]) for r in res.rows]
        out.extend(res.violations)
        out.extend(res.measurements)
        out.extend(res.notices)
        return state, out

    return mapper


def container_step(policy: VgmPolicy) -> Any:
    """The ``stateful_map`` mapper of the per-container checks."""

    def mapper(state: ContainerVgm | None, item: tuple[str, ContainerInput]) -> tuple[ContainerVgm, list[Out]]:
        container, event = item
        state = state or ContainerVgm(container)
        res: ContainerResult
        if isinstance(event, Declaration):
            res = state.on_declaration(event, policy)
        elif isinstance(event, Measurement):
            res = state.on_measurement(event, policy)
        else:
            res = state.on_notice(event, policy)
        out: list[Out] = [Rows.from_dicts("vgm_declarations", [r]) for r in res.declaration_rows]
        out.extend(Rows.from_dicts("vgm_status", [r]) for r in res.status_rows)
        out.extend(res.violations)
        out.extend(res.resolved)
        out.extend(res.requests)
        return state, out

    return mapper


def registry_step(policy: VgmPolicy) -> Any:
    """The ``stateful_map`` mapper numbering certificates and appending them to the audit chain."""

    def mapper(state: CertificateRegistry | None, req: CertificateRequest) -> tuple[CertificateRegistry, list[Rows]]:
        state = state or CertificateRegistry()
        issued = state.issue(req, policy)
        if issued is None:
            return state, []
        cert, audit = issued
        return state, [Rows.from_dicts("vgm_certificates", [cert]), Rows.from_dicts("audit_log", [audit])]

    return mapper


def build_flow(cfg: Config, io: FlowIO) -> Dataflow:
    """Build the VGM dataflow.

    Args:
        cfg: Site configuration (``[vgm]`` section).
        io: Input, warehouse sink and (with a broker) output topics.

    Returns:
        The dataflow.
    """
    policy = cfg.vgm
    flow = Dataflow(FLOW)
    events, errors = io.inputs(flow)
    decoded = op.flat_map_batch("decode", events, VgmDecoder(FLOW, policy).decode_batch)
    decode_dead = op.filter_map("decode_dead", decoded, lambda e: e if isinstance(e, DeadLetter) else None)
    weighings = op.filter_map("weighings", decoded, lambda e: e if isinstance(e, Weighing) else None)
    declarations = op.filter_map("declarations", decoded, lambda e: e if isinstance(e, Declaration) else None)

    by_plate = op.key_on("by_plate", weighings, lambda w: w.vehicle_plate)
    vehicle_out = op.flat_map("vehicle_items", op.key_rm("vehicle_rm", op.stateful_map(
        "vehicle_state", by_plate, vehicle_step(policy))), lambda xs: xs)

    to_container: Stream[tuple[str, ContainerInput]] = op.merge(
        "container_inputs",
        op.map("decl_tag", declarations, lambda d: (d.container_number, d)),
        op.filter_map("weighbridge_tag", vehicle_out,
                      lambda x: (x.container_number, x) if isinstance(x, Measurement | ContainerNotice) else None))
    by_container = op.key_on("by_container", to_container, lambda kv: kv[0])
    container_out = op.flat_map("container_items", op.key_rm("container_rm", op.stateful_map(
        "container_state", by_container, container_step(policy))), lambda xs: xs)

    requests = op.filter_map("requests", container_out, lambda x: x if isinstance(x, CertificateRequest) else None)
    cert_rows = op.flat_map("certificate_rows", op.key_rm("registry_rm", op.stateful_map(
        "certificate_registry", op.key_on("one_registry", requests, lambda _r: REGISTRY_KEY),
        registry_step(policy))), lambda xs: xs)

    items = op.merge("items", vehicle_out, container_out)
    violations = op.filter_map("violations", items, lambda x: x if isinstance(x, Violation) else None)
    alerts = op.merge("alerts", op.map("raise", violations, lambda v: v.alert()),
                      op.filter_map("resolved", items, lambda x: x if isinstance(x, Alert) else None))
    dead = op.merge("dead_letters", decode_dead, *([errors] if errors is not None else []))
    if io.publish is not None:
        io.publish("dead_letters", op.map("dead_letter_msg", dead, dead_letter_message))
        io.publish("alerts", op.map("alert_msg", alerts, alert_message))
    rows = op.merge(
        "rows",
        op.filter_map("table_rows", items, lambda x: x if isinstance(x, Rows) else None),
        cert_rows,
        op.map("violation_rows", violations, lambda v: Rows.from_dicts("vgm_violations", [v.row()])),
        op.map("alert_rows", alerts, lambda a: Rows.from_dicts("alerts", [alert_record(a)])),
        op.map("dead_letter_rows", dead, dead_letter_rows),
    )
    op.output("warehouse", rows, io.sink)
    return flow
