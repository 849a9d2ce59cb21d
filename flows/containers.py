"""Container and port tracking dataflow (G7, G10; circular 2017/3 A.1–A.6, B.3): wiring only.

raw events ──decode──▶ container_events (every accepted event, one batch of rows per input batch)
│          container:NO ──ContainerTracker──▶ container_state, alerts, exit status (answer changes)
│          discharge ──DischargeReconciler (vessel calls, ticks)──▶ discharge_reconciliation, alerts
│          clock ──StorageClock (storage periods, exits, ticks)──▶ alerts; Expire ──▶ container:NO (drop state)
│          exit_notices ──check_exit_notice──▶ alerts
│          declaration:NO ──DeclarationBalance (release, exits on several vehicles)──▶ alerts, exit status
└─ invalid ──────────────────────────────────▶ dead_letters (table, and topic with Kafka)
Alerts go to the ``alerts`` table and, with Kafka, the alerts topic. The exit status (may each container leave,
each declaration's balance; :mod:`operators.exit_status`) goes to ``containers.exit_status``: the gate flow's
input for its gate-out decisions.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar, cast

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.operators import KeyedStream, StatefulLogic

from flows.audit import audit_step
from flows.config import Config
from flows.io import FlowIO
from operators.alerts import Alert, alert_message, alert_record
from operators.container_state import ContainerParams, ContainerTracker, ExitAnswer, exit_timeline, may_exit
from operators.declaration_balance import BalanceRule, DeclarationBalance
from operators.discharge_reconciliation import DischargeParams, DischargeReconciler
from operators.events import dead_letter_message
from operators.exit_notice import check_exit_notice
from operators.exit_status import (
    STREAM_EXIT_STATUS,
    Answer,
    StatusMessage,
    change_points,
    container_message,
    declaration_message,
    timeline_changes,
)
from operators.port_events import (
    CONTAINER_KEY,
    DECLARATION_KEY,
    KEY_CLOCK,
    KEY_DEAD,
    KEY_DISCHARGE,
    KEY_EVENT_ROWS,
    KEY_NOTICES,
    PORT_STREAMS,
    PortDecoder,
    PortEvent,
)
from operators.rows import Rows, dead_letter_rows
from operators.storage_clock import Expire, StorageClock, StorageParams

FLOW = "containers"
STREAMS: tuple[str, ...] = PORT_STREAMS
Item = Rows | Alert | Expire | StatusMessage
_T = TypeVar("_T")


def container_params(cfg: Config) -> ContainerParams:
    """Container check thresholds from the configuration."""
    return ContainerParams(cfg.containers.inspection_discharge_max_h, FLOW,
                           stuffing_seal_max_h=cfg.containers.stuffing_seal_max_h)


def discharge_params(cfg: Config) -> DischargeParams:
    """Discharge completion settings from the configuration."""
    return DischargeParams(cfg.containers.quiet_period_h, cfg.containers.call_retention_h, FLOW)


def storage_params(cfg: Config) -> StorageParams:
    """Storage limits and state retention from the configuration."""
    c = cfg.containers
    return StorageParams(c.storage_limit_days, c.storage_warn_days, c.retention_after_exit_h, FLOW)


def may_container_exit(tracker: ContainerTracker | None) -> ExitAnswer:
    """May the container this flow state describes leave now, and why not (for the gate decisions flow).

    Args:
        tracker: The container's keyed state (``None``: the port has never reported the container).

    Returns:
        The answer.
    """
    if tracker is None or tracker.state is None:
        return ExitAnswer(False, ("not_in_port",), ("container unknown to the port (no events)",))
    return may_exit(tracker.state)


class _ContainerLogic(StatefulLogic[tuple[str, Any], Item, ContainerTracker]):
    """Bytewax glue around one container's tracker; dropped a retention time after the container left."""

    def __init__(self, resume: ContainerTracker | None, params: ContainerParams, retention: timedelta) -> None:
        self.tracker = resume
        self.params = params
        self.retention = retention

    def on_item(self, value: tuple[str, Any]) -> tuple[Iterable[Item], bool]:
        key, item = value
        if isinstance(item, Expire):
            if self.tracker is None or self.tracker.expired(item.at, self.retention):
                return [], StatefulLogic.DISCARD
            return [], StatefulLogic.RETAIN
        if self.tracker is None:
            self.tracker = ContainerTracker(key[len(CONTAINER_KEY):], self.params)
        t = self.tracker
        duplicate = item.event_id in t.seen
        before, old_events = t.state, list(t.events)
        out = t.on_event(item)
        statuses = [] if duplicate else self._status(before, old_events, item)
        return [*out.rows, *out.alerts, *statuses], StatefulLogic.RETAIN

    def _status(self, before: Any, old_events: list[PortEvent], ev: PortEvent) -> list[StatusMessage]:
        """Exit-answer changes to publish.

        The new answer at ``ev.ts`` when the event came last (the usual case), else every change point a late
        event moved (the visit re-folded).
        """
        t = self.tracker
        assert t is not None and t.state is not None
        no = t.container_no
        if t.events[-1] is ev:
            new = may_exit(t.state)
            old = may_exit(before) if before is not None and len(t.events) == len(old_events) + 1 else None
            if old == new:
                return []
            return [container_message(no, ev.ts, new.allowed, new.codes, new.reasons)]
        changes = timeline_changes(_points(no, old_events, self.params), _points(no, t.events, self.params))
        return [container_message(no, ts, ok, codes, reasons) for ts, ok, codes, reasons in changes]

    def snapshot(self) -> ContainerTracker:
        assert self.tracker is not None
        return _copy(self.tracker)


