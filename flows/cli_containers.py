"""``quaywatch containers status|history NUMBER`` and ``quaywatch containers demo``."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from connectors.warehouse.container_queries import container_alerts, container_history, container_state
from flows.config import load_config
from flows.run import RunOptions, open_warehouse, run_flow
from operators.container_state import exit_answer_from_row

STATE_FIELDS = ("status", "customs_status", "holds", "vessel_call_id", "summary_declaration_no", "bl_no",
                "declaration_no", "load_status", "foreign", "seal_no", "discharged_at", "storage_entered_at",
                "storage_exited_at", "tracking_form_no", "tracking_form_status", "exited_at", "ts")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser],
               common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``containers`` command and its ``status`` and ``history`` subcommands."""
    c = sub.add_parser("containers", help="a container's customs state, may-exit answer and history")
    csub = c.add_subparsers(required=True, metavar="ACTION")
    s = csub.add_parser("status", help="current state and whether it may leave (exit 0 may leave, 1 not)")
    common(s)
    s.add_argument("number", help="container number (ISO 6346)")
    s.set_defaults(func=cmd_status)
    h = csub.add_parser("history", help="every recorded event and alert of a container")
    common(h)
    h.add_argument("number")
    h.add_argument("--format", choices=("json", "csv", "table"), default="table")
    h.set_defaults(func=cmd_history)
    d = csub.add_parser("demo", help="simulate two vessel calls with planted discrepancies, run the flow, "
                                     "show what it found against what was planted")
    common(d)
    d.add_argument("--containers", type=int, default=2000, help="containers on the first vessel call")
    d.add_argument("--seed", type=int, default=7)
    d.set_defaults(func=cmd_demo)


def cmd_status(args: argparse.Namespace) -> int:
    """Print a container's state and the may-exit answer; exit code 0 when it may leave, 1 when not."""
    from flows.cli import _plain

    cfg = load_config(args.config)
    _dsn, client = open_warehouse(cfg, args.warehouse, args.data_dir)
    row = container_state(client, cfg.warehouse.database, args.number)
    if row is None:
        print(f"{args.number}: unknown to the port (no events recorded): may not leave")
        return 1
    answer = exit_answer_from_row(row)
    print(f"container {row['container_no']}")
    for name in STATE_FIELDS:
        v = row[name]
        print(f"  {name:24} {', '.join(v) if isinstance(v, list) else _plain(v) if v is not None else ''}")
    if answer.allowed:
        print("may exit: yes")
    else:
        print("may exit: NO — " + answer.reason)
    return 0 if answer.allowed else 1


def cmd_history(args: argparse.Namespace) -> int:
    """Print a container's events and alerts."""
    from flows.cli import write_result

    cfg = load_config(args.config)
    _dsn, client = open_warehouse(cfg, args.warehouse, args.data_dir)
    names, rows = container_history(client, cfg.warehouse.database, args.number)
    write_result(sys.stdout, names, rows, args.format)
    names, rows = container_alerts(client, cfg.warehouse.database, args.number)
    if rows:
        print()
        write_result(sys.stdout, names, rows, args.format)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Simulate, run the containers flow into the embedded warehouse, compare the alerts with the truth."""
    from connectors.simulate.containers import simulate_containers
    from connectors.warehouse.client import connect, redact
    from flows.cli import write_result

    cfg = load_config(args.config)
    replay = args.data_dir / "containers-demo" / "replay"
    print(f"1/3 simulating two vessel calls ({args.containers} + 5 containers) into {replay} (seed {args.seed}) ...")
    truth = simulate_containers(replay, datetime(2026, 3, 1, 6, tzinfo=UTC), seed=args.seed,
                                containers=args.containers)
    print("2/3 running the containers flow (Bytewax) into the embedded warehouse (chDB) ...")
    t0 = time.perf_counter()
    res = run_flow("containers", cfg, RunOptions(f"file:{replay}", args.warehouse, args.data_dir))
    print(f"    {truth['events']} events in {time.perf_counter() - t0:.1f} s -> {redact(res.dsn)}")
    client, db = connect(res.dsn), cfg.warehouse.database
    planted = Counter(a["kind"] for a in truth["expected_alerts"])
    found = Counter(str(r[0]) for r in client.query(
        f"SELECT kind FROM {db}.alerts WHERE flow = 'containers' AND status = 'open'",
        settings={"final": 1}).result_rows)
    print("3/3 results\n\n== Alerts: found by the flow vs planted by the simulator")
    write_result(sys.stdout, ["kind", "found", "planted"],
                 [(k, found.get(k, 0), planted.get(k, 0)) for k in sorted(set(planted) | set(found))], "table")
    print("\n== Discharge list vs summary declarations, where they differ (discharge_reconciliation)")
    r = client.query(f"SELECT vessel_call_id, summary_declaration_no, bl_no, level, declared, discharged, missing, "
                     f"surplus, status FROM {db}.discharge_reconciliation WHERE missing_count + surplus_count > 0 "
                     "ORDER BY vessel_call_id, summary_declaration_no, bl_no", settings={"final": 1})
    write_result(sys.stdout, list(r.column_names), r.result_rows, "table")
    print("\n== Containers in the port that may not leave now (container_state)")
    r = client.query(f"SELECT container_no, status, customs_status, hold_reason FROM {db}.container_state "
                     "WHERE NOT may_exit AND status NOT IN ('exited', 'loaded') ORDER BY container_no LIMIT 10",
                     settings={"final": 1})
    write_result(sys.stdout, list(r.column_names), r.result_rows, "table")
    print("\nAsk about one container: quaywatch containers status NUMBER / quaywatch containers history NUMBER")
    return 0 if found == planted else 1  # exit 1 tells a script the flow and the truth disagree
