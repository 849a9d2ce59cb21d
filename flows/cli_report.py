"""``quaywatch report``: meter measurement report, periodic reports, no-movement evidence (M3, M4, M10).

Wiring only: the queries are in :mod:`connectors.warehouse.report_queries`, the report models and their CSV
and text forms in :mod:`operators.reports`, the PDF in :mod:`connectors.report_pdf`. Every number comes from
the warehouse, so an auditor can reproduce it with ``quaywatch sql``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from connectors.report_pdf import PdfReport, Table, meter_operation_plots, render_pdf
from connectors.warehouse.report_queries import ReportQueries
from flows.config import Config, load_config
from flows.run import open_warehouse
from operators.reports.fields import FIELD_HEADERS, field_rows, fmt, sections_text, text_table, write_csv
from operators.reports.meter_report import SERIES_COLUMNS, MeterReport, build_meter_report, series_rows
from operators.reports.no_movement import NoMovementReport, assess
from operators.reports.period import (
    EVERY,
    METER_COLUMNS,
    TANK_COLUMNS,
    PeriodReport,
    bucket_bounds,
    build_period_report,
    formatted,
    headers,
    meter_rows,
    tank_rows,
)
from operators.strapping import StrappingError, StrappingTable

REPRODUCE = "Every number is read from the warehouse: reproduce it with `quaywatch sql` (SETTINGS final = 1)."


def add_report_commands(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
                        common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register ``quaywatch report ...`` on the main parser's subcommands."""
    rp = sub.add_parser("report", help="meter measurement, periodic and no-movement reports")
    rsub = rp.add_subparsers(required=True, metavar="REPORT")

    m = rsub.add_parser("meter-operation", help="meter measurement report of one operation (PDF, CSV)")
    common(m)
    m.add_argument("operation_id")
    m.add_argument("--out", type=Path, help="output directory (default: <data dir>/reports)")
    m.add_argument("--format", default="pdf,csv", help="comma list of pdf, csv (default: pdf,csv)")
    m.set_defaults(func=cmd_report_meter_operation)

    p = rsub.add_parser("period", help="per meter and per tank report for a period (daily/weekly/monthly)")
    common(p)
    p.add_argument("--from", dest="start", required=True,
                   help="period start, ISO 8601, or transfer:ID (that transfer's start, its meters and tanks)")
    p.add_argument("--to", dest="end", required=True, help="period end, ISO 8601, or 'now'")
    p.add_argument("--meter", action="append", default=[], help="meter id (repeat; default: every meter)")
    p.add_argument("--tank", action="append", default=[], help="tank id (repeat; default: every tank)")
    p.add_argument("--every", choices=EVERY, default="none", help="bucket size (week = ISO week from Monday)")
    p.add_argument("--out", type=Path, help="output directory for csv/pdf (default: <data dir>/reports)")
    p.add_argument("--format", default="table", help="comma list of table, csv, pdf (default: table)")
    p.set_defaults(func=cmd_report_period)

    n = rsub.add_parser("no-movement", help="prove that a tank did not move in a period (M10)")
    common(n)
    n.add_argument("--tank", required=True)
    n.add_argument("--from", dest="start", required=True, help="period start, ISO 8601")
    n.add_argument("--to", dest="end", required=True, help="period end, ISO 8601, or 'now'")
    n.add_argument("--out", type=Path, help="also write CSV (and PDF with --format) to this directory")
    n.add_argument("--format", default="table,csv", help="comma list of table, csv, pdf (default: table,csv)")
    n.set_defaults(func=cmd_report_no_movement)


def parse_time(value: str) -> datetime:
    """ISO 8601 (a time without offset is UTC) or ``now``."""
    if value == "now":
        return datetime.now(UTC)
    ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _formats(value: str, allowed: tuple[str, ...]) -> set[str]:
    chosen = {f.strip() for f in value.split(",") if f.strip()}
    bad = chosen - set(allowed)
    if bad:
        raise ValueError(f"unknown format(s) {', '.join(sorted(bad))}: use {', '.join(allowed)}")
    return chosen


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _open(args: argparse.Namespace) -> tuple[Config, ReportQueries]:
    cfg = load_config(args.config)
    _dsn, client = open_warehouse(cfg, args.warehouse, args.data_dir)
    return cfg, ReportQueries(client, cfg.warehouse.database)


