"""Batching, idempotent warehouse sink: add per item, flush per batch (rows) or per interval (seconds).

Rows for each table are buffered and written with one Arrow insert per flush (≥ ``batch_rows`` rows
under load). Every insert carries a deterministic ``insert_deduplication_token`` (a hash of the batch), so
a retried or replayed identical batch is dropped by ClickHouse; rows themselves carry deterministic keys
in ReplacingMergeTree tables, so a replay with different batch boundaries does not change totals either.

A failing insert (server down, table missing or read-only) is retried in place with exponential backoff
(:class:`RetryPolicy`): the worker blocks meanwhile, so the flow stops pulling input (backpressure) and the
buffer cannot grow past one batch per table. The rows stay buffered until an insert succeeds; after the last
try the sink raises :class:`WarehouseError` naming the table, the tries and the last error, and the flow stops
(restarted with recovery, it replays from its last snapshot: nothing is lost).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from connectors.warehouse.client import WarehouseError, connect
from operators.rows import Rows

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff.

    Attributes:
        attempts: Tries in all (1 = no retry).
        backoff_s: Wait after the first failed try; doubled after each further one.
        backoff_max_s: Longest single wait.
    """

    attempts: int = 8
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.backoff_s < 0 or self.backoff_max_s < 0:
            raise ValueError(f"invalid retry policy {self}")

    def delays(self) -> Iterator[float]:
        """The waits between tries: ``attempts - 1`` of them."""
        for i in range(self.attempts - 1):
            yield min(self.backoff_s * 2.0**i, self.backoff_max_s)


