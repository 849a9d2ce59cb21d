"""The gate shift of ``quaywatch gate demo``: a few hundred passages over a simulated shift through the gate flow.

The shift is simulated as camera read records (:mod:`connectors.simulate.gate_shift`), run through the gate flow
(lanes, fusion, pre-gate join, decisions, warehouse) and counted back from the warehouse.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from connectors.simulate.gate_shift import ShiftScenario, planted_counts, simulate_shift
from flows.config import Config
from flows.run import RunOptions, open_warehouse, run_flow


def warehouse_counts(client: Any, db: str, ids: list[str]) -> dict[str, Any]:
    """The shift's counts as the warehouse holds them (same shape as :func:`planted_counts`)."""
    params, final = {"ids": ids}, {"final": 1}
    rows = client.query(f"SELECT decision, reasons, degraded FROM {db}.gate_decisions "
                        "WHERE passage_id IN {ids:Array(String)}", parameters=params, settings=final).result_rows
    status = Counter(r[0] for r in client.query(
        f"SELECT status FROM {db}.gate_registrations WHERE passage_id IN {{ids:Array(String)}}",
        parameters=params, settings=final).result_rows)
    awaiting = client.query(f"SELECT count() FROM {db}.gate_awaiting_regularisation WHERE kind = 'degraded' "
                            "AND passage_id IN {ids:Array(String)}", parameters=params).result_rows[0][0]
    return {"passages": len(rows), "decisions": dict(Counter(r[0] for r in rows)),
            "reasons": dict(Counter(x for r in rows for x in r[1])), "degraded": sum(bool(r[2]) for r in rows),
            "regularised": status.get("regularised", 0), "awaiting": int(awaiting)}


def shift_demo(cfg: Config, warehouse: str, data_dir: Path, sc: ShiftScenario | None = None) -> int:
    """Simulate the shift, run the gate flow on it, print the counts; returns how many passages disagree."""
    from flows.cli import write_result

    sc = sc or ShiftScenario()
    out = data_dir / "replays" / "gate-shift"
    truth = simulate_shift(out, sc)
    outage = sc.start + timedelta(hours=sc.outage_at_h)
    print(f"gate shift: {len(truth)} passages on {sc.lanes} lanes over {sc.hours:g} h from {sc.start:%Y-%m-%d %H:%M}"
          f" (simulated camera reads, the same records OCR writes), pre-gate feed silent {sc.outage_min:g} min "
          f"from {outage:%H:%M}; deciding ...", file=sys.stderr)
    t0 = time.perf_counter()
    run_flow("gate", cfg, RunOptions(f"file:{out}", warehouse, data_dir))
    elapsed = time.perf_counter() - t0
    _dsn, client = open_warehouse(cfg, warehouse, data_dir)
    db = cfg.warehouse.database
    ids = [t["passage_id"] for t in truth]
    res = client.query(f"SELECT decision, arrayStringConcat(reasons, ',') AS reasons, count() AS passages "
                       f"FROM {db}.gate_decisions WHERE passage_id IN {{ids:Array(String)}} "
                       "GROUP BY decision, reasons ORDER BY decision, passages DESC, reasons",
                       parameters={"ids": ids}, settings={"final": 1})
    write_result(sys.stdout, list(res.column_names), res.result_rows, "table")
    got = warehouse_counts(client, db, ids)
    print(f"shift: {got['passages']} passages decided in {elapsed:.1f} s; degraded (admitted in the outage) "
          f"{got['degraded']}, regularised by late notices {got['regularised']}, awaiting regularisation "
          f"{got['awaiting']} (not regularised within 24 h):")
    late = client.query(f"SELECT passage_id, lane_id, ts, plate FROM {db}.gate_awaiting_regularisation "
                        "WHERE kind = 'degraded' AND passage_id IN {ids:Array(String)} ORDER BY ts",
                        parameters={"ids": ids})
    write_result(sys.stdout, list(late.column_names), late.result_rows, "table")
    decided = {r[0]: (r[1], sorted(r[2])) for r in client.query(
        f"SELECT passage_id, decision, reasons FROM {db}.gate_decisions WHERE passage_id IN {{ids:Array(String)}}",
        parameters={"ids": ids}, settings={"final": 1}).result_rows}
    agree = sum(decided.get(t["passage_id"]) == (t["decision"], t["reasons"]) for t in truth)
    same = "agree" if got == planted_counts(truth) else "DIFFER"
    print(f"{agree}/{len(truth)} shift passages got the decision and reasons the simulator planted; "
          f"counts {same} with the plant", file=sys.stderr)
    return len(truth) - agree
