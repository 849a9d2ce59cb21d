"""The ``quaywatch`` command line: demo, run, sql, correct, simulate, migrate, audit, ocr, reports, vgm, cameras."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from connectors.warehouse.client import WarehouseError, connect, redact, resolve_dsn
from connectors.warehouse.migrations import migrate
from connectors.warehouse.retention import apply_retention
from dashboards import cli as dashboards_cli
from flows import audit_cli, cameras_cli, cli_containers, gate_cli, vgm_cli
from flows.cli_report import add_report_commands
from flows.config import ConfigError, load_config
from flows.run import FLOWS, RunOptions, open_warehouse, run_flow
from flows.scaling import add_hostfile_parser, add_scaling_args, scaling_from
from operators.vcf import VcfError, correct

log = logging.getLogger("quaywatch")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``quaywatch`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except (ConfigError, WarehouseError, VcfError, ValueError, FileNotFoundError) as exc:
        print(f"quaywatch: error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="quaywatch", description="Customs monitoring at sea ports.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--config", type=Path, help="site TOML (default: $QUAYWATCH_CONFIG or the demo site)")
        sp.add_argument("--data-dir", type=Path, default=Path(".quaywatch"),
                        help="local state: embedded warehouse, replays, recovery (default: .quaywatch)")
        sp.add_argument("--warehouse", default="",
                        help="warehouse DSN: chdb:///path or http(s)://user:pass@host:port "
                             "(default: config, else chdb:///<data dir>/warehouse)")

    d = sub.add_parser("demo", help="simulate a tanker discharge and run the meters flow on the embedded default")
    common(d)
    d.add_argument("--seed", type=int, default=7)
    d.set_defaults(func=cmd_demo)

    r = sub.add_parser("run", help="run one flow")
    common(r)
    r.add_argument("flow", choices=sorted(FLOWS))
    r.add_argument("--source", required=True, help="file:DIR (replay directory) or kafka://HOST:PORT[,HOST:PORT]")
    r.add_argument("--recovery", action="store_true", help="keep Bytewax recovery state in <data dir>/recovery")
    r.add_argument("--no-tail", action="store_true", help="with Kafka: stop at the end of the topics")
    r.add_argument("--publish-dir", type=Path, help="replay runs: write the published containers.exit_status "
                   "stream to DIR/containers.exit_status.jsonl (the gate's replay input)")
    add_scaling_args(r)
    r.set_defaults(func=cmd_run)

    q = sub.add_parser("sql", help="query the warehouse (deduplicated: SETTINGS final = 1)")
    common(q)
    q.add_argument("query")
    q.add_argument("--format", choices=("json", "csv", "table"), default="table")
    q.set_defaults(func=cmd_sql)

    m = sub.add_parser("migrate", help="apply the schema migrations to a warehouse")
    common(m)
    m.set_defaults(func=cmd_migrate)

    c = sub.add_parser("correct", help="API MPMS 11.1 / TP-27 volume corrections to 15 °C")
    c.add_argument("--product-group", help="crude|gasoline|transition|jet|fuel_oil|refined|lube|special|lpg|biodiesel")
    c.add_argument("--density-kgm3", type=float)
    c.add_argument("--density-basis", choices=("observed", "15c"), default="observed")
    c.add_argument("--temp-c", type=float)
    c.add_argument("--pressure-kpa", type=float, default=0.0)
    c.add_argument("--alpha60-per-f", type=float, help="thermal expansion coefficient for special/biodiesel")
    c.add_argument("--exact-inputs", action="store_true",
                   help="do not round inputs to the standard's increments before computing")
    c.add_argument("--input", help="JSON Lines file of cases ('-' for stdin) instead of the options")
    c.set_defaults(func=cmd_correct)

    a = sub.add_parser("alerts", help="list, acknowledge or resolve alerts")
    common(a)
    a.add_argument("action", choices=("list", "ack", "resolve"))
    a.add_argument("alert_id", nargs="?", help="the alert (ack, resolve)")
    a.add_argument("--by", default="", help="who acknowledges or resolves (officer id)")
    a.add_argument("--note", default="")
    a.add_argument("--status", default="", help="list: only open|acknowledged|resolved")
    a.add_argument("--kind", default="", help="list: only this kind")
    a.add_argument("--format", choices=("json", "csv", "table"), default="table")
    a.set_defaults(func=cmd_alerts)

    s = sub.add_parser("simulate", help="write a simulated replay directory")
    s.add_argument("what", choices=("meters", "campaign", "vgm", "gate", "cameras", "containers"),
                   help="meters: one discharge; campaign: two discharges with the fuel checks' planted faults; "
                        "vgm: a weighbridge day; gate: truck passages (camera frames); "
                        "cameras: camera streams with tamper events (camera.frames/); "
                        "containers: two vessel calls with planted discrepancies (truth.json)")
    s.add_argument("--config", type=Path)
    s.add_argument("--out", type=Path, required=True, help="replay directory to write")
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--start", default="2026-03-01T06:00:00Z", help="discharge start (ISO 8601)")
    s.add_argument("--seconds", type=float, default=30.0, help="cameras: length of each camera stream")
    s.add_argument("--readings", type=int, help="write about this many meter readings (benchmark files)")
    s.add_argument("--faults", default="", help="comma list: gap,spike,stuck,totalizer_reset,bad_lines")
    s.add_argument("--containers", type=int, default=40, help="vgm: ordinary export containers besides the rule cases")
    s.add_argument("--passages", type=int, default=10, help="gate: truck passages to generate (4 frames each)")
    s.add_argument("--vessel-containers", type=int, default=2000,
                   help="containers: containers on the first vessel call")
    s.set_defaults(func=cmd_simulate)
    add_report_commands(sub, common)
    audit_cli.add_parser(sub, common)
    vgm_cli.add_parsers(sub, common)
    dashboards_cli.add_parsers(sub, common)
    cameras_cli.add_parser(sub, common)
    cli_containers.add_parser(sub, common)
    gate_cli.add_parsers(sub, common)
    add_hostfile_parser(sub)

    from flows.ocr_cli import add_parser as add_ocr

    add_ocr(sub)
    return p


def cmd_run(args: argparse.Namespace) -> int:
    """``quaywatch run FLOW``."""
    cfg = load_config(args.config)
    opts = RunOptions(args.source, args.warehouse, args.data_dir, args.recovery, not args.no_tail,
                      scaling_from(args, os.environ))
    if args.publish_dir is not None:
        opts = replace(opts, publish_dir=args.publish_dir, publish_names=("containers.exit_status",))
    t0 = time.perf_counter()
    try:
        res = run_flow(args.flow, cfg, opts)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the rows the flow had produced are written (run_flow)
        print(f"{args.flow}: stopped after {time.perf_counter() - t0:.1f} s; buffered rows written", file=sys.stderr)
        return 0
    print(f"{args.flow}: done in {time.perf_counter() - t0:.1f} s, wrote {_counts(res.inserted_rows)} "
          f"to {redact(res.dsn)}", file=sys.stderr)
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    """``quaywatch alerts list|ack|resolve``."""
    from connectors.warehouse.alert_status import set_alert_status

    cfg = load_config(args.config)
    _dsn, client = open_warehouse(cfg, args.warehouse, args.data_dir)
    db = cfg.warehouse.database
    if args.action == "list":
        where = []
        params = {}
        if args.status:
            where.append("status = %(status)s")
            params["status"] = args.status
        if args.kind:
            where.append("kind = %(kind)s")
            params["kind"] = args.kind
        r = client.query(
            f"SELECT alert_id, ts, kind, severity, entity_type, entity_id, status, status_by, message "
            f"FROM {db}.alerts {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY ts",
            parameters=params, settings={"final": 1})
        write_result(sys.stdout, list(r.column_names), r.result_rows, args.format)
        return 0
    if not args.alert_id:
        raise ValueError("give the alert id")
    status = "acknowledged" if args.action == "ack" else "resolved"
    row = set_alert_status(client, db, args.alert_id, status, args.by, args.note)
    print(f"{row['alert_id']}: {row['status']} by {row['status_by']} at {_plain(row['status_ts'])}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """``quaywatch migrate``."""
    cfg = load_config(args.config)
    dsn = resolve_dsn(args.warehouse or cfg.warehouse.dsn, args.data_dir)
    client = connect(dsn)
    applied = migrate(client, cfg.warehouse.database)
    print(f"{redact(dsn)}: applied {len(applied)} migration(s)"
          + "".join(f"\n  {m.version:04d}_{m.name}" for m in applied))
    altered = apply_retention(client, cfg.warehouse.database, cfg.retention)
    print(f"retention ([retention]): {len(altered)} table TTL(s) changed" + "".join(f"\n  {s}" for s in altered))
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    """``quaywatch sql QUERY``."""
    cfg = load_config(args.config)
    _dsn, client = open_warehouse(cfg, args.warehouse, args.data_dir)
    res = client.query(args.query, settings={"final": 1})
    write_result(sys.stdout, list(res.column_names), res.result_rows, args.format)
    return 0


def write_result(out: TextIO, names: list[str], rows: Sequence[Sequence[Any]], fmt: str) -> None:
    """Print query results as JSON Lines, CSV or an aligned table."""
    conv = [[_plain(v) for v in row] for row in rows]
    if fmt == "json":
        for row in conv:
            out.write(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        w = csv.writer(out)
        w.writerow(names)
        w.writerows(conv)
    elif not conv:
        out.write("(no rows)\n")
    else:
        cells = [names] + [["" if v is None else str(v) for v in row] for row in conv]
        widths = [max(len(r[i]) for r in cells) for i in range(len(names))]
        for k, row in enumerate(cells):
            out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
            if k == 0:
                out.write("  ".join("-" * w for w in widths) + "\n")


def _plain(v: Any) -> Any:
    if isinstance(v, datetime):
        v = v if v.tzinfo else v.replace(tzinfo=UTC)
        return v.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def _cases(args: argparse.Namespace) -> Iterator[tuple[dict[str, Any], str | None]]:
    if args.input is None:
        if None in (args.product_group, args.density_kgm3, args.temp_c):
            raise ValueError("give --product-group, --density-kgm3 and --temp-c, or --input FILE")
        yield {"product_group": args.product_group, "density_kgm3": args.density_kgm3,
               "density_basis": args.density_basis, "temp_c": args.temp_c, "pressure_kpa": args.pressure_kpa,
               **({"alpha60_per_f": args.alpha60_per_f} if args.alpha60_per_f is not None else {})}, None
        return
    fh = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")  # noqa: SIM115
    with fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("expected a JSON object")
                yield obj, None
            except ValueError as exc:
                yield {"line": lineno}, f"line {lineno}: {exc}"


def cmd_correct(args: argparse.Namespace) -> int:
    """``quaywatch correct``: one JSON object per case, an ``error`` field for a bad case."""
    for case, err in _cases(args):
        out: dict[str, Any] = dict(case)
        if err is None:
            try:
                c = correct(
                    str(case.get("product_group")), _f(case, "density_kgm3"),
                    str(case.get("density_basis", "observed")), _f(case, "temp_c"),
                    _f(case, "pressure_kpa", 0.0), alpha60_per_f=case.get("alpha60_per_f"),
                    round_inputs=not args.exact_inputs)
                out.update(density_15c_kgm3=c.density_15c_kgm3, ctl=c.ctl, cpl=c.cpl, ctpl=c.ctpl,
                           edition=c.edition)
            except (VcfError, ValueError, TypeError) as exc:
                err = str(exc)
        if err is not None:
            out["error"] = err
        print(json.dumps(out, ensure_ascii=False))
    return 0


def _f(case: dict[str, Any], name: str, default: float | None = None) -> float:
    v = case.get(name, default)
    if v is None:
        raise ValueError(f"{name}: missing")
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"{name}: expected a number, got {v!r}")
    return float(v)


def cmd_simulate(args: argparse.Namespace) -> int:
    """``quaywatch simulate meters|campaign|vgm|gate|cameras --out DIR``."""
    if args.what == "gate":
        from connectors.simulate.gate_scenes import write_replay

        write_replay(args.out, args.passages, seed=args.seed)
        print(f"wrote {args.out} (gate.frames/, truth.jsonl)", file=sys.stderr)
        return 0
    from connectors.simulate.meters import DischargeScenario, simulate_discharge, simulate_readings_file

    if args.what == "cameras":
        return cameras_cli.cmd_simulate_cameras(args)
    cfg = load_config(args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.what == "containers":
        from connectors.simulate.containers import simulate_containers

        truth = simulate_containers(args.out, datetime.fromisoformat(args.start).astimezone(UTC), seed=args.seed,
                                    containers=args.vessel_containers)
        print(f"{truth['events']} events, {len(truth['expected_alerts'])} planted discrepancies "
              f"(truth.json)", file=sys.stderr)
    elif args.what == "campaign":
        from connectors.simulate.campaign import simulate_campaign

        start = datetime.fromisoformat(args.start).astimezone(UTC)
        simulate_campaign(cfg, args.out, start, seed=args.seed, unreported_flow="unreported_flow" in args.faults)
    elif args.what == "vgm":
        from connectors.simulate.vgm import VgmScenario, simulate_vgm

        start = datetime.fromisoformat(args.start).astimezone(UTC)
        simulate_vgm(cfg.vgm, VgmScenario(start=start, containers=args.containers), args.out, seed=args.seed)
    elif args.readings:
        simulate_readings_file(cfg, args.out, args.readings, seed=args.seed)
    else:
        start = datetime.fromisoformat(args.start).astimezone(UTC)
        faults = frozenset(f for f in args.faults.split(",") if f)
        simulate_discharge(cfg, DischargeScenario(start=start, faults=faults), args.out, seed=args.seed)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``quaywatch demo``: the fuel campaign (alerts, reports), a VGM day, gate decisions, port tracking."""
    from connectors.simulate.campaign import simulate_campaign

    cfg = load_config(args.config)
    replay = args.data_dir / "demo" / "replay"
    start = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    print(f"1/4 simulating two tanker discharges into {replay} (seed {args.seed}): the first within tolerance, "
          "then a reported phase change, then a second whose B/L overstates the cargo and whose meter loses "
          "power for a minute ...")
    simulate_campaign(cfg, replay, start, seed=args.seed)
    print("2/4 running the meters flow (Bytewax) into the embedded warehouse (chDB) ...")
    t0 = time.perf_counter()
    res = run_flow("meters", cfg, RunOptions(f"file:{replay}", args.warehouse, args.data_dir))
    print(f"    done in {time.perf_counter() - t0:.1f} s: {_counts(res.inserted_rows)} -> {redact(res.dsn)}")
    print("3/4 results\n")
    client = connect(res.dsn)
    db = cfg.warehouse.database
    for title, query in _demo_queries(db):
        print(f"== {title}")
        r = client.query(query, settings={"final": 1})
        write_result(sys.stdout, list(r.column_names), r.result_rows, "table")
        print()
    print("4/4 reports and the audit trail")
    common = ["--data-dir", str(args.data_dir)] + (["--warehouse", args.warehouse] if args.warehouse else []) + (
        ["--config", str(args.config)] if args.config else [])
    ops = client.query(f"SELECT operation_id FROM {db}.meter_operations WHERE status = 'closed' "
                       "AND transfer_id != '' ORDER BY started_at, meter_id", settings={"final": 1}).result_rows
    for (op_id,) in ops:
        main(["report", "meter-operation", str(op_id), "--format", "pdf,csv", *common])
    main(["report", "period", "--from", "2026-03-01T00:00:00Z", "--to", "2026-03-02T00:00:00Z", "--every", "none",
          "--format", "csv,pdf", *common])
    print("\n== Verified gross mass at the weighbridge (the vgm flow; `quaywatch vgm demo` alone)")
    main(["vgm", "demo", *common])
    print("\n== Gate: OCR of truck passages and barrier decisions (the gate flow; `quaywatch gate demo` alone)")
    main(["gate", "demo", *common])
    print("\n== Port: discharge lists, holds and exits (the containers flow; `quaywatch containers demo` alone)")
    main(["containers", "demo", *common])
    print("\n== Audit trail")
    main(["audit", "verify", *common])
    print("\nQuery anything yourself, e.g.:\n"
          f"  quaywatch sql \"SELECT * FROM {db}.alerts\" --format json\n"
          f"  quaywatch alerts list --status open\n"
          f"  quaywatch report no-movement --tank T-103 --from 2026-03-01T06:00:00Z --to 2026-03-01T08:00:00Z")
    return 0


