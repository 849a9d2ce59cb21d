"""Weighings per second through the VGM flow, against the pure rules alone, measured in the same run.

Usage: python bench/bench_vgm.py [--containers 20000] [--keep DIR]

Stages over the same simulated replay directory (weighings + declarations):
  rules    decode + the ordered VGM state (pairing, checks, numbering, audit chain) in a plain loop: baseline
  flow     the same inside Bytewax (replay source, one state key) with a sink that only counts rows
  full     the real flow: Bytewax → batched, deduplicated inserts into chDB
Prints weighings/s per stage and each stage's time as a ratio of the baseline.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def _rules(replay: Path) -> int:
    from connectors.replay import ReplayDirSource
    from flows.config import load_config
    from operators.events import DeadLetter
    from operators.vgm_events import VGM_STREAMS, VgmDecoder
    from operators.vgm_state import VgmState

    policy = load_config(environ={}).vgm
    part = ReplayDirSource(replay, VGM_STREAMS).build_part("b", "replay", None)
    dec, state, rows = VgmDecoder("vgm", policy), VgmState(), 0
    try:
        while True:
            events = [e for e in dec.decode_batch(part.next_batch()) if not isinstance(e, DeadLetter)]
            out = state.offer(events, policy)
            rows += sum(len(r) for r in out.rows.values()) + len(out.violations)
    except StopIteration:
        out = state.flush(policy)
        rows += sum(len(r) for r in out.rows.values()) + len(out.violations)
    return rows


def _flow(replay: Path) -> int:
    import bytewax.operators as op
    from bytewax.outputs import DynamicSink, StatelessSinkPartition
    from bytewax.testing import run_main

    from connectors.replay import ReplayDirSource
    from flows import vgm
    from flows.config import load_config
    from flows.io import FlowIO
    from operators.rows import Rows

    count = [0]

    class _Part(StatelessSinkPartition[Rows]):
        def write_batch(self, items: list[Rows]) -> None:
            count[0] += sum(len(r) for r in items)

    class _Sink(DynamicSink[Rows]):
        def build(self, step_id: str, worker_index: int, worker_count: int) -> _Part:
            return _Part()

    source = ReplayDirSource(replay, vgm.STREAMS)
    flow = vgm.build_flow(load_config(environ={}), FlowIO(lambda f: (op.input("replay", f, source), None), _Sink()))
    run_main(flow)
    return count[0]


def _full(replay: Path, work: Path) -> int:
    from flows.config import load_config
    from flows.run import RunOptions, run_flow

    res = run_flow("vgm", load_config(environ={}), RunOptions(f"file:{replay}", f"chdb://{work / 'warehouse'}", work))
    return sum(res.inserted_rows.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--containers", type=int, default=20_000)
    ap.add_argument("--keep", type=Path, help="reuse/keep the replay directory here")
    args = ap.parse_args()

    from connectors.simulate.vgm import VgmScenario, simulate_vgm
    from flows.config import load_config

    tmp = Path(tempfile.mkdtemp(prefix="qw-bench-vgm-"))
    replay = args.keep or tmp / "replay"
    if not (replay / "vgm.weighings.jsonl").exists():
        t0 = time.perf_counter()
        simulate_vgm(load_config(environ={}).vgm, VgmScenario(containers=args.containers), replay, seed=1)
        print(f"generated {replay} in {time.perf_counter() - t0:.1f} s")
    n_w = sum(1 for _ in (replay / "vgm.weighings.jsonl").open())
    n_d = sum(1 for _ in (replay / "vgm.declarations.jsonl").open())
    results: dict[str, tuple[float, int]] = {}
    for stage in ("rules", "flow", "full"):
        t0 = time.perf_counter()
        rows = _rules(replay) if stage == "rules" else _flow(replay) if stage == "flow" else _full(replay, tmp)
        results[stage] = (time.perf_counter() - t0, rows)
    base = results["rules"][0]
    print(f"\nVGM flow benchmark: {n_w:,} weighings + {n_d:,} declarations, 1 Bytewax worker")
    print(f"{'stage':<8}{'wall s':>9}{'weighings/s':>14}{'rows out':>11}{'time / rules':>14}")
    for stage, (wall, rows) in results.items():
        print(f"{stage:<8}{wall:>9.2f}{n_w / wall:>14,.0f}{rows:>11,}{wall / base:>14.2f}")


if __name__ == "__main__":
    main()
