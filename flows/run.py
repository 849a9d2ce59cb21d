"""Running a flow: pick the source and sinks from options, migrate the warehouse, execute.

``--source file:DIR`` replays a directory and ends when it is consumed; ``--source kafka://HOST:PORT``
consumes the configured topics until stopped (or, with ``tail=False``, until their end).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow, Stream

from connectors.input_guard import oversize_dead_letters, size_guarded, size_stubbed
from connectors.kafka_io import client_settings, kafka_publisher, kafka_raw_events, parse_kafka_url, topic_partitions
from connectors.ordering import event_time_ordered
from connectors.publish_files import file_publisher, sort_published
from connectors.replay import ReplayDirSource
from connectors.warehouse.audit import load_chain
from connectors.warehouse.client import connect, redact, resolve_dsn, server_options
from connectors.warehouse.migrations import migrate
from connectors.warehouse.sink import RetryPolicy, WarehouseSink
from flows import cameras, containers, gate, meters, vgm
from flows.audit import audit_config
from flows.config import Config
from flows.io import FlowIO, FlowModule
from flows.scaling import Scaling, execute, recovery_config
from operators.audit_chain import AuditChain
from operators.events import DeadLetter, RawEvent

log = logging.getLogger(__name__)
#: Flow modules by name; each exposes ``FLOW``, ``STREAMS`` and ``build_flow(cfg, io)``.
FLOWS: dict[str, FlowModule] = {meters.FLOW: meters, vgm.FLOW: vgm, gate.FLOW: gate, cameras.FLOW: cameras,
                                containers.FLOW: containers}


@dataclass(frozen=True)
class RunOptions:
    """Where a flow reads, writes and keeps its local state."""

    source: str
    warehouse: str = ""
    data_dir: Path = Path(".quaywatch")
    recovery: bool = False
    tail: bool = True
    scaling: Scaling = field(default_factory=Scaling)
    #: replay runs: write these published streams to ``publish_dir/<name>.jsonl`` (e.g. ``containers.exit_status``)
    publish_dir: Path | None = None
    publish_names: tuple[str, ...] = ()


@dataclass
class RunResult:
    """What a run wrote, for summaries and tests."""

    dsn: str
    inserted_rows: dict[str, int]
    inserts: int


def warehouse_options(cfg: Config) -> dict[str, Any]:
    """Connection arguments of a ClickHouse server besides the DSN (password file, TLS) from the configuration."""
    wh = cfg.warehouse
    return server_options(wh.password_file, wh.secure, wh.verify, wh.ca_cert, wh.client_cert, wh.client_cert_key)


def open_warehouse(cfg: Config, warehouse: str, data_dir: Path) -> tuple[str, Any]:
    """Resolve the DSN, connect and apply migrations; returns ``(dsn, client)``."""
    dsn = resolve_dsn(warehouse or cfg.warehouse.dsn, data_dir)
    client = connect(dsn, warehouse_options(cfg))
    applied = migrate(client, cfg.warehouse.database)
    for mig in applied:
        log.info("applied migration %04d_%s to %s", mig.version, mig.name, redact(dsn))
    return dsn, client


def build(flow_name: str, cfg: Config, opts: RunOptions, sink: WarehouseSink,
          audit_chains: Mapping[str, AuditChain] | None = None) -> Dataflow:
    """Build the named flow with the source and sinks the options select (and the audit chains to continue).

    Raises:
        ValueError: For an unknown flow or an unsupported source.
    """
    if flow_name not in FLOWS:
        raise ValueError(f"unknown flow {flow_name!r}; available: {', '.join(FLOWS)}")
    spec = FLOWS[flow_name]
    if opts.source.startswith("file:"):
        directory = Path(opts.source[len("file:") :])
        # a flow whose replay is not JSON Lines (camera frames) provides its own source
        replay_source = getattr(spec, "replay_source", None)
        source = replay_source(directory) if replay_source else ReplayDirSource(directory, spec.STREAMS)
        files = file_publisher(opts.publish_dir, opts.publish_names) if opts.publish_dir is not None else None
        return spec.build_flow(cfg, FlowIO(
            lambda flow: size_guarded("input_limits", op.input("replay", flow, source), spec.FLOW, cfg.limits),
            sink, files, audit_chains=audit_chains or {}))
    if opts.source.startswith("kafka://"):
        brokers = parse_kafka_url(opts.source)
        topics = {cfg.kafka.topic(s): s for s in spec.STREAMS}
        kafka_client = client_settings(cfg.kafka.client, cfg.kafka.sasl_password_file)

        def inputs(flow: Dataflow) -> tuple[Stream[RawEvent], Stream[DeadLetter] | None]:
            raw, consumer_errors = kafka_raw_events("kafka_in", flow, brokers, topics, spec.FLOW, kafka_client,
                                                    opts.tail)
            # records beyond the input limits are replaced by a small stand-in (their start, the reason) before
            # anything else reads them: the reorder buffer never holds them, the redelivery filter hashes the
            # stand-in (an oversize record delivered twice is one dead letter), and the stand-ins leave as dead
            # letters before any decoder. (It ran after the buffer while meter operations summed each batch of
            # readings at once: before it, its batches failed the fault tier on last-bit differences of the
            # operation totals; readings are now added one at a time, whatever the batches.)
            stubbed = size_stubbed("input_limits", raw, cfg.limits)
            # partitions and topics arrive at their own pace: restore event-time order, as a replay has it.
            # Every partition is waited for, on one worker too: each partition has its own consumer, whose first
            # fetch may come after the others' (a topic heard from on one partition let the rest of the day
            # overtake the other partition's records, which then arrived late and were applied out of order)
            expected = topic_partitions(brokers, list(topics), kafka_client)
            ordered = event_time_ordered("event_time_order", stubbed, expected)
            return oversize_dead_letters("oversize", ordered, spec.FLOW, consumer_errors)

        publish = kafka_publisher(brokers, cfg.kafka.topic, kafka_client)
        return spec.build_flow(cfg, FlowIO(inputs, sink, publish, audit_chains or {}))
    raise ValueError(f"unsupported source {opts.source!r}: use file:DIR or kafka://HOST:PORT")


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is, or was caused by, a KeyboardInterrupt (Bytewax wraps one raised inside a step)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, KeyboardInterrupt):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While in the block, SIGTERM and SIGINT raise KeyboardInterrupt.

    SIGTERM is how Kubernetes and Compose stop a container: the flow then ends through the same path as Ctrl-C (its
    buffered rows written) instead of dying at once. The previous handler is restored on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # SIGINT too: a shell starting a job in the background without job control makes it ignore SIGINT
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_flow(flow_name: str, cfg: Config, opts: RunOptions) -> RunResult:
    """Migrate the warehouse, audit a configuration change, then run the flow to completion (or until stopped).

    The flow continues its audit chain (named after the flow) as the warehouse holds it.
    """
    dsn, client = open_warehouse(cfg, opts.warehouse, opts.data_dir)
    if opts.scaling.leader:  # one configuration entry per cluster, not one per process
        audit_config(client, cfg.warehouse.database, cfg)
    wh = cfg.warehouse
    sink = WarehouseSink(dsn, wh.database, wh.batch_rows, wh.flush_seconds,
                         RetryPolicy(wh.retry_attempts, wh.retry_backoff_s, wh.retry_backoff_max_s),
                         warehouse_options(cfg), durable=opts.recovery)
    flow = build(flow_name, cfg, opts, sink, {flow_name: load_chain(client, cfg.warehouse.database, flow_name)})
    recovery = recovery_config(opts.data_dir / "recovery" / flow_name, opts.scaling) if opts.recovery else None
    try:
        with terminate_as_interrupt():
            execute(flow, opts.scaling, timedelta(seconds=1), recovery)
    except Exception as exc:  # Bytewax wraps the KeyboardInterrupt raised in a step (as its cause)
        if not interrupted(exc):
            sink.stop_flushers()  # a crash writes nothing more (Bytewax does not close the sink then)
            raise
        sink.flush_open()  # stopped (Ctrl-C, SIGTERM): write what the sink still buffers, then stop
        raise KeyboardInterrupt from exc
    except KeyboardInterrupt:
        sink.flush_open()
        raise
    if opts.publish_dir is not None:
        sort_published(opts.publish_dir, opts.publish_names)
    inserted: dict[str, int] = {}
    for w in sink.writers:
        for table, n in w.inserted_rows.items():
            inserted[table] = inserted.get(table, 0) + n
    return RunResult(dsn, inserted, sum(w.inserts for w in sink.writers))
