"""Volume corrections per second: scalar ``correct`` vs vectorised ``correct_batch``, with peak memory.

Usage: .venv/bin/python bench/bench_corrections.py [--rows 1000000] [--scalar-rows 20000]
                                                  [--chunks 1000,10000,1000000]

Realistic meter cases: diesel (refined, ρ15 820–845), gasoline (refined, ρ15 720–775) and crude
(crude, ρ15 820–900) in equal shares; line temperature 5–40 °C, gauge pressure 0–1000 kPa; 90 % of
the rows carry the densitometer's observed density at line conditions, 10 % a density already at
15 °C (lab value); inputs rounded per §11.1.5.4 (``round_inputs=True``), as in production.

Stages, each in its own process so that peak RSS is per stage:
  scalar        ``correct`` row by row over --scalar-rows readings
  batch:<n>     ``correct_batch`` over --rows readings in chunks of n rows (one product group per call)
Prints corrections/s per stage, the ratio vectorised/scalar and peak RSS.
Targets: ratio ≥ 20× and ≥ 1M corrections/s vectorised.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from operators.vcf import correct, correct_batch

# product, correction group, ρ15 range kg/m³
PRODUCTS = [("diesel", "refined", (820.0, 845.0)), ("gasoline", "refined", (720.0, 775.0)),
            ("crude", "crude", (820.0, 900.0))]  # fmt: skip
TARGET_RATIO = 20.0
GEN_CHUNK = 10_000
TARGET_RATE = 1_000_000.0


def make_cases(n: int, seed: int) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per product: (group, density, observed, temp_c, pressure_kpa), n rows in total."""
    rng = np.random.default_rng(seed)
    cases = []
    for i, (_, group, (lo, hi)) in enumerate(PRODUCTS):
        m = n // len(PRODUCTS) + (1 if i < n % len(PRODUCTS) else 0)
        rho15 = rng.uniform(lo, hi, m)
        temp = rng.uniform(5.0, 40.0, m)
        pressure = rng.uniform(0.0, 1000.0, m)
        # What the densitometer would read at line conditions: ρ = ρ15 × CTPL(15 °C → t, P),
        # computed in small chunks so that generating the data does not set the peak RSS.
        ctpl = np.empty(m)
        for s in range(0, m, GEN_CHUNK):
            e = s + GEN_CHUNK
            ctpl[s:e] = correct_batch(group, rho15[s:e], False, temp[s:e], pressure[s:e], round_inputs=False).ctpl_raw
        observed = rng.random(m) < 0.9
        density = np.where(observed, rho15 * ctpl, rho15)
        cases.append((group, density, observed, temp, pressure))
    return cases


def run_scalar(n: int, seed: int) -> float:
    rows = []
    for group, density, observed, temp, pressure in make_cases(n, seed):
        basis = np.where(observed, "observed", "15c")
        rows += list(zip([group] * density.size, density.tolist(), basis.tolist(), temp.tolist(),
                         pressure.tolist(), strict=True))  # fmt: skip
    t0 = time.perf_counter()
    for row in rows:
        correct(*row)
    return time.perf_counter() - t0


def run_batch(n: int, chunk: int, seed: int) -> float:
    cases = make_cases(n, seed)
    t0 = time.perf_counter()
    for group, density, observed, temp, pressure in cases:
        for s in range(0, density.size, chunk):
            e = s + chunk
            out = correct_batch(group, density[s:e], observed[s:e], temp[s:e], pressure[s:e])
            if out.error.count(None) != out.ctl.size:
                raise SystemExit(f"unexpected error rows: {[x for x in out.error if x][:3]}")
    return time.perf_counter() - t0


def stage_main(args: argparse.Namespace) -> None:
    if args.stage == "scalar":
        rows, seconds = args.scalar_rows, run_scalar(args.scalar_rows, args.seed)
    else:
        rows, seconds = args.rows, run_batch(args.rows, args.chunk, args.seed)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_rss_mb": peak_mb}))


def run_stage(argv: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, *argv], check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="rows for the vectorised stages")
    p.add_argument("--scalar-rows", type=int, default=20_000, help="rows for the scalar stage")
    p.add_argument("--chunks", default="1000,10000,1000000", help="chunk sizes of the vectorised stages")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--stage", choices=["scalar", "batch"], help=argparse.SUPPRESS)
    p.add_argument("--chunk", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.stage:
        stage_main(args)
        return

    common = ["--rows", str(args.rows), "--scalar-rows", str(args.scalar_rows), "--seed", str(args.seed)]
    scalar = run_stage([*common, "--stage", "scalar"])
    scalar_rate = scalar["rows"] / scalar["seconds"]
    print(f"{'stage':<16}{'rows':>10}{'seconds':>10}{'corrections/s':>16}{'vs scalar':>11}{'peak RSS':>11}")
    print(f"{'scalar correct':<16}{scalar['rows']:>10.0f}{scalar['seconds']:>10.3f}{scalar_rate:>16,.0f}"
          f"{1.0:>10.1f}x{scalar['peak_rss_mb']:>8.0f} MB")  # fmt: skip
    best = 0.0
    for chunk in (int(c) for c in args.chunks.split(",")):
        res = run_stage([*common, "--stage", "batch", "--chunk", str(chunk)])
        rate = res["rows"] / res["seconds"]
        best = max(best, rate)
        print(f"{f'batch {chunk}':<16}{res['rows']:>10.0f}{res['seconds']:>10.3f}{rate:>16,.0f}"
              f"{rate / scalar_rate:>10.1f}x{res['peak_rss_mb']:>8.0f} MB")  # fmt: skip
    ratio = best / scalar_rate
    print(f"targets: vectorised/scalar ≥ {TARGET_RATIO:.0f}x: {'met' if ratio >= TARGET_RATIO else 'NOT met'} "
          f"({ratio:.1f}x); ≥ {TARGET_RATE:,.0f} corrections/s: "
          f"{'met' if best >= TARGET_RATE else 'NOT met'} ({best:,.0f}/s, best chunk size)")  # fmt: skip


if __name__ == "__main__":
    main()
