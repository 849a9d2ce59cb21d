"""What every flow is built from: its input, its warehouse sink and, with a broker, its output topics.

A flow module exposes ``FLOW`` (its name), ``STREAMS`` (the input streams it reads) and
``build_flow(cfg, io)``; :mod:`flows.run` picks the connectors and hands them over as a :class:`FlowIO`,
so tests and the command line build the same graph with different connectors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bytewax.dataflow import Dataflow, Stream
from bytewax.outputs import Sink

from operators.audit_chain import AuditChain
from operators.events import DeadLetter, RawEvent
from operators.rows import Rows

if TYPE_CHECKING:
    from flows.config import Config

#: Adds the raw-event input to a flow; returns the events and, for sources that have them, the
#: consumer errors as dead letters.
Inputs = Callable[[Dataflow], tuple[Stream[RawEvent], Stream[DeadLetter] | None]]

#: Publishes ``(key, JSON value)`` messages to the output topic of a logical name (``dead_letters``,
#: ``alerts``, ``gate.decisions`` ...); the topic name comes from the Kafka configuration.
Publish = Callable[[str, Stream[tuple[bytes, bytes]]], None]


@dataclass(frozen=True)
class FlowIO:
    """The connectors one flow run uses.

    Attributes:
        inputs: Adds the input step.
        sink: Where table rows go (the warehouse sink, or a test sink).
        publish: Output topics; ``None`` when there is no broker (replay runs, tests).
        audit_chains: Audit chains as the warehouse holds them, by chain name (empty: fresh chains).
    """

    inputs: Inputs
    sink: Sink[Rows]
    publish: Publish | None = None
    audit_chains: Mapping[str, AuditChain] = field(default_factory=dict)

    def audit_chain(self, name: str) -> AuditChain:
        """The chain to continue: the loaded one, or a fresh one when none was loaded."""
        return self.audit_chains.get(name) or AuditChain(name)


class FlowModule(Protocol):
    """What :mod:`flows.run` needs from a flow module (modules satisfy it structurally)."""

    FLOW: str
    STREAMS: tuple[str, ...]

    def build_flow(self, cfg: Config, io: FlowIO) -> Dataflow:
        """Build the flow's dataflow."""
        ...
