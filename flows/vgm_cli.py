"""``quaywatch vgm``: reprint a DBA certificate, list the containers that may not be loaded."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
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
