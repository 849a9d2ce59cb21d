"""``quaywatch gate``: the officer's screen of passages and decisions, and the decision scenario simulator."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.config import load_config
from flows.run import open_warehouse


def add_parsers(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``quaywatch gate passages`` and ``quaywatch gate simulate``."""
    g = sub.add_parser("gate", help="gate passages, reads, notices and barrier decisions")
    gsub = g.add_subparsers(required=True, metavar="WHAT")
    p = gsub.add_parser("passages", help="every passage since a time: reads, notice, decision, reasons, frames")
    p.add_argument("--since", required=True, help="ISO 8601 time (event time of the passage)")
    p.add_argument("--lane", help="only this lane")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    common(p)
    p.set_defaults(func=cmd_passages)
    s = gsub.add_parser("simulate", help="write the decision scenario (frames, pre-gate notices, expected decisions)")
    s.add_argument("--out", type=Path, required=True, help="replay directory to write")
    s.add_argument("--seed", type=int, default=11)
    s.add_argument("--repeat", type=int, default=1, help="repeat the scenario list (one passage per rule)")
    s.set_defaults(func=cmd_simulate)
    d = gsub.add_parser("demo", help="simulate the decision scenario and a shift, run the gate flow, print decisions")
    d.add_argument("--repeat", type=int, default=1, help="repeat the scenario list (one passage per rule)")
    common(d)
    d.set_defaults(func=cmd_demo)


def passages_sql(db: str, lane: bool) -> str:
    """The officer's screen: one row per passage with its fused reads, notice, decision and frame keys."""
    return (
        "SELECT p.passage_id AS passage, p.lane_id AS lane, p.started_at AS at, p.plate AS plate, "
        "p.trailer_plate AS trailer, p.containers AS containers, p.size_type AS size_type, "
        "p.hazard_placard AS placard, p.seal AS seal, d.notice_id AS notice, d.decision AS decision, "
        "d.reasons AS reasons, d.latency_ms AS latency_ms, p.frame_keys AS frames "
        f"FROM {db}.gate_passages AS p LEFT JOIN {db}.gate_decisions AS d ON d.passage_id = p.passage_id "
        "WHERE p.started_at >= {since:DateTime64(3, 'UTC')}" + (" AND p.lane_id = {lane:String}" if lane else "")
        + " ORDER BY p.started_at, p.passage_id")


def cmd_passages(args: argparse.Namespace) -> int:
    """``quaywatch gate passages --since TIME``."""
    from flows.cli import write_result

    try:
        since = datetime.fromisoformat(args.since.replace("Z", "+00:00"))
    except ValueError:
        print(f"error: --since {args.since!r} is not an ISO 8601 time", file=sys.stderr)
        return 2
    since = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
    cfg = load_config(args.config)
    _dsn, client = open_warehouse(cfg, args.warehouse, args.data_dir)
    params: dict[str, Any] = {"since": since.replace(tzinfo=None)}
    if args.lane:
        params["lane"] = args.lane
    res = client.query(passages_sql(cfg.warehouse.database, bool(args.lane)), parameters=params,
                       settings={"final": 1})
    write_result(sys.stdout, list(res.column_names), res.result_rows, args.format)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """``quaywatch gate simulate --out DIR``."""
    from connectors.simulate.gate_pregate import SCENARIOS, write_scenario

    truth = write_scenario(args.out, tuple(SCENARIOS) * args.repeat, seed=args.seed)
    print(f"wrote {args.out} ({len(truth)} passages: gate.frames/, gate.pregate.jsonl, decisions_truth.jsonl)",
          file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``quaywatch gate demo``: one passage per rule through OCR and the decisions, then the counts."""
    from connectors.simulate.gate_pregate import SCENARIOS, write_scenario
    from flows.cli import write_result
    from flows.run import RunOptions, run_flow

    cfg = load_config(args.config)
    out = args.data_dir / "replays" / "gate-decisions"
    truth = write_scenario(out, tuple(SCENARIOS) * args.repeat)
    print(f"gate: {len(truth)} passages (one per rule) in {out}; reading frames and deciding ...", file=sys.stderr)
    run_flow("gate", cfg, RunOptions(f"file:{out}", args.warehouse, args.data_dir))
    _dsn, client = open_warehouse(cfg, args.warehouse, args.data_dir)
    db = cfg.warehouse.database
    ids = [t["passage_id"] for t in truth]
    res = client.query(f"SELECT decision, arrayStringConcat(reasons, ',') AS reasons, count() AS passages, "
                       f"round(median(latency_ms)) AS median_latency_ms FROM {db}.gate_decisions "
                       "WHERE passage_id IN {ids:Array(String)} GROUP BY decision, reasons ORDER BY decision, reasons",
                       parameters={"ids": ids}, settings={"final": 1})
    write_result(sys.stdout, list(res.column_names), res.result_rows, "table")
    got = {r[0]: r[1] for r in client.query(f"SELECT passage_id, decision FROM {db}.gate_decisions "
                                            "WHERE passage_id IN {ids:Array(String)}", parameters={"ids": ids},
                                            settings={"final": 1}).result_rows}
    agree = sum(got.get(t["passage_id"]) == t["decision"] for t in truth)
    print(f"{agree}/{len(truth)} passages got the decision the rules give for their scenario", file=sys.stderr)
    from flows.gate_exit_demo import run_exit_demo

    run_exit_demo(cfg, args)
    from flows.gate_shift_cli import shift_demo

    shift_demo(cfg, args.warehouse, args.data_dir)
    return 0
