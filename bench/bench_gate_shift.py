"""Gate shift benchmark: passages per second through the gate flow on simulated camera reads, against the join alone.

The shift of the demo (:mod:`connectors.simulate.gate_shift`), scaled by ``--hours`` and ``--lanes``, measured three
ways in the same run over the same passages and notices:

1. join alone (baseline): the passages already fused (views) and the decoded notices fed to
   :class:`~operators.gate_join.PregateJoin` in event-time order;
2. operators: read records decoded, grouped by lane (:class:`~operators.gate_passages.LanePassages`), fused and
   joined, in one Python loop (no Bytewax, no warehouse);
3. flow: ``quaywatch run gate`` on the replay directory (Bytewax, every row written to an embedded chDB warehouse),
   with the first-decision latency (read record of the LPR frame in → decision) median and p99.

Figures are passages/s and the ratio to the join alone. Usage:
``.venv/bin/python bench/bench_gate_shift.py [--hours 24] [--lanes 4]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from connectors.replay import ReplayPartition
from connectors.simulate.gate_shift import ShiftScenario, simulate_shift
from connectors.warehouse.client import connect
from flows.config import load_config
from flows.run import RunOptions, run_flow
from operators.gate_decision_rows import passage_view
from operators.gate_fusion import fuse
from operators.gate_join import PregateJoin
from operators.gate_passages import ClosedPassage, LanePassages, OpenPassage
from operators.gate_read_events import decode_read
from operators.pregate import decode_notice


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def merged_lines(out: Path) -> list[tuple[str, str]]:
    """``(stream, line)`` of the replay in event-time order, as the flow's replay source merges them."""
    part = ReplayPartition({s: out / f"{s}.jsonl" for s in ("gate.reads", "gate.pregate")}, 10_000, None)
    lines: list[tuple[str, str]] = []
    try:
        while True:
            lines += [(e.stream, str(e.payload)) for e in part.next_batch()]
    except StopIteration:
        part.close()
    return lines


def operators_pass(out: Path) -> tuple[float, list[object]]:
    """Decode, group, fuse and join in one loop; returns (seconds, the join's input items in order)."""
    lines = merged_lines(out)
    items: list[object] = []
    started = time.perf_counter()
    lanes: dict[str, LanePassages] = {}
    join = PregateJoin()
    for stream, text in lines:
        if stream == "gate.pregate":
            n = decode_notice(text)
            items.append(n)
            join.on_notice(n)
            continue
        meta, key, read = decode_read(text)
        lane = lanes.setdefault(meta.lane_id, LanePassages(10.0, 64))
        pid, closed = lane.on_frame(key, meta, read)
        views = [passage_view(c) for c in closed]
        cur = lane.open
        if meta.checkpoint == 2 and cur is not None and cur.passage_id == pid:
            snap = OpenPassage(cur.passage_id, cur.gate_id, cur.lane_id, list(cur.frames), cur.edition)
            views.append(passage_view(ClosedPassage(snap, fuse([(k, r) for k, _m, r in snap.frames]))))
        for v in views:
            items.append(v)
            join.on_passage(v)
    for lane in lanes.values():
        for c in lane.finish():
            v = passage_view(c)
            items.append(v)
            join.on_passage(v)
    return time.perf_counter() - started, items


def join_pass(items: list[object]) -> float:
    """The join alone over the same items."""
    from operators.pregate import Notice

    join = PregateJoin()
    started = time.perf_counter()
    for it in items:
        if isinstance(it, Notice):
            join.on_notice(it)
        else:
            join.on_passage(it)  # type: ignore[arg-type]
    return time.perf_counter() - started


def main() -> None:
    """Run the three measurements and print them against the join alone."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--lanes", type=int, default=4)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "shift"
        sc = ShiftScenario(hours=args.hours, lanes=args.lanes)
        truth = simulate_shift(out, sc)
        n = len(truth)
        reads = sum(1 for _ in (out / "gate.reads.jsonl").open())
        t_ops, items = operators_pass(out)
        t_join = min(join_pass(items) for _ in range(3))
        cfg = load_config(environ={})
        cfg = replace(cfg, warehouse=replace(cfg.warehouse, database="bench"))
        dsn = f"chdb://{tmp}/wh"
        started = time.perf_counter()
        run_flow("gate", cfg, RunOptions(f"file:{out}", dsn, Path(tmp) / "data"))
        t_flow = time.perf_counter() - started
        c = connect(dsn)
        lat = [float(r[0]) for r in c.query("SELECT latency_ms FROM bench.gate_decisions WHERE edition = 0 "
                                            "AND latency_ms IS NOT NULL").result_rows]
        decided = c.query("SELECT count() FROM bench.gate_decisions FINAL").result_rows[0][0]
    base = n / t_join
    print(f"shift: {n} passages ({reads} read records) on {args.lanes} lanes over {args.hours:g} h; "
          f"{decided} decided by the flow")
    print(f"  join alone (baseline)                 {base:10,.0f} passages/s   1.00")
    print(f"  decode + lanes + fusion + join         {n / t_ops:10,.0f} passages/s   {n / t_ops / base:.3f}")
    print(f"  gate flow (Bytewax + chDB warehouse)   {n / t_flow:10,.0f} passages/s   {n / t_flow / base:.3f}"
          f"   (run {t_flow:.1f} s incl. start-up)")
    if lat:
        print(f"  flow first-decision latency (LPR read in -> decision): median {statistics.median(lat):.1f} ms, "
              f"p99 {_pct(lat, 99):.1f} ms")


if __name__ == "__main__":
    main()
