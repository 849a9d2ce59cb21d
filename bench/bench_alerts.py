"""Alerting latency of the fuel checks on a large replay, in event time and in wall time.

Usage: python bench/bench_alerts.py [--readings 1000000] [--seed 7]

A replay of back-to-back discharges (``connectors.simulate.bench``) gets faults planted: every discharge
has one meter report ``power_loss`` for 30 s mid-transfer, and every second transfer's B/L overstates the
cargo by 1.2 %. The meters flow runs over it into chDB with an instrumented source (wall time at which each
batch of events enters the flow, and the latest event time in it) and sink (wall time at which each alert
row arrives at the warehouse writer).

Printed per alert kind:
  event-time latency  alert time − the event time that made it due (first faulty reading; transfer close),
                      i.e. how far the flow's event time had to advance (by design: 0 for a status fault,
                      the reconciliation grace period for a close);
  wall latency        arrival at the sink − entry of the batch holding that event time;
and, as the baseline measured in the same run, the mean wall time the flow spends per input batch.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any


def plant(replay: Path) -> dict[str, Any]:
    """Plant the faults; returns what was planted per transfer."""
    transfers = [json.loads(x) for x in (replay / "transfers.jsonl").read_text().splitlines() if x.strip()]
    opens = {t["transfer_id"]: t for t in transfers if t["event"] == "open"}
    closes = {t["transfer_id"]: t for t in transfers if t["event"] == "close"}
    planted: dict[str, Any] = {"power_loss": {}, "bl": {}}
    windows = []
    for k, (tid, o) in enumerate(sorted(opens.items())):
        if tid not in closes:
            continue
        a, b = datetime.fromisoformat(o["ts"]), datetime.fromisoformat(closes[tid]["ts"])
        mid = a + (b - a) / 2
        meter = o["meter_ids"][-1]
        windows.append((meter, mid, mid + timedelta(seconds=30)))
        planted["power_loss"][tid] = {"meter_id": meter, "from": mid.isoformat()}
        if k % 2 == 1:
            planted["bl"][tid] = {"close": closes[tid]["ts"]}
    out = []
    for line in (replay / "transfers.jsonl").read_text().splitlines():
        t = json.loads(line)
        if t["transfer_id"] in planted["bl"]:
            for f in ("bl_quantity_kg_air", "declaration_quantity_kg"):
                t[f] = round(t[f] * 1.012)
        out.append(json.dumps(t))
    (replay / "transfers.jsonl").write_text("\n".join(out) + "\n")
    lines = (replay / "meter.readings.jsonl").read_text().splitlines()
    for i, line in enumerate(lines):
        for meter, a, b in windows:
            if f'"{meter}"' in line:
                r = json.loads(line)
                if r.get("meter_id") == meter and a <= datetime.fromisoformat(r["ts"]) < b:
                    r["status"] = "power_loss"
                    lines[i] = json.dumps(r)
    (replay / "meter.readings.jsonl").write_text("\n".join(lines) + "\n")
    return planted


def run(replay: Path, work: Path) -> tuple[list[tuple[float, int]], list[tuple[float, dict[str, Any]]], float]:
    import bytewax.operators as op
    from bytewax.testing import run_main

    from connectors.replay import ReplayDirSource, ReplayPartition
    from connectors.warehouse.sink import WarehouseSink
    from flows import meters
    from flows.config import load_config
    from flows.io import FlowIO
    from flows.run import open_warehouse
    from operators.events import ms_from_ts, parse_ts

    cfg = load_config(environ={})
    dsn, _ = open_warehouse(cfg, f"chdb://{work / 'warehouse'}", work)
    batches: list[tuple[float, int]] = []
    alerts: list[tuple[float, dict[str, Any]]] = []

    class Part(ReplayPartition):
        def next_batch(self) -> list[Any]:
            b = super().next_batch()
            mx = 0
            for raw in b[-50:]:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    mx = max(mx, ms_from_ts(parse_ts(json.loads(raw.payload)["ts"])))
            batches.append((time.perf_counter(), mx))
            return b

    class Source(ReplayDirSource):
        def build_part(self, step_id: str, for_part: str, resume_state: Any) -> Part:
            return Part(self.files, self.batch_size, resume_state)

    class Sink(WarehouseSink):
        def build(self, step_id: str, worker_index: int, worker_count: int) -> Any:
            part = super().build(step_id, worker_index, worker_count)
            inner = part.write_batch

            def write_batch(items: list[Any]) -> None:
                now = time.perf_counter()
                for it in items:
                    if it.table == "alerts":
                        alerts.extend((now, dict(r)) for r in it.records)
                inner(items)

            part.write_batch = write_batch  # type: ignore[method-assign]
            return part

    sink = Sink(dsn, cfg.warehouse.database, cfg.warehouse.batch_rows, cfg.warehouse.flush_seconds)
    source = Source(replay, meters.STREAMS, batch_size=1000)
    flow = meters.build_flow(cfg, FlowIO(lambda f: (op.input("replay", f, source), None), sink))
    t0 = time.perf_counter()
    run_main(flow, epoch_interval=timedelta(seconds=1))
    return batches, alerts, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--readings", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    from connectors.simulate.bench import simulate_readings_file
    from flows.config import load_config
    from operators.events import ms_from_ts

    with tempfile.TemporaryDirectory(prefix="qw-alerts-") as tmp:
        replay = Path(tmp) / "replay"
        simulate_readings_file(load_config(environ={}), replay, args.readings, seed=args.seed)
        planted = plant(replay)
        batches, alerts, wall = run(replay, Path(tmp))
    first: dict[str, tuple[float, dict[str, Any]]] = {}
    for w, r in alerts:  # the first row of each alert is when it was raised
        first.setdefault(r["alert_id"], (w, r))
    rows: dict[str, list[tuple[float, float]]] = {}
    expected = {"meter_failure": len(planted["power_loss"]), "bl_tolerance": len(planted["bl"])}
    for w, r in first.values():
        due_ms = ms_from_ts(r["window_start"]) if r["kind"] == "meter_failure" else None
        if r["kind"] == "bl_tolerance":
            close = planted["bl"].get(r["entity_id"], {}).get("close")
            due_ms = ms_from_ts(datetime.fromisoformat(close)) if close else None
        if due_ms is None:
            continue
        ev_s = (ms_from_ts(r["status_ts"]) - due_ms) / 1000.0
        entered = next((bw for bw, mx in batches if mx >= due_ms), batches[-1][0])
        rows.setdefault(r["kind"], []).append((ev_s, (w - entered) * 1000.0))
    per_batch_ms = 1000.0 * wall / max(len(batches), 1)
    print(f"\nalerting latency: {args.readings:,} meter readings, {len(batches)} input batches of 1000 events, "
          f"flow wall time {wall:.1f} s")
    print(f"{'kind':<16}{'alerts':>8}{'planted':>9}{'event s p50':>13}{'event s max':>13}"
          f"{'wall ms p50':>13}{'wall ms p95':>13}{'p95/batch':>11}")
    for kind, vals in sorted(rows.items()):
        ev = sorted(v[0] for v in vals)
        wl = sorted(v[1] for v in vals)
        p95 = wl[min(len(wl) - 1, int(0.95 * len(wl)))]
        print(f"{kind:<16}{len(vals):>8}{expected.get(kind, 0):>9}{statistics.median(ev):>13.1f}{ev[-1]:>13.1f}"
              f"{statistics.median(wl):>13.1f}{p95:>13.1f}{p95 / per_batch_ms:>11.2f}")
    print(f"baseline: {per_batch_ms:.1f} ms of flow wall time per input batch (same run)")
    other = sorted({r['kind'] for _, r in first.values()} - set(expected))
    print(f"other alert kinds raised: {other or 'none'}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
