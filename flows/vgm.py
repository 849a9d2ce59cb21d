"""Verified gross mass dataflow (SOLAS VGM, V1–V10): wiring only.

raw events ──decode──▶ one ordered VgmState (key ``vgm``):
│                        vehicles   — Method 1 pairing, instruments (Art. 20, 22)
│                        containers — tolerance, payload, empties, no VGM, Method 2 (Art. 7, 8, 9, 12, 24)
│                        registry   — certificate numbers, fee, `vgm` audit chain (Art. 13, 14)
│                      ──▶ vgm_weighings, vgm_declarations, vgm_status, vgm_certificates, audit_log,
│                          vgm_violations, alerts (table and topic)
└─ invalid ──────────────▶ dead_letters (table, and topic with Kafka)

One key keeps every event in event-time order (after a short reorder window, flushed at the end of a
replay), so numbers and checks do not depend on batch boundaries.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.operators import StatefulLogic

from flows.config import Config
from flows.io import FlowIO
from operators.alerts import Alert, alert_message, alert_record
from operators.events import DeadLetter, dead_letter_message
from operators.rows import Rows, dead_letter_rows
from operators.vgm_events import VGM_STREAMS, Declaration, VgmDecoder, VgmEvent, Weighing
from operators.vgm_policy import VgmPolicy
from operators.vgm_state import VgmOutput, VgmState

FLOW = "vgm"
STREAMS: tuple[str, ...] = VGM_STREAMS
#: The single key of the VGM state: one sequence space, one audit chain, events in event-time order.
STATE_KEY = "vgm"

Out = Rows | Alert


class VgmStateLogic(StatefulLogic[list[Weighing | Declaration], Out, bytes]):
    """Bytewax glue around the site's :class:`VgmState`.

    Each input batch of events goes through the state at once, in order, so its rows leave as one batch per
    table. The snapshot is the pickled state: Bytewax takes one per epoch, and pickling the whole site's
    state is an order of magnitude cheaper than the deep copy ``stateful_map`` would make.
    """

    def __init__(self, resume: bytes | None, policy: VgmPolicy) -> None:
        self.state: VgmState = pickle.loads(resume) if resume else VgmState()  # our own snapshot
        self.policy = policy

    def on_item(self, value: list[Weighing | Declaration]) -> tuple[Iterable[Out], bool]:
        """Offer one input batch of events; emit what the events released from the reorder window produced."""
        return self._emit(self.state.offer(value, self.policy)), StatefulLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[Out], bool]:
        """End of the input (a replay): apply the events still waiting in the reorder window."""
        return self._emit(self.state.flush(self.policy)), StatefulLogic.RETAIN

    @staticmethod
    def _emit(res: VgmOutput) -> list[Out]:
        out: list[Out] = [Rows.from_dicts(table, rows) for table, rows in res.rows.items()]
        if res.violations:
            out.append(Rows.from_dicts("vgm_violations", [v.row() for v in res.violations]))
        out.extend(v.alert() for v in res.violations)
        out.extend(res.resolved)
        return out

    def snapshot(self) -> bytes:
        """The pickled state."""
        return pickle.dumps(self.state, protocol=pickle.HIGHEST_PROTOCOL)


def _valid_together(events: list[VgmEvent]) -> list[list[Weighing | Declaration] | DeadLetter]:
    """The valid events of an input batch as one list (kept in order), followed by the dead letters."""
    valid: list[Weighing | Declaration] = [e for e in events if not isinstance(e, DeadLetter)]
    dead: list[list[Weighing | Declaration] | DeadLetter] = [e for e in events if isinstance(e, DeadLetter)]
    return ([valid] if valid else []) + dead


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
    decoder = VgmDecoder(FLOW, policy)
    decoded = op.flat_map_batch("decode", events, lambda raws: _valid_together(decoder.decode_batch(raws)))
    decode_dead = op.filter_map("decode_dead", decoded, lambda e: e if isinstance(e, DeadLetter) else None)
    valid = op.filter_map("valid", decoded, lambda e: e if isinstance(e, list) else None)
    keyed = op.key_on("one_state", valid, lambda _e: STATE_KEY)
    items = op.key_rm("state_rm", op.stateful("vgm_state", keyed, lambda resume: VgmStateLogic(resume, policy)))
    alerts = op.filter_map("alerts", items, lambda x: x if isinstance(x, Alert) else None)
    dead = op.merge("dead_letters", decode_dead, *([errors] if errors is not None else []))
    if io.publish is not None:
        io.publish("dead_letters", op.map("dead_letter_msg", dead, dead_letter_message))
        io.publish("alerts", op.map("alert_msg", alerts, alert_message))
    rows = op.merge(
        "rows",
        op.filter_map("table_rows", items, lambda x: x if isinstance(x, Rows) else None),
        op.map("alert_rows", alerts, lambda a: Rows.from_dicts("alerts", [alert_record(a)])),
        op.map("dead_letter_rows", dead, dead_letter_rows),
    )
    op.output("warehouse", rows, io.sink)
    return flow