def _points(container_no: str, events: list[PortEvent], params: ContainerParams) -> list[Answer]:
    return change_points((ts, a.allowed, a.codes, a.reasons) for ts, a in exit_timeline(container_no, events, params))


class _DeclarationLogic(StatefulLogic[tuple[str, Any], Item, DeclarationBalance]):
    """Bytewax glue around one declaration's balance; forgotten once every released package has left."""

    def __init__(self, resume: DeclarationBalance | None, rule: BalanceRule) -> None:
        self.balance = resume
        self.rule = rule

    def on_item(self, value: tuple[str, Any]) -> tuple[Iterable[Item], bool]:
        key, ev = value
        if self.balance is None:
            self.balance = DeclarationBalance(key[len(DECLARATION_KEY):], self.rule, flow=FLOW)
        alerts: list[Item] = [*self.balance.on_event(ev), declaration_message(self.balance.status(), ev.ts)]
        return alerts, StatefulLogic.DISCARD if self.balance.complete else StatefulLogic.RETAIN

    def snapshot(self) -> DeclarationBalance:
        assert self.balance is not None
        return _copy(self.balance)


State = DischargeReconciler | StorageClock


class _SingletonLogic(StatefulLogic[Any, Item, State]):
    """Bytewax glue around a reconciler or clock that sees every item of its key in input order."""

    def __init__(self, state: State, emit: Callable[[Any], list[Item]]) -> None:
        self.state = state
        self.emit = emit

    def on_item(self, value: Any) -> tuple[Iterable[Item], bool]:
        return self.emit(self.state.on_item(value)), StatefulLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[Item], bool]:
        return self.emit(self.state.finish()), StatefulLogic.RETAIN

    def snapshot(self) -> State:
        return _copy(self.state)


def _copy(state: _T) -> _T:
    """An independent copy of a keyed state for a Bytewax snapshot (taken at every epoch, recovery or not).

    A pickle round trip, several times faster than :func:`copy.deepcopy` on these plain data classes: with
    deepcopy the snapshots of the terminal-wide reconciler and clock dominated the flow's time (measured).
    """
    return cast(_T, pickle.loads(pickle.dumps(state, pickle.HIGHEST_PROTOCOL)))


def _discharge_items(out: Any) -> list[Item]:
    items: list[Item] = [Rows.from_dicts("discharge_reconciliation", out.rows)] if out.rows else []
    return items + list(out.alerts)


def _clock_items(out: Any) -> list[Item]:
    return [*out.alerts, *out.expires]


