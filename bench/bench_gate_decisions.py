"""Gate decision benchmark (issue 5): decision latency through the whole gate flow, and the join alone.

1. Flow (wall time, one run): the decision scenario (one passage per rule, ``--repeat`` times) replayed
   through the gate flow on an embedded warehouse. Decision latency = wall time from the LPR frame entering
   the flow (decoded) to its first decision (``gate_decisions.latency_ms``, edition 0), median and p95,
   against the per-frame OCR time of the same run (``gate_reads.ms``): the decision costs about one LPR
   frame's OCR plus the join. Target: about 1 s.
2. Join alone (no OCR): a simulated week at 10x a busy gate (250 trucks/hour/lane x ``--lanes`` x 10), each
   truck with its notice 10 minutes ahead (5 % of trucks without one, 2 % with a duplicate): decisions per
   second, per-decision compute time median and p99, and the join's state (notice versions held, pickled
   bytes) at the end of the week, against the number of notices sent (bounded: it must not grow with days).

Usage: ``.venv/bin/python bench/bench_gate_decisions.py [--repeat 1] [--days 7] [--lanes 4]``
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from connectors.simulate.gate_pregate import SCENARIOS, write_scenario
from connectors.simulate.gate_scenes import random_container, random_plate
from connectors.warehouse.client import connect
from flows.config import load_config
from flows.run import RunOptions, run_flow
from operators.gate_decision import PassageView
from operators.gate_join import PregateJoin
from operators.pregate import Notice, NoticeContainer


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def bench_flow(repeat: int) -> None:
    """Decision latency through the gate flow vs per-frame OCR time."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "replay"
        write_scenario(out, tuple(SCENARIOS) * repeat)
        cfg = load_config(environ={})
        cfg = replace(cfg, warehouse=replace(cfg.warehouse, database="bench"),
                      gate=replace(cfg.gate, archive_dir=str(Path(tmp) / "archive")))
        dsn = f"chdb://{tmp}/wh"
        t0 = time.perf_counter()
        run_flow("gate", cfg, RunOptions(f"file:{out}", dsn, Path(tmp) / "data"))
        wall = time.perf_counter() - t0
        c = connect(dsn)
        lat = [float(r[0]) for r in c.query("SELECT latency_ms FROM bench.gate_decisions WHERE edition = 0 "
                                            "AND latency_ms IS NOT NULL").result_rows]
        ocr = [float(r[0]) for r in c.query("SELECT ms FROM bench.gate_reads FINAL").result_rows]
        lpr = [float(r[0]) for r in c.query("SELECT ms FROM bench.gate_reads FINAL WHERE checkpoint = 2").result_rows]
        counts = c.query("SELECT decision, count() FROM bench.gate_decisions FINAL GROUP BY 1 ORDER BY 1").result_rows
    print(f"flow: {len(lat)} decisions, {len(ocr)} frames, run {wall:.1f} s; decisions {dict(counts)}")
    print(f"  decision latency (LPR frame in -> decision)  median {statistics.median(lat):7.1f} ms   "
          f"p95 {_pct(lat, 95):7.1f} ms")
    print(f"  OCR per frame (all cameras)                 median {statistics.median(ocr):7.1f} ms   "
          f"p95 {_pct(ocr, 95):7.1f} ms")
    print(f"  OCR per LPR frame                           median {statistics.median(lpr):7.1f} ms")
    print(f"  ratio decision latency / OCR per frame: median {statistics.median(lat) / statistics.median(ocr):.2f}"
          f"  (/ LPR frame OCR: {statistics.median(lat) / statistics.median(lpr):.2f})")


def bench_join(days: float, lanes: int) -> None:
    """Decisions per second and state size of the join alone over a simulated week at 10x a busy gate."""
    rng = np.random.default_rng(1)
    rate_h = 250 * lanes * 10
    n = int(rate_h * 24 * days)
    step = timedelta(hours=1) / rate_h
    t0 = datetime(2026, 3, 2, tzinfo=UTC)
    join = PregateJoin()
    times: list[float] = []
    decisions: dict[str, int] = {}
    sent = 0
    started = time.perf_counter()
    for i in range(n):
        t = t0 + i * step
        plate, box = random_plate(rng), random_container(rng)
        u = rng.random()
        if u >= 0.05:
            cont = (NoticeContainer(box, "42G1", "full"),)
            for k in range(2 if u < 0.07 else 1):
                join.on_notice(Notice(f"N{i}-{k}", t - timedelta(minutes=10), "in", plate, None, cont, "import",
                                      None, False, "port"), wall=t)
                sent += 1
        p = PassageView(f"P{i}", "G1", f"L{i % lanes}", t, plate, None, (box,), "42G1", False, True)
        a = time.perf_counter()
        out = join.on_passage(p, wall=t)
        times.append((time.perf_counter() - a) * 1000)
        for e in out:
            if e.decision is not None:
                decisions[e.decision.decision] = decisions.get(e.decision.decision, 0) + 1
    total = time.perf_counter() - started
    state = len(pickle.dumps(join))
    print(f"join: {n} passages over {days:g} days at {rate_h}/h (10x a busy gate, {lanes} lanes), "
          f"{sent} notices; decisions {decisions}")
    print(f"  {n / total:,.0f} passages/s (with their notices) through the join; decide median "
          f"{statistics.median(times) * 1000:.0f} us, p99 {_pct(times, 99) * 1000:.0f} us")
    print(f"  state at the end: {join.book.size()} notice versions held of {sent} sent "
          f"({join.book.size() / sent:.3f}), {len(join.recent)} recent passages, {state / 1e6:.1f} MB pickled")


def main() -> None:
    """Run both parts."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="scenario repetitions through the OCR flow")
    ap.add_argument("--days", type=float, default=7.0, help="simulated days for the join alone")
    ap.add_argument("--lanes", type=int, default=1, help="lanes of 250 trucks/hour (the join runs 10x that)")
    ap.add_argument("--skip-flow", action="store_true")
    args = ap.parse_args()
    if not args.skip_flow:
        bench_flow(args.repeat)
    bench_join(args.days, args.lanes)


if __name__ == "__main__":
    main()
