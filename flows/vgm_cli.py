"""``quaywatch vgm``: reprint a DBA certificate, list the containers that may not be loaded."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flows.config import load_config
from flows.run import open_warehouse
from operators.vgm_certificate import certificate_text

_CERT_NO = re.compile(r"^[A-Za-z0-9._/-]{1,80}$")


def add_parsers(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``vgm certificate`` and ``vgm blocked`` to the command line.

    Args:
        sub: The top-level subparsers.
        common: Adds ``--config``, ``--data-dir`` and ``--warehouse``.
    """
    v = sub.add_parser("vgm", help="verified gross mass: reprint certificates, list blocked containers")
    vsub = v.add_subparsers(required=True, metavar="WHAT")
    c = vsub.add_parser("certificate", help="reprint a stored DBA certificate (Art. 14(2)(f))")
    common(c)
    c.add_argument("certificate_no", help="e.g. 33-0117-2026-000042")
    c.add_argument("--json", action="store_true", help="one JSON object instead of the printable text")
    c.set_defaults(func=cmd_certificate)
    b = vsub.add_parser("blocked", help="containers that may not be loaded, with the reason (Art. 8, 12)")
    common(b)
    b.add_argument("--format", choices=("json", "csv", "table"), default="table")
    b.set_defaults(func=cmd_blocked)
    r = vsub.add_parser("report", help="weighings, certificates and fees for a month or a date range (Art. 14(2)(g))")
    common(r)
    r.add_argument("--month", help="YYYY-MM (local dates)")
    r.add_argument("--from", dest="date_from", help="first local date YYYY-MM-DD")
    r.add_argument("--to", dest="date_to", help="last local date YYYY-MM-DD")
    r.add_argument("--format", choices=("json", "csv", "table"), default="table")
    r.set_defaults(func=cmd_report)
    d = vsub.add_parser("demo", help="simulate a day at the weighbridge, run the vgm flow, print the results")
    common(d)
    d.add_argument("--seed", type=int, default=7)
    d.set_defaults(func=cmd_demo)


def cmd_certificate(args: argparse.Namespace) -> int:
    """``quaywatch vgm certificate CERT_NO``."""
    if not _CERT_NO.match(args.certificate_no):
        raise ValueError(f"not a certificate number: {args.certificate_no!r}")
    cfg = load_config(args.config)
    _dsn, client = open_warehouse(cfg, args.warehouse, args.data_dir)
    res = client.query(f"SELECT * FROM {cfg.warehouse.database}.vgm_certificates "
                       f"WHERE certificate_no = '{args.certificate_no}'", settings={"final": 1})
    if not res.result_rows:
        raise ValueError(f"no certificate {args.certificate_no}")
    row = dict(zip(res.column_names, res.result_rows[0], strict=True))
    row = {k: (v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v) for k, v in row.items()}
    if args.json:
        print(json.dumps({k: (v.astimezone(UTC).isoformat().replace("+00:00", "Z") if isinstance(v, datetime)
                              else list(v) if isinstance(v, tuple) else v) for k, v in row.items()},
                         ensure_ascii=False))
    else:
        sys.stdout.write(certificate_text(row))
    return 0


def cmd_blocked(args: argparse.Namespace) -> int:
    """``quaywatch vgm blocked``: the block list."""
    from flows.cli import write_result

    cfg = load_config(args.config)
    _dsn, client = open_warehouse(cfg, args.warehouse, args.data_dir)
    res = client.query(f"SELECT container_number, ts AS since, reason, vgm_kg FROM {cfg.warehouse.database}.vgm_status "
                       "WHERE NOT loadable ORDER BY container_number", settings={"final": 1})
    write_result(sys.stdout, list(res.column_names), res.result_rows, args.format)
    return 0


def _date_range(args: argparse.Namespace) -> tuple[str, str]:
    if args.month:
        first = date.fromisoformat(f"{args.month}-01")
        nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return first.isoformat(), (nxt - timedelta(days=1)).isoformat()
    if not (args.date_from and args.date_to):
        raise ValueError("give --month YYYY-MM, or --from and --to")
    return date.fromisoformat(args.date_from).isoformat(), date.fromisoformat(args.date_to).isoformat()


def cmd_report(args: argparse.Namespace) -> int:
    """``quaywatch vgm report``: per instrument and shipper, certificates issued and control fees due."""
    from flows.cli import write_result

    first, last = _date_range(args)
    cfg = load_config(args.config)
    _dsn, client = open_warehouse(cfg, args.warehouse, args.data_dir)
    db = cfg.warehouse.database
    res = client.query(
        f"SELECT instrument_no, shipper, count() AS certificates, min(certificate_no) AS first_no, "
        f"max(certificate_no) AS last_no, round(sum(vgm_kg)) AS vgm_kg, round(sum(fee), 2) AS fees, "
        f"any(currency) AS currency FROM {db}.vgm_certificates WHERE weighed_on BETWEEN '{first}' AND '{last}' "
        "GROUP BY instrument_no, shipper ORDER BY instrument_no, shipper", settings={"final": 1})
    write_result(sys.stdout, list(res.column_names), res.result_rows, args.format)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``quaywatch vgm demo``: simulated weighbridge day → vgm flow → certificates, violations, block list."""
    from connectors.simulate.vgm import VgmScenario, simulate_vgm
    from connectors.warehouse.client import connect, redact
    from flows.cli import write_result
    from flows.run import RunOptions, run_flow

    cfg = load_config(args.config)
    replay = args.data_dir / "vgm-demo" / "replay"
    print(f"1/3 simulating a day at the weighbridge into {replay} (seed {args.seed}) ...")
    simulate_vgm(cfg.vgm, VgmScenario(), replay, seed=args.seed)
    print("2/3 running the vgm flow (Bytewax) into the warehouse ...")
    res = run_flow("vgm", cfg, RunOptions(f"file:{replay}", args.warehouse, args.data_dir))
    print(f"    wrote {sum(res.inserted_rows.values())} rows to {redact(res.dsn)}\n3/3 results\n")
    client, db = connect(res.dsn), cfg.warehouse.database
    for title, query in (
        ("DBA certificates issued, per instrument (vgm_certificates)",
         f"SELECT instrument_no, year, count() AS issued, min(certificate_no) AS first, max(certificate_no) AS last, "
         f"sum(fee) AS fees FROM {db}.vgm_certificates GROUP BY instrument_no, year ORDER BY instrument_no"),
        ("Violations (vgm_violations)",
         f"SELECT kind, entity_id, container_number, ts FROM {db}.vgm_violations ORDER BY ts"),
        ("Blocked containers (vgm_status: the block list)",
         f"SELECT container_number, reason FROM {db}.vgm_status WHERE NOT loadable ORDER BY container_number"),
    ):
        print(f"== {title}")
        r = client.query(query, settings={"final": 1})
        write_result(sys.stdout, list(r.column_names), r.result_rows, "table")
        print()
    print("Reprint a certificate:  quaywatch vgm certificate <certificate_no> [--json]")
    return 0
