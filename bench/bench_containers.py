"""Port events per second through the containers flow vs its pure state machines alone, and the state size.

Usage: python bench/bench_containers.py [--containers 75000] [--step-s 35] [--keep DIR]

One replay directory from the seeded simulator (a vessel call of N containers discharged one every
``step-s`` seconds, each stored, maybe inspected, and let out 2–28 days later; then a second call), measured
in the same run:
  pure   decoding + ContainerTracker per container + DischargeReconciler + StorageClock, a plain Python loop
         (state dropped on the clock's expiries, as the flow does): the baseline
  flow   the Bytewax dataflow with a sink that only counts (no warehouse)
  full   the real run: Bytewax dataflow into the embedded warehouse (chDB)
Prints events/s per stage, each stage's ratio to the pure baseline, and the state held at the end of the
pure run (peak and final containers held, vessel-call entries, storage entries, pickled bytes). The
defaults, 75,000 containers one every 35 s, are a month of a large terminal: ~2,500 discharges and
~2,500 gate exits a day (~5,000 moves).
"""

from __future__ import annotations

import argparse
import gc
import pickle
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _raw_events(replay: Path) -> list[Any]:
    from connectors.replay import ReplayDirSource
    from operators.port_events import PORT_STREAMS

    part = ReplayDirSource(replay, PORT_STREAMS).build_part("bench", "replay", None)
    out: list[Any] = []
    try:
        while True:
            out.extend(part.next_batch())
    except StopIteration:
        pass
    part.close()
    return out


def pure(raws: list[Any]) -> tuple[float, dict[str, int]]:
    from flows.config import load_config
    from flows.containers import container_params, discharge_params, storage_params
    from operators.container_state import ContainerTracker
    from operators.discharge_reconciliation import DischargeReconciler
    from operators.port_events import CONTAINER_KEY, KEY_CLOCK, KEY_DISCHARGE, PortDecoder
    from operators.storage_clock import StorageClock

    cfg = load_config(environ={})
    cp, dp, sp = container_params(cfg), discharge_params(cfg), storage_params(cfg)
    dec = PortDecoder("bench")
    trackers: dict[str, ContainerTracker] = {}
    recon, clock = DischargeReconciler(dp), StorageClock(sp)
    peak = 0
    t0 = time.perf_counter()
    for i in range(0, len(raws), 1000):
        for key, item in dec.decode_batch(raws[i:i + 1000]):
            if key.startswith(CONTAINER_KEY):
                no = key[len(CONTAINER_KEY):]
                t = trackers.get(no)
                if t is None:
                    t = trackers[no] = ContainerTracker(no, cp)
                t.on_event(item)
            elif key == KEY_DISCHARGE:
                recon.on_item(item)
            elif key == KEY_CLOCK:
                for e in clock.on_item(item).expires:
                    trackers.pop(e.container_no, None)
        peak = max(peak, len(trackers))
    recon.finish()
    clock.finish()
    wall = time.perf_counter() - t0
    size = {"peak_containers": peak, "containers": len(trackers), "vessel_call_entries": recon.size(),
            "storage_entries": clock.size(), "pickled_bytes": len(pickle.dumps((trackers, recon, clock)))}
    return wall, size


def flow(replay: Path, work: Path, warehouse: bool) -> float:
    from bytewax.outputs import DynamicSink, StatelessSinkPartition
    from bytewax.testing import run_main

    from flows.config import load_config
    from flows.run import RunOptions, build, run_flow

    cfg = load_config(environ={})
    t0 = time.perf_counter()
    if warehouse:
        run_flow("containers", cfg, RunOptions(f"file:{replay}", f"chdb://{work / 'warehouse'}", work))
        return time.perf_counter() - t0

    class _Part(StatelessSinkPartition[Any]):
        def write_batch(self, items: list[Any]) -> None:
            pass

    class _Sink(DynamicSink[Any]):
        def build(self, step_id: str, worker_index: int, worker_count: int) -> _Part:
            return _Part()

    run_main(build("containers", cfg, RunOptions(f"file:{replay}"), _Sink()))  # type: ignore[arg-type]
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--containers", type=int, default=75_000)
    ap.add_argument("--step-s", type=float, default=35.0, help="seconds between discharges")
    ap.add_argument("--keep", type=Path, help="reuse/keep the replay directory here")
    args = ap.parse_args()
    from connectors.simulate.containers import simulate_containers

    with tempfile.TemporaryDirectory() as tmp:
        replay = args.keep or Path(tmp) / "replay"
        if not (replay / "truth.json").exists():
            simulate_containers(replay, datetime(2026, 3, 1, 6, tzinfo=UTC), seed=1, containers=args.containers,
                                step_s=args.step_s)
        # the flows first: the pure stage holds every raw record in memory, which would slow the garbage
        # collector of whatever runs after it
        wall_flow = flow(replay, Path(tmp), warehouse=False)
        wall_full = flow(replay, Path(tmp), warehouse=True)
        gc.collect()
        raws = _raw_events(replay)
        n = len(raws)
        print(f"{n} port events ({args.containers} containers on the first call)")
        wall_pure, size = pure(raws)
        for name, wall in (("pure", wall_pure), ("flow", wall_flow), ("full", wall_full)):
            print(f"  {name:5} {n / wall:>10,.0f} events/s  ({wall:6.2f} s)  x{wall_pure / wall:.2f} of pure")
        print("  state at the end of the pure run: " + ", ".join(f"{k} {v:,}" for k, v in size.items()))


if __name__ == "__main__":
    main()
