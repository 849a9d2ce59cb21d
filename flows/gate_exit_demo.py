"""The gate-out part of ``quaywatch gate demo``: containers flow → exit status → gate decisions at exit."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from flows.config import Config
from flows.run import RunOptions, open_warehouse, run_flow
from operators.exit_status import STREAM_EXIT_STATUS


def run_exit_demo(cfg: Config, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Simulate the gate-out scenario, run both flows on it and print each truck's decision.

    The containers flow replays the port events and publishes the exit status into the gate's replay directory;
    the gate flow then reads frames, gate-out notices and that status.

    Args:
        cfg: Site configuration.
        args: ``--warehouse`` and ``--data-dir`` of the command.

    Returns:
        The scenario truth.
    """
    from connectors.simulate.gate_exits import write_exit_scenario
    from flows.cli import write_result

    base = args.data_dir / "replays" / "gate-exits"
    port_dir, gate_dir = base / "port", base / "gate"
    truth = write_exit_scenario(port_dir, gate_dir)
    print(f"gate-out: {len(truth)} trucks leaving (X-ray hold, released, no storage exit, one declaration on three "
          f"vehicles); containers flow → {gate_dir / (STREAM_EXIT_STATUS + '.jsonl')} → gate ...", file=sys.stderr)
    run_flow("containers", cfg, RunOptions(f"file:{port_dir}", args.warehouse, args.data_dir, publish_dir=gate_dir,
                                           publish_names=(STREAM_EXIT_STATUS,)))
    run_flow("gate", cfg, RunOptions(f"file:{gate_dir}", args.warehouse, args.data_dir))
    _dsn, client = open_warehouse(cfg, args.warehouse, args.data_dir)
    db = cfg.warehouse.database
    got = {r[0]: (r[1], list(r[2])) for r in client.query(
        f"SELECT passage_id, decision, reasons FROM {db}.gate_decisions WHERE passage_id IN {{ids:Array(String)}}",
        parameters={"ids": [t["passage_id"] for t in truth]}, settings={"final": 1}).result_rows}
    rows = [(t["scenario"], t["container"], *got.get(t["passage_id"], ("?", [])), t["decision"]) for t in truth]
    write_result(sys.stdout, ["scenario", "container", "decision", "reasons", "expected"],
                 [(s, c, d, ",".join(r), e) for s, c, d, r, e in rows], "table")
    agree = sum(d == e for _s, _c, d, _r, e in rows)
    print(f"{agree}/{len(truth)} gate-out trucks got the decision the rules give for their scenario", file=sys.stderr)
    return truth
