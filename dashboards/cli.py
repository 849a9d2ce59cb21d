"""``quaywatch dashboards build|push|check``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any


def add_parsers(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``dashboards build``, ``dashboards push`` and ``dashboards check`` to the command line.

    Args:
        sub: The top-level subparsers.
        common: Adds ``--config``, ``--data-dir`` and ``--warehouse``.
    """
    d = sub.add_parser("dashboards", help="Grafana dashboards as code: generate, push, check against a warehouse")
    dsub = d.add_subparsers(required=True, metavar="WHAT")
    b = dsub.add_parser("build", help="regenerate dashboards/json/ from the code")
    b.add_argument("--check", action="store_true", help="only report stale files (exit 1 when any)")
    b.set_defaults(func=cmd_build)
    p = dsub.add_parser("push", help="create/update the folder, datasource and dashboards in a Grafana (by uid)")
    p.add_argument("--grafana-url", required=True)
    p.add_argument("--token", required=True, help="service-account token")
    p.add_argument("--with-datasource", action="store_true",
                   help="also create/update the ClickHouse datasource (QUAYWATCH_CLICKHOUSE_HOST, "
                        "QUAYWATCH_GRAFANA_CH_PASSWORD from the environment)")
    p.set_defaults(func=cmd_push)
    c = dsub.add_parser("check", help="run every panel's query against the warehouse, macros expanded")
    common(c)
    c.add_argument("--hours", type=float, default=24.0, help="time range: the last N hours")
    c.set_defaults(func=cmd_check)


def cmd_build(args: argparse.Namespace) -> int:
    """``quaywatch dashboards build``."""
    from dashboards.build import JSON_DIR, stale, write

    if args.check:
        bad = stale()
        for name in bad:
            print(f"stale: {JSON_DIR / name}")
        return 1 if bad else 0
    for path in write():
        print(f"wrote {path}")
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    """``quaywatch dashboards push``."""
    from dashboards.push import push

    res = push(args.grafana_url, args.token, with_datasource=args.with_datasource)
    print(f"folder {res.folder}; datasource {res.datasource or 'not pushed'}; dashboards: {', '.join(res.dashboards)}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """``quaywatch dashboards check``: exit 1 when a panel's query fails or returns other columns."""
    from dashboards.boards import all_boards
    from dashboards.check import context, run_panel
    from flows.config import load_config
    from flows.run import open_warehouse

    cfg = load_config(args.config)
    _dsn, client = open_warehouse(cfg, args.warehouse, args.data_dir)
    client.database = cfg.warehouse.database
    to = datetime.now(UTC)
    bad = 0
    for board in all_boards():
        ctx = context(client, board, to - timedelta(hours=args.hours), to)
        for panel in board.panels:
            try:
                res = run_panel(client, panel, ctx)
                problems = res.problems if res.rows else []
                status = "; ".join(problems) or f"ok ({len(res.rows)} rows)"
            except Exception as e:  # report every panel, not only the first failure
                problems, status = [str(e)], f"FAILED: {str(e).splitlines()[0]}"
            bad += bool(problems)
            print(f"{board.uid} / {panel.title}: {status}")
    if bad:
        print(f"{bad} panel(s) failed", file=sys.stderr)
    return 1 if bad else 0
