"""Local broker bench: does a private tansu hold the records a soak produces, and how fast does it take them back?

Usage: python bench/bench_broker.py [--levels 200000,600000,1200000] [--brokers memory,memory-b20,...] [--stall 30]
       S3 (slow: ~1,500 records/s produced in batches of 20): --levels 10000 --brokers memory,s3-b20,s3-b1000

For each broker configuration (a fresh broker each), named STORAGE[PARTITIONS][-bBATCH]:
  memory       tansu, in-memory storage, a 4-partition topic, the producer's default batches (thousands of records
               a batch): the baseline, every ratio is against it
  s3           tansu with its s3 storage on a local moto server
  memory16     a 16-partition topic (the same records spread over 4x the partitions)
  -b20         at most 20 records a produce batch (librdkafka ``batch.num.messages``): the batches of the soak's
               paced producer (about 4,000 ev/s, ``linger.ms`` 5, sticky partitioner), without waiting for real time
records of the size of a meter reading (~200 bytes of JSON) are produced round-robin over the partitions in
stages, up to each level (a level = records per partition of a 4-partition topic, so level x 4 records in all,
whatever the partition count); after each stage a fresh consumer (assign from offset 0, no group) reads the whole
topic back. A stall = no record for ``--stall`` seconds before the end: the broker's stages stop there.
Figures: produce and consume rates per stage (records/s, and as a ratio against the in-memory broker at the same
level), where a stall happened, and the RSS of tansu (and moto) after the last stage.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from bench.process_memory import rss_mb  # noqa: E402
from connectors.local_broker import start_local_broker  # noqa: E402

TOPIC = "bench.meter.readings"


def reading(i: int) -> bytes:
    """A meter-reading-sized JSON record (~200 bytes)."""
    return (f'{{"meter_id":"MTR-{i % 24:02d}","ts":"2026-03-01T{6 + i // 3_600_000 % 18:02d}:'
            f'{i // 60_000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:03d}Z","flow_m3h":{800 + i % 97 * 0.5:.3f},'
            f'"totalizer_m3":{i * 0.0123:.4f},"temp_c":{14 + i % 13 * 0.1:.2f},"pressure_bar":'
            f'{4.2 + i % 7 * 0.01:.3f},"density_kgm3":835.4,"status":"OK","seq":{i}}}').encode()


@dataclass
class Stage:
    level: int
    total: int
    produce_per_s: float
    consume_per_s: float
    consumed: int
    stalled_at: int | None  # records read back before the stall (None: all read)


def produce(broker: str, start: int, stop: int, partitions: int, batch: int) -> float:
    """Produce records ``start..stop`` round-robin over the partitions (``batch``: records a batch at most, 0 the
    default); returns records/s."""
    conf: dict[str, str | int] = {"bootstrap.servers": broker, "linger.ms": 5,
                                  "queue.buffering.max.messages": 500_000}
    if batch:
        conf["batch.num.messages"] = batch
    producer = Producer(conf)
    t0 = time.perf_counter()
    for i in range(start, stop):
        while True:
            try:
                producer.produce(TOPIC, value=reading(i), partition=i % partitions)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 1000 == 0:
            producer.poll(0)
    left = producer.flush(300)
    if left:
        raise RuntimeError(f"{left} records left unsent")
    return (stop - start) / (time.perf_counter() - t0)


def consume(broker: str, total: int, partitions: int, stall_s: float) -> tuple[int, float, bool]:
    """Read the topic from offset 0 with a fresh consumer; returns (records read, records/s, stalled)."""
    consumer = Consumer({"bootstrap.servers": broker, "group.id": "bench-broker", "enable.auto.commit": False,
                         "fetch.wait.max.ms": 10, "enable.partition.eof": True})
    consumer.assign([TopicPartition(TOPIC, p, 0) for p in range(partitions)])
    n, at_eof = 0, set()
    t0 = last = time.perf_counter()
    try:
        while n < total:
            msgs = consumer.consume(10_000, 1.0)
            now = time.perf_counter()
            got = 0
            for m in msgs:
                err = m.error()
                if err is None:
                    got += 1
                elif err.code() == KafkaError._PARTITION_EOF:
                    at_eof.add(m.partition())
            if got:
                n += got
                last = now
            elif now - last > stall_s:
                return n, n / (last - t0) if last > t0 else 0.0, True
        return n, n / (time.perf_counter() - t0), False
    finally:
        consumer.close()


def run_broker(kind: str, partitions: int, batch: int, levels: list[int], stall_s: float,
               log: Path) -> tuple[list[Stage], dict[str, float]]:
    broker = start_local_broker(kind, log)
    stages: list[Stage] = []
    try:
        admin = AdminClient({"bootstrap.servers": broker.addr})
        for f in admin.create_topics([NewTopic(TOPIC, num_partitions=partitions, replication_factor=1)]).values():
            f.result(timeout=10)
        del admin
        done = 0
        for level in levels:
            total = level * 4
            p_rate = produce(broker.addr, done, total, partitions, batch)
            done = total
            n, c_rate, stalled = consume(broker.addr, total, partitions, stall_s)
            stages.append(Stage(level, total, p_rate, c_rate, n, n if stalled else None))
            print(f"  {log.stem}: {total:,} records: produce {p_rate:,.0f}/s, consume {c_rate:,.0f}/s"
                  + (f", STALLED after {n:,} (no record for {stall_s:.0f} s)" if stalled else ""), flush=True)
            if stalled:
                break
        rss = {role: mb if (mb := rss_mb(pid)) is not None else float("nan") for role, pid in broker.pids().items()}
    finally:
        broker.close()
    return stages, rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", default="200000,600000,1200000",
                    help="records per partition of a 4-partition topic, cumulative stages")
    ap.add_argument("--brokers", default="memory,memory-b20,memory-b100,memory16-b20")
    ap.add_argument("--stall", type=float, default=30.0, help="seconds without a record that count as a stall")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    log_dir = Path(f"/tmp/quaywatch-bench-broker-{time.strftime('%H%M%S')}")
    log_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, tuple[list[Stage], dict[str, float]]] = {}
    for name in args.brokers.split(","):
        m = re.fullmatch(r"(memory|s3)(\d+)?(?:-b(\d+))?", name)
        if m is None:
            ap.error(f"--brokers: {name!r} is not STORAGE[PARTITIONS][-bBATCH]")
        kind, parts, batch = m[1], int(m[2] or 4), int(m[3] or 0)
        print(f"{name}: tansu {kind} storage, {parts} partitions, batches of {batch or 'default'}", flush=True)
        results[name] = run_broker(kind, parts, batch, levels, args.stall, log_dir / f"{name}.log")
    base = {s.level: s for s in results.get("memory", ([], {}))[0]}
    print(f"\nrecords of ~{len(reading(123456))} bytes; levels = records per partition of a 4-partition topic; "
          f"ratios against `memory` at the same level (this run); logs in {log_dir}")
    print(f"{'broker':<10}{'records':>11}{'produce/s':>11}{'x mem':>7}{'consume/s':>11}{'x mem':>7}  read back")
    for name, (stages, rss) in results.items():
        for s in stages:
            b = base.get(s.level)
            px = f"{s.produce_per_s / b.produce_per_s:.2f}" if b else "-"
            cx = f"{s.consume_per_s / b.consume_per_s:.2f}" if b and b.stalled_at is None else "-"
            back = "all" if s.stalled_at is None else f"STALL at {s.stalled_at:,}"
            print(f"{name:<10}{s.total:>11,}{s.produce_per_s:>11,.0f}{px:>7}{s.consume_per_s:>11,.0f}{cx:>7}  {back}")
        print(f"{'':<10}RSS after the last stage: " + ", ".join(f"{k} {v:,.0f} MB" for k, v in rss.items()))


if __name__ == "__main__":
    main()