def with_retries(what: str, call: Callable[[], T], policy: RetryPolicy,
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """Call ``call`` until it succeeds, at most ``policy.attempts`` times, sleeping the backoff between tries.

    Raises:
        WarehouseError: After the last failed try (chained to its error).
    """
    waits = policy.delays()
    tries, waited = 0, 0.0
    while True:
        tries += 1
        try:
            return call()
        except Exception as exc:
            delay = next(waits, None)
            if delay is None:
                raise WarehouseError(f"{what} failed {tries} time(s) over {waited:.1f} s of backoff, "
                                     f"giving up: {exc}") from exc
            log.warning("%s failed (try %d of %d), retrying in %.1f s: %s", what, tries, policy.attempts, delay, exc)
            sleep(delay)
            waited += delay


def arrow_type(ch_type: str) -> pa.DataType:
    """Arrow type for a ClickHouse column type (the subset quaywatch uses)."""
    t = ch_type
    for wrapper in ("LowCardinality(", "Nullable("):
        if t.startswith(wrapper):
            return arrow_type(t[len(wrapper) : -1])
    if t.startswith("DateTime64"):
        return pa.timestamp("ms", tz="UTC")
    if t.startswith("DateTime"):
        return pa.timestamp("s", tz="UTC")
    if t.startswith("Array("):
        return pa.list_(arrow_type(t[len("Array(") : -1]))
    simple: dict[str, pa.DataType] = {
        "String": pa.string(), "Float64": pa.float64(), "Float32": pa.float32(), "UInt64": pa.uint64(),
        "UInt32": pa.uint32(), "UInt16": pa.uint16(), "UInt8": pa.uint8(), "Int64": pa.int64(),
        "Int32": pa.int32(), "Bool": pa.bool_(), "Date": pa.date32(),
    }
    if t not in simple:
        raise WarehouseError(f"no Arrow mapping for ClickHouse type {ch_type}")
    return simple[t]


class WarehouseWriter:
    """Buffers :class:`Rows` per table and inserts them in large, deduplicated batches.

    Args:
        client: A clickhouse-connect client.
        database: Database holding the tables.
        batch_rows: Flush a table once this many rows are buffered.
        flush_seconds: Flush every table whose oldest buffered row is older than this.
        clock: Monotonic clock in seconds (injectable for tests).
        retry: Retries of a failing insert.
        sleep: Sleeps between retries (injectable for tests).
    """

    def __init__(self, client: Any, database: str, batch_rows: int = 50_000, flush_seconds: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.database = database
        self.batch_rows = batch_rows
        self.flush_seconds = flush_seconds
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self._buffers: dict[str, list[Rows]] = {}
        self._counts: dict[str, int] = {}
        self._since: dict[str, float] = {}
        self._schemas: dict[str, dict[str, pa.DataType]] = {}
        self.inserted_rows: dict[str, int] = {}
        self.inserts = 0

    def add(self, rows: Rows) -> None:
        """Buffer a batch of rows; flush the table when it is full.

        Raises:
            WarehouseError: When a flush gives up. Everything buffered stays buffered; ``rows`` itself is
                refused (not buffered) when the table already held a full batch that could not be written.
        """
        n = len(rows)
        if n == 0:
            return
        table = rows.table
        if self._counts.get(table, 0) >= self.batch_rows:
            # an earlier flush of this table gave up: write that batch first (or raise), never buffer beyond it
            self.flush(table)
        self._buffers.setdefault(table, []).append(rows)
        self._counts[table] = self._counts.get(table, 0) + n
        self._since.setdefault(table, self.clock())
        if self._counts[table] >= self.batch_rows:
            self.flush(table)

    def flush_due(self) -> None:
        """Flush every table whose oldest buffered row waited ``flush_seconds``."""
        now = self.clock()
        for table, since in list(self._since.items()):
            if now - since >= self.flush_seconds:
                self.flush(table)

    def flush_all(self) -> None:
        """Flush every buffered row."""
        for table in list(self._buffers):
            self.flush(table)

    @property
    def buffered_rows(self) -> int:
        """Rows waiting in the buffers (bounded: a table is flushed, or the writer blocks, at ``batch_rows``)."""
        return sum(self._counts.values())

    def flush(self, table: str) -> None:
        """Insert everything buffered for one table as a single deduplicated insert (retried with backoff).

        The rows stay buffered until the insert succeeded; a retried insert carries the same deduplication
        token, so one that reached the server before its acknowledgement was lost is not written twice.

        Raises:
            WarehouseError: When the insert still fails after the policy's last try.
        """
        batches = self._buffers.get(table, [])
        if not batches:
            return
        name = f"{self.database}.{table}"
        schema = with_retries(f"describe {name}", lambda: self._schema(table), self.retry, self.sleep)
        arrow = self._to_arrow(table, batches, schema)
        token = _batch_token(table, arrow)
        with_retries(f"insert into {name}", lambda: self.client.insert_arrow(
            name, arrow, settings={"insert_deduplication_token": token}), self.retry, self.sleep)
        del self._buffers[table]
        self._counts.pop(table, None)
        self._since.pop(table, None)
        self.inserts += 1
        self.inserted_rows[table] = self.inserted_rows.get(table, 0) + arrow.num_rows

    def _schema(self, table: str) -> dict[str, pa.DataType]:
        if table not in self._schemas:
            desc = self.client.query(f"DESCRIBE TABLE {self.database}.{table}").result_rows
            if not desc:
                raise WarehouseError(f"{self.database}.{table} has no columns")
            self._schemas[table] = {str(r[0]): arrow_type(str(r[1])) for r in desc}
        return self._schemas[table]

    def _to_arrow(self, table: str, batches: Sequence[Rows], schema: dict[str, pa.DataType]) -> pa.Table:
        names = batches[0].names
        missing = [n for b in batches for n in b.names if n not in schema]
        if missing:
            raise WarehouseError(f"{table} has no column {missing[0]!r}")
        target = pa.schema([(n, schema[n]) for n in names])
        parts = []
        columnar = [b for b in batches if not b.records]
        if columnar:
            arrays = []
            for name in names:
                values = [b.columns[name] for b in columnar]
                if all(isinstance(v, np.ndarray) for v in values):
                    arrays.append(_array(np.concatenate(values), schema[name]))
                else:
                    arrays.append(_array([x for v in values for x in v], schema[name]))
            parts.append(pa.Table.from_arrays(arrays, schema=target))
        records = [r for b in batches for r in b.records]
        if records:
            parts.append(pa.Table.from_pylist(records, schema=target))
        return parts[0] if len(parts) == 1 else pa.concat_tables(parts)


def _array(values: Any, typ: pa.DataType) -> pa.Array:
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        return pa.array(values.astype("datetime64[ms]"), type=typ)
    return pa.array(values, type=typ, from_pandas=True)


def _batch_token(table: str, arrow: pa.Table) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(table.encode())
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, arrow.schema) as writer:
        writer.write_table(arrow)
    h.update(sink.getvalue().to_pybytes())
    return h.hexdigest()


class _WarehousePartition(StatelessSinkPartition[Rows]):
    """One worker's sink: rows are written when a table's batch is full, and at most ``flush_seconds`` after they came.

    Also when no further item comes: a background flusher writes them (Bytewax calls a sink only with items, so the
    last rows before a lull waited for the next item, or were lost when the flow was stopped meanwhile).
    """

    def __init__(self, writer: WarehouseWriter, durable: bool = False) -> None:
        self.writer = writer
        self.durable = durable
        self.lock = threading.Lock()
        self.failed: WarehouseError | None = None
        self.stopping = threading.Event()
        self.flusher = threading.Thread(target=self._flush_in_lulls, name="warehouse-flush", daemon=True)
        self.flusher.start()

    def _flush_in_lulls(self) -> None:
        while not self.stopping.wait(max(0.05, self.writer.flush_seconds / 2)):
            with self.lock:
                if self.failed is not None:
                    return
                try:
                    self.writer.flush_due()
                except WarehouseError as exc:  # surfaced by the next write_batch or close (the flow stops)
                    self.failed = exc

    def _raise_failed(self) -> None:
        if self.failed is not None:
            raise self.failed

    def write_batch(self, items: list[Rows]) -> None:
        with self.lock:
            self._raise_failed()
            for rows in items:
                self.writer.add(rows)
            if self.durable:
                # with recovery, Bytewax commits an epoch's snapshot once its items were handed to the sink: rows
                # still buffered then would be lost by a crash (the resumed run starts after them)
                self.writer.flush_all()
            else:
                self.writer.flush_due()

    def flush_all(self) -> None:
        """Write everything buffered (a flow being stopped)."""
        with self.lock:
            self.writer.flush_all()

    def stop_flusher(self) -> None:
        """Stop the background flusher without writing (the flow failed: nothing more is written)."""
        self.stopping.set()
        self.flusher.join()

    def close(self) -> None:
        self.stop_flusher()
        with self.lock:
            self._raise_failed()
            self.writer.flush_all()


class WarehouseSink(DynamicSink[Rows]):
    """Bytewax sink writing :class:`Rows` to the warehouse in large, idempotent batches.

    Args:
        dsn: Warehouse DSN.
        database: Database name (migrations must have run).
        batch_rows: Rows per insert under load.
        flush_seconds: Longest time a row waits in the buffer while items keep arriving.
        retry: Retries of a failing insert.
        options: Further connection arguments of a ClickHouse server (password from a file, TLS).
        durable: Write every batch Bytewax hands over before returning (runs with recovery: an epoch's snapshot
            must not be committed while its rows are only in memory); otherwise rows wait up to
            ``flush_seconds`` to be written in larger inserts.
    """

    def __init__(self, dsn: str, database: str, batch_rows: int = 50_000, flush_seconds: float = 1.0,
                 retry: RetryPolicy | None = None, options: Mapping[str, Any] | None = None,
                 durable: bool = False) -> None:
        self.dsn = dsn
        self.options = dict(options or {})
        self.durable = durable
        self.database = database
        self.batch_rows = batch_rows
        self.flush_seconds = flush_seconds
        self.retry = retry or RetryPolicy()
        self.writers: list[WarehouseWriter] = []
        self.partitions: list[_WarehousePartition] = []

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _WarehousePartition:
        """Build the sink partition of one worker."""
        writer = WarehouseWriter(connect(self.dsn, self.options), self.database, self.batch_rows, self.flush_seconds,
                                 retry=self.retry)
        self.writers.append(writer)
        part = _WarehousePartition(writer, self.durable)
        self.partitions.append(part)
        return part

    def flush_open(self) -> None:
        """Write what every partition still buffers: a flow stopped (Ctrl-C, SIGTERM) loses no row it produced.

        Bytewax does not close the sink partitions of a dataflow interrupted by a signal.
        """
        for part in self.partitions:
            part.flush_all()
            part.stop_flusher()

    def stop_flushers(self) -> None:
        """Stop every partition's background flusher (a failed flow: Bytewax does not close its sink)."""
        for part in self.partitions:
            part.stop_flusher()

