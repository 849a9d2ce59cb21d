"""Retry policy of the warehouse sink, with a recording sleeper (no real waiting, no server).

The expected waits are the policy's definition written out by hand: base, doubled per try, capped.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest

from connectors.warehouse.client import WarehouseError
from connectors.warehouse.sink import RetryPolicy, WarehouseWriter, with_retries
from operators.rows import Rows

pytestmark = pytest.mark.faults


def test_backoff_doubles_up_to_the_cap_and_is_bounded():
    assert list(RetryPolicy(attempts=7, backoff_s=0.5, backoff_max_s=5.0).delays()) == [0.5, 1, 2, 4, 5, 5]
    assert list(RetryPolicy(attempts=1).delays()) == []
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)


def test_a_call_failing_for_a_while_succeeds_after_the_backoff():
    slept: list[float] = []
    calls = iter([OSError("down"), OSError("down"), OSError("down"), "ok"])

    def call() -> str:
        v = next(calls)
        if isinstance(v, Exception):
            raise v
        return v

    assert with_retries("x", call, RetryPolicy(5, 1.0, 3.0), slept.append) == "ok"
    assert slept == [1.0, 2.0, 3.0]


def test_giving_up_is_a_clear_error_after_the_last_try():
    slept: list[float] = []
    tries = []

    def call() -> None:
        tries.append(1)
        raise OSError("connection refused")

    with pytest.raises(WarehouseError, match=r"insert into db.t failed 4 time\(s\) over 7.0 s.*connection refused"):
        with_retries("insert into db.t", call, RetryPolicy(4, 1.0, 60.0), slept.append)
    assert len(tries) == 4 and slept == [1.0, 2.0, 4.0]


class FlakyClient:
    """Fails the first ``fail`` inserts, then keeps what it is given."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.tokens: list[str] = []
        self.rows: list[dict[str, Any]] = []

    def query(self, sql: str) -> Any:
        return SimpleNamespace(result_rows=[("id", "String"), ("v", "Float64")])

    def insert_arrow(self, table: str, arrow: pa.Table, settings: dict[str, str]) -> None:
        if self.fail > 0:
            self.fail -= 1
            raise ConnectionError("warehouse unreachable")
        self.tokens.append(settings["insert_deduplication_token"])
        self.rows.extend(arrow.to_pylist())


def rows(start: int, n: int) -> Rows:
    return Rows.from_dicts("t", [{"id": f"r{i}", "v": float(i)} for i in range(start, start + n)])


def test_writer_blocks_and_retries_the_same_batch_then_writes_every_row_once():
    client, slept = FlakyClient(fail=3), []
    w = WarehouseWriter(client, "db", batch_rows=10, retry=RetryPolicy(5, 0.5, 1.0), sleep=slept.append)
    w.add(rows(0, 4))
    w.add(rows(4, 6))  # reaches batch_rows: the flush blocks through 3 failures
    assert slept == [0.5, 1.0, 1.0]
    assert [r["id"] for r in client.rows] == [f"r{i}" for i in range(10)]
    assert w.buffered_rows == 0 and w.inserts == 1 and w.inserted_rows == {"t": 10}


def test_writer_giving_up_keeps_the_rows_and_a_later_flush_writes_them():
    client, slept = FlakyClient(fail=3), []
    w = WarehouseWriter(client, "db", batch_rows=100, retry=RetryPolicy(2, 0.5, 1.0), sleep=slept.append)
    w.add(rows(0, 5))
    with pytest.raises(WarehouseError, match=r"insert into db\.t failed 2 time"):
        w.flush_all()
    assert w.buffered_rows == 5 and client.rows == []
    w.flush_all()  # third failure, then success: same batch, same deduplication token
    assert [r["id"] for r in client.rows] == [f"r{i}" for i in range(5)]
    assert len(set(client.tokens)) == 1 and w.buffered_rows == 0


def test_buffer_never_exceeds_one_batch_per_table_while_the_warehouse_is_down():
    client = FlakyClient(fail=10**9)
    w = WarehouseWriter(client, "db", batch_rows=10, retry=RetryPolicy(3, 0.0, 0.0), sleep=lambda _s: None)
    accepted, refused, peak = 0, 0, 0
    for i in range(50):
        try:
            w.add(rows(i, 1))
            accepted += 1
        except WarehouseError:
            refused += 1
        peak = max(peak, w.buffered_rows)
    # a caller that ignored the error and kept adding (the Bytewax worker stops at the first one) is refused
    # once a full batch is pending: memory stays bounded and nothing accepted is dropped
    # the 10th add filled the batch and raised while flushing it, with its row kept: 9 + 1 buffered
    assert peak == 10 and w.buffered_rows == 10 and accepted == 9 and refused == 41
    assert client.rows == []
