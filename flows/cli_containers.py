"""``quaywatch containers status NUMBER`` and ``quaywatch containers history NUMBER``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from connectors.warehouse.container_queries import container_alerts, container_history, container_state
from flows.config import load_config
from flows.run import open_warehouse
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
