"""``quaywatch audit verify`` and ``quaywatch audit log``: the auditor's view of the hash-chained log (M4)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from connectors.warehouse.audit import chain_names, read_entries, verify_chains
from flows.config import Config, load_config


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser],
               common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``audit`` command and its ``verify`` and ``log`` subcommands."""
    a = sub.add_parser("audit", help="verify or list the hash-chained audit log")
    asub = a.add_subparsers(required=True, metavar="ACTION")
    v = asub.add_parser("verify", help="check every chain's links and the audited rows in the warehouse "
                                       "(exit 0 intact, 1 broken)")
    common(v)
    v.add_argument("--chain", action="append", help="only this chain (repeatable; default: all)")
    v.set_defaults(func=cmd_audit_verify)
    lg = asub.add_parser("log", help="list audit log entries")
    common(lg)
    lg.add_argument("--chain", help="only this chain (default: all)")
    lg.add_argument("--limit", type=int, default=20, help="last N entries per chain (default: 20)")
    lg.set_defaults(func=cmd_audit_log)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """``quaywatch audit verify``: per chain the entry count, head hash and OK or the first broken link.

    Read-only (no migration), so the read-only ``auditor`` user can run it.
    """
    cfg = load_config(args.config)
    client = _read_only_client(cfg, args)
    broken = 0
    for r in verify_chains(client, cfg.warehouse.database, args.chain):
        print(f"{r.chain}: {r.entries} entries, head {r.head}")
        if r.broken is None:
            print("  OK")
            continue
        broken += 1
        b = r.broken
        print(f"  BROKEN at seq {b.seq}" + (f" ({b.subject})" if b.subject else "") + f": {b.reason}")
    return 1 if broken else 0


def cmd_audit_log(args: argparse.Namespace) -> int:
    """``quaywatch audit log``: the last entries of each chain (read-only)."""
    cfg = load_config(args.config)
    client = _read_only_client(cfg, args)
    db = cfg.warehouse.database
    chains = [args.chain] if args.chain else chain_names(client, db)
    for chain in chains:
        for e in read_entries(client, db, chain, limit=args.limit):
            subject = f"{e['subject_table']}/{e['subject_key']}" if e["subject_table"] else e["subject_key"]
            sys.stdout.write(f"{e['chain']}  {e['seq']:>6}  {e['ts']:%Y-%m-%dT%H:%M:%S}Z  {e['entry_type']:<16}  "
                             f"{str(e['hash'])[:16]}  {subject}\n")
    return 0


def _read_only_client(cfg: Config, args: argparse.Namespace) -> Any:
    """A client on the configured warehouse that applies no migration (an auditor may only read)."""
    from connectors.warehouse.client import connect, resolve_dsn

    return connect(resolve_dsn(args.warehouse or cfg.warehouse.dsn, args.data_dir))