def _demo_queries(db: str) -> list[tuple[str, str]]:
    return [
        ("Transfer operations per meter (meter_operations)",
         f"SELECT operation_id, ship_name, status, started_at, ended_at, round(opening_index_m3, 3) AS opening, "
         f"round(closing_index_m3, 3) AS closing, round(gov_m3, 3) AS gov_m3, round(gsv_15c_m3, 3) AS gsv_15c_m3, "
         f"round(mass_air_kg, 1) AS mass_air_kg, round(avg_temp_c, 2) AS avg_t, "
         f"round(density_15c_kgm3, 2) AS rho15, bl_no FROM {db}.meter_operations "
         "WHERE status NOT IN ('creep') ORDER BY started_at, meter_id"),
        ("Reconciliation per transfer (meters vs B/L vs ship tanks vs shore tanks, M9)",
         f"SELECT transfer_id, ship_name, round(meter_mass_air_kg) AS meter_kg_air, bl_quantity_kg_air AS bl_kg_air, "
         f"round(diff_bl_pct, 3) AS diff_bl_pct, tolerance_pct, within_tolerance AS ok, decisive_figure AS decides, "
         f"round(meter_gsv_15c_m3, 3) AS meter_m3_15c, round(ship_delivered_m3_15c, 3) AS ship_m3_15c, "
         f"round(shore_tank_delta_m3_15c, 3) AS shore_m3_15c, round(diff_tank_pct, 3) AS diff_tank_pct "
         f"FROM {db}.reconciliations ORDER BY transfer_id"),
        ("Alerts (alerts; acknowledge with `quaywatch alerts ack ID --by OFFICER`)",
         f"SELECT window_start, kind, severity, entity_id, status, message FROM {db}.alerts ORDER BY window_start"),
        ("Shore tank inventory now (tank_inventory)",
         f"SELECT tank_id, ts, round(level_mm) AS level_mm, round(gov_m3, 3) AS gov_m3, "
         f"round(gsv_15c_m3, 3) AS gsv_15c_m3, round(mass_air_kg, 1) AS mass_air_kg, round(fill_pct, 1) AS fill_pct, "
         f"state FROM {db}.tank_inventory ORDER BY tank_id"),
        ("Audit trail: entries and head hash per chain (verify with `quaywatch audit verify`)",
         f"SELECT chain, count() AS entries, argMax(hash, seq) AS head FROM {db}.audit_log GROUP BY chain "
         "ORDER BY chain"),
        ("Rejected input (dead_letters)",
         f"SELECT stream, reason, count() AS n FROM {db}.dead_letters GROUP BY stream, reason ORDER BY n DESC"),
    ]


def _counts(inserted: dict[str, int]) -> str:
    return ", ".join(f"{n} {t}" for t, n in sorted(inserted.items())) or "nothing"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