def _out_dir(args: argparse.Namespace) -> Path:
    out: Path = args.out or args.data_dir / "reports"
    out.mkdir(parents=True, exist_ok=True)
    return out


# ---------------------------------------------------------------------- meter operation
def meter_operation_report(q: ReportQueries, operation_id: str) -> MeterReport:
    """Query everything the report of one operation shows and build it.

    Raises:
        ValueError: When the warehouse has no such operation.
    """
    op = q.operation(operation_id)
    if op is None:
        raise ValueError(f"no operation {operation_id!r} in the warehouse")
    transfer_id = str(op.get("transfer_id") or "")
    transfer = q.transfer(transfer_id) if transfer_id else None
    labs = q.lab_densities(transfer_id) if transfer_id else []
    recon = q.reconciliation(transfer_id) if transfer_id else None
    end = op.get("ended_at") or op["started_at"]
    alerts = q.operation_alerts(operation_id, str(op["meter_id"]), op["started_at"], end)
    return build_meter_report(op, transfer, labs, recon, alerts, q.operation_reading_sums(operation_id),
                              q.operation_readings(operation_id))


def write_meter_report(report: MeterReport, out: Path, formats: set[str]) -> list[Path]:
    """Write the report's PDF and/or CSVs (fields, readings) into ``out``; returns the files written."""
    base = out / f"meter-operation_{_safe(report.operation_id)}"
    written = []
    if "csv" in formats:
        path = base.with_suffix(".csv")
        with path.open("w", encoding="utf-8", newline="") as fh:
            write_csv(fh, FIELD_HEADERS, field_rows(report.fields))
        series = out / f"{base.name}_readings.csv"
        with series.open("w", encoding="utf-8", newline="") as fh:
            write_csv(fh, SERIES_COLUMNS, series_rows(report.readings))
        written += [path, series]
    if "pdf" in formats:
        path = base.with_suffix(".pdf")
        render_pdf(PdfReport(report.title, fields=report.fields, plots=meter_operation_plots(report.readings),
                             footer=REPRODUCE), path)
        written.append(path)
    return written


def cmd_report_meter_operation(args: argparse.Namespace) -> int:
    """``quaywatch report meter-operation ID``."""
    formats = _formats(args.format, ("pdf", "csv"))
    _cfg, q = _open(args)
    report = meter_operation_report(q, args.operation_id)
    for path in write_meter_report(report, _out_dir(args), formats):
        print(f"wrote {path}")
    return 0


# ---------------------------------------------------------------------- period
def period_report(q: ReportQueries, start: datetime, end: datetime, every: str, meter_ids: list[str],
                  tank_ids: list[str]) -> PeriodReport:
    """Query and build the periodic report; no meter and no tank given means every meter and tank."""
    bounds = bucket_bounds(start, end, every)
    if not meter_ids and not tank_ids:
        meter_ids, tank_ids = q.meter_ids(), q.tank_ids()
    meters = []
    if meter_ids:
        sums = q.meter_bucket_sums(meter_ids, bounds)
        index_at = [q.meter_index_at(meter_ids, b) for b in bounds]
        ops = q.operations_overlapping(meter_ids, bounds[0], bounds[-1])
        meters = meter_rows(bounds, meter_ids, sums, index_at, ops)
    tanks = []
    opening = q.tank_state_at(tank_ids, bounds[0])
    for tank_id in tank_ids:
        tanks += tank_rows(bounds, tank_id, opening.get(tank_id), q.tank_readings(tank_id, bounds[0], bounds[-1]))
    return build_period_report(bounds[0], bounds[-1], every, meters, tanks)


def period_title(r: PeriodReport) -> str:
    """Title line of a periodic report."""
    return f"Period report {fmt(r.start)} – {fmt(r.end)} (buckets: {r.every})"


def write_period_report(r: PeriodReport, out: Path, formats: set[str]) -> list[Path]:
    """Write the meters and tanks CSVs and/or the PDF; returns the files written."""
    stem = f"period_{r.start:%Y%m%dT%H%M%SZ}_{r.end:%Y%m%dT%H%M%SZ}_{r.every}"
    written = []
    if "csv" in formats:
        for what, rows, cols in (("meters", r.meter_rows, METER_COLUMNS), ("tanks", r.tank_rows, TANK_COLUMNS)):
            path = out / f"{stem}_{what}.csv"
            with path.open("w", encoding="utf-8", newline="") as fh:
                write_csv(fh, headers(cols), formatted(rows, cols))
            written.append(path)
    if "pdf" in formats:
        path = out / f"{stem}.pdf"
        tables = [Table("Meters: quantities of operation readings in (start, end], totalizer index at both ends",
                        headers(METER_COLUMNS), formatted(r.meter_rows, METER_COLUMNS)),
                  Table("Tanks: stock at the bucket boundaries (last reading at or before), receipts, deliveries",
                        headers(TANK_COLUMNS), formatted(r.tank_rows, TANK_COLUMNS))]
        render_pdf(PdfReport(period_title(r), tables=tables, footer=REPRODUCE), path)
        written.append(path)
    return written


