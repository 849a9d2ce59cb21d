"""Meter readings per second through the whole meters flow, replay file → Bytewax → chDB, with peak memory.

Usage: python bench/bench_meters_flow.py [--readings 1000000] [--keep DIR]

Stages, each in its own process (so peak RSS is per stage), over the same replay directory:
  baseline  replay source → Bytewax → a sink that only counts (the floor: reading and merging the files)
  decode    + decoding and validation into columnar chunks, counted, no state, no warehouse
  full      the real flow: decode, corrections, operations, tanks, batched inserts into chDB
Prints readings/s per stage and the ratio of the full flow to the baseline. Target: full ≥ 100k readings/s.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _stage(stage: str, replay: Path, work: Path) -> dict[str, float]:
    import bytewax.operators as op
    from bytewax.dataflow import Dataflow
    from bytewax.outputs import DynamicSink, StatelessSinkPartition
    from bytewax.testing import run_main

    from connectors.replay import ReplayDirSource
    from flows.config import load_config
    from flows.run import RunOptions, run_flow
    from operators.events import METER_STREAMS
    from operators.meter_events import SiteDecoder

    n_readings = sum(1 for _ in (replay / "meter.readings.jsonl").open())
    cfg = load_config(environ={})
    t0 = time.perf_counter()
    if stage == "full":
        res = run_flow("meters", cfg, RunOptions(f"file:{replay}", f"chdb://{work / 'warehouse'}", work))
        rows = sum(res.inserted_rows.values())
    else:
        count = [0]

        class _Part(StatelessSinkPartition[object]):
            def write_batch(self, items: list[object]) -> None:
                count[0] += len(items)

        class _Sink(DynamicSink[object]):
            def build(self, step_id: str, worker_index: int, worker_count: int) -> _Part:
                return _Part()

        flow = Dataflow("bench")
        s = op.input("in", flow, ReplayDirSource(replay, METER_STREAMS))
        if stage == "decode":
            dec = SiteDecoder("bench", (m.meter_id for m in cfg.meters), (t.tank_id for t in cfg.tanks))
            s = op.flat_map_batch("decode", s, dec.decode_batch)
        op.output("out", s, _Sink())
        run_main(flow)
        rows = count[0]
    wall = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"wall_s": wall, "readings": n_readings, "rows_out": rows, "peak_rss_mb": rss_mb}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readings", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, help="reuse/keep the replay directory here")
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--replay", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        print(json.dumps(_stage(args.stage, args.replay, args.work)))
        return

    from connectors.simulate.meters import simulate_readings_file
    from flows.config import load_config

    tmp = Path(tempfile.mkdtemp(prefix="qw-bench-"))
    replay = args.keep or tmp / "replay"
    if not (replay / "meter.readings.jsonl").exists():
        replay.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        simulate_readings_file(load_config(environ={}), replay, args.readings, seed=1)
        print(f"generated {replay} in {time.perf_counter() - t0:.1f} s")
    results = {}
    for stage in ("baseline", "decode", "full"):
        work = tmp / stage
        work.mkdir(parents=True, exist_ok=True)
        out = subprocess.run([sys.executable, __file__, "--stage", stage, "--replay", str(replay), "--work", str(work)],
                             check=True, capture_output=True, text=True)
        results[stage] = json.loads(out.stdout.strip().splitlines()[-1])
    n = results["full"]["readings"]
    print(f"\nmeters flow benchmark: {n:,} meter readings (+ tank and transfer events), 1 Bytewax worker")
    print(f"{'stage':<10}{'wall s':>9}{'readings/s':>14}{'peak RSS MB':>14}")
    for stage, r in results.items():
        print(f"{stage:<10}{r['wall_s']:>9.2f}{n / r['wall_s']:>14,.0f}{r['peak_rss_mb']:>14,.0f}")
    full, base = results["full"], results["baseline"]
    print(f"\nfull flow: {n / full['wall_s']:,.0f} readings/s (target ≥ 100,000), "
          f"{full['rows_out']:,} rows inserted; full/baseline time ratio {full['wall_s'] / base['wall_s']:.2f}")


if __name__ == "__main__":
    main()