def build_flow(cfg: Config, io: FlowIO) -> Dataflow:
    """Build the containers dataflow.

    Args:
        cfg: Site configuration (``[containers]``).
        io: Input, warehouse sink and (with a broker) output topics.

    Returns:
        The dataflow.
    """
    flow = Dataflow(FLOW)
    events, errors = io.inputs(flow)
    keyed = cast(KeyedStream[Any], op.flat_map_batch("decode", events, PortDecoder(FLOW).decode_batch))
    decode_dead = op.filter_map("decode_dead", keyed, lambda kv: kv[1] if kv[0] == KEY_DEAD else None)
    event_rows = op.filter_map("event_rows", keyed, lambda kv: kv[1] if kv[0] == KEY_EVENT_ROWS else None)

    c_params, d_params, s_params = container_params(cfg), discharge_params(cfg), storage_params(cfg)
    clock_in = op.filter("clock_in", keyed, lambda kv: kv[0] == KEY_CLOCK)
    clock_items = op.key_rm("clock_out", op.stateful(
        "storage_clock", clock_in,
        lambda resume: _SingletonLogic(resume or StorageClock(s_params), _clock_items)))
    expires = op.filter_map("expires", clock_items,
                            lambda x: (CONTAINER_KEY + x.container_no, x) if isinstance(x, Expire) else None)

    per_container = op.filter("containers", keyed, lambda kv: kv[0].startswith(CONTAINER_KEY))
    tagged = op.map("tag_container", op.merge("container_in", per_container, expires), lambda kv: (kv[0], kv))
    retention = timedelta(hours=s_params.retention_after_exit_h)
    container_items = op.key_rm("container_out", op.stateful(
        "container_state", tagged,
        lambda resume: _ContainerLogic(resume, c_params, retention)))

    discharge_in = op.filter("discharge_in", keyed, lambda kv: kv[0] == KEY_DISCHARGE)
    discharge_items = op.key_rm("discharge_out", op.stateful(
        "discharge", discharge_in,
        lambda resume: _SingletonLogic(resume or DischargeReconciler(d_params), _discharge_items)))

    block_pct = cfg.containers.exit_notice_block_pct
    notice_alerts = op.flat_map(
        "exit_notices", op.filter("notices_in", keyed, lambda kv: kv[0] == KEY_NOTICES),
        lambda kv: check_exit_notice(cast(PortEvent, kv[1]), block_pct, FLOW))

    declarations = op.map("tag_declaration", op.filter("declarations", keyed,
                                                       lambda kv: kv[0].startswith(DECLARATION_KEY)),
                          lambda kv: (kv[0], kv))
    rule = BalanceRule(cfg.exit_balance.warn_pct, cfg.exit_balance.block_pct)
    declaration_alerts = op.key_rm("declaration_out", op.stateful(
        "declaration_balance", declarations, lambda resume: _DeclarationLogic(resume, rule)))

    items = op.merge("items", container_items, discharge_items, clock_items, notice_alerts, declaration_alerts)
    state_rows = op.filter_map("state_rows", items, lambda x: x if isinstance(x, Rows) else None)
    alerts = op.filter_map("alerts", items, lambda x: x if isinstance(x, Alert) else None)
    dead = op.merge("dead_letters", *([decode_dead] + ([errors] if errors is not None else [])))
    if io.publish is not None:
        io.publish("dead_letters", op.map("dead_letter_msg", dead, dead_letter_message))
        io.publish("alerts", op.map("alert_msg", alerts, alert_message))
        io.publish(STREAM_EXIT_STATUS, op.filter_map("exit_status", items,
                                                     lambda x: x.kv() if isinstance(x, StatusMessage) else None))
    alert_rows = op.map("alert_rows", alerts, lambda a: Rows.from_dicts("alerts", [alert_record(a)]))
    rows = op.merge("rows", event_rows, state_rows, alert_rows, op.map("dead_letter_rows", dead, dead_letter_rows))
    rows = op.merge("audited_rows", rows, audit_step("audit", rows, io.audit_chain(FLOW)))
    op.output("warehouse", rows, io.sink)
    return flow