def cmd_report_period(args: argparse.Namespace) -> int:
    """``quaywatch report period --from --to``."""
    formats = _formats(args.format, ("table", "csv", "pdf"))
    _cfg, q = _open(args)
    meters, tanks = list(args.meter), list(args.tank)
    if args.start.startswith("transfer:"):
        span = q.transfer_span(args.start[len("transfer:"):])
        if span is None:
            raise ValueError(f"no transfer {args.start[len('transfer:'):]!r} in the warehouse")
        start = span["started_at"]
        if not meters and not tanks:
            meters, tanks = list(span["meter_ids"]), list(span["tank_ids"])
    else:
        start = parse_time(args.start)
    r = period_report(q, start, parse_time(args.end), args.every, meters, tanks)
    if "table" in formats:
        print(period_title(r) + "\n")
        print("== Meters\n" + text_table(headers(METER_COLUMNS), formatted(r.meter_rows, METER_COLUMNS)))
        print("== Tanks\n" + text_table(headers(TANK_COLUMNS), formatted(r.tank_rows, TANK_COLUMNS)))
    if formats - {"table"}:
        for path in write_period_report(r, _out_dir(args), formats):
            print(f"wrote {path}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------- no movement
def no_movement_report(q: ReportQueries, cfg: Config, tank_id: str, start: datetime,
                       end: datetime) -> NoMovementReport:
    """Query the evidence and decide whether the tank moved in ``(start, end]``.

    Raises:
        ValueError: When the period is empty.
    """
    if end <= start:
        raise ValueError("the period end must be after its start")
    baseline = q.tank_state_at([tank_id], start).get(tank_id)
    readings = q.tank_readings(tank_id, start, end)
    tank = cfg.tank(tank_id)
    strapping = None
    if tank is not None:
        try:
            strapping = StrappingTable.from_csv(tank.strapping_table)
        except StrappingError:
            strapping = None
    meters = q.meters_feeding_tank(tank_id)
    basis = "meters named with the tank on a transfer"
    if not meters:
        meters, basis = q.meter_ids(), "no transfer names the tank: every meter with readings"
    i0, i1 = q.meter_index_at(meters, start), q.meter_index_at(meters, end)
    index = {m: (i0.get(m), i1.get(m)) for m in meters}
    ops = q.operations_overlapping(meters, start, end)
    return assess(tank_id, start, end, baseline, readings, cfg.reports.gauge_uncertainty_mm,
                  cfg.reports.no_movement_max_gap_s, strapping, index, ops, basis)


def cmd_report_no_movement(args: argparse.Namespace) -> int:
    """``quaywatch report no-movement --tank ID --from --to``."""
    formats = _formats(args.format, ("table", "csv", "pdf"))
    cfg, q = _open(args)
    r = no_movement_report(q, cfg, args.tank, parse_time(args.start), parse_time(args.end))
    if "table" in formats:
        print(sections_text(r.fields))
        print(f"VERDICT: {r.verdict} — {r.reason}")
    if args.out is not None:
        out = _out_dir(args)
        stem = out / f"no-movement_{_safe(r.tank_id)}_{parse_time(args.start):%Y%m%dT%H%M%SZ}"
        if "csv" in formats:
            with stem.with_suffix(".csv").open("w", encoding="utf-8", newline="") as fh:
                write_csv(fh, FIELD_HEADERS, field_rows(r.fields))
            print(f"wrote {stem.with_suffix('.csv')}", file=sys.stderr)
        if "pdf" in formats:
            render_pdf(PdfReport(f"No-movement evidence — tank {r.tank_id}: {r.verdict}", fields=r.fields,
                                 footer=REPRODUCE), stem.with_suffix(".pdf"))
            print(f"wrote {stem.with_suffix('.pdf')}", file=sys.stderr)
    return 0
