"""``quaywatch cameras retention`` (C2) and ``quaywatch simulate cameras`` (synthetic camera streams)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flows.config import Config, load_config


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser],
               common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``cameras`` command and its ``retention`` subcommand."""
    c = sub.add_parser("cameras", help="camera health: retention report")
    csub = c.add_subparsers(required=True, metavar="ACTION")
    r = csub.add_parser("retention", help="per camera: what the frame archive keeps and until when (C2)")
    common(r)
    r.add_argument("--now", help="report as of this instant (ISO 8601; default: now)")
    r.add_argument("--format", choices=("json", "csv", "table"), default="table")
    r.set_defaults(func=cmd_retention)


def retention_days(cfg: Config, camera_id: str) -> int:
    """Retention of one camera's recordings: its override, the ``[cameras]`` value, else the archive's."""
    c = cfg.cameras
    return c.retention_overrides.get(camera_id) or c.retention_days or cfg.gate.retention_days


def retention_rows(cfg: Config, seen: dict[str, tuple[datetime, datetime]], now: datetime) -> list[dict[str, Any]]:
    """One row per camera (configured or seen in ``camera_health``).

    Args:
        cfg: Site configuration.
        seen: Camera → (first, last) event time recorded in ``camera_health``.
        now: The report's instant.

    Returns:
        Rows: camera, role, retention days, oldest recording still kept (the later of the first recording
        and now − retention), when that one expires, and until when the newest recording is kept.
    """
    rows = []
    for cam in sorted(set(cfg.cameras.roles) | set(seen)):
        days = retention_days(cfg, cam)
        keep = timedelta(days=days)
        first, last = seen.get(cam, (None, None))
        oldest = max(first, now - keep) if first is not None else None
        rows.append({
            "camera_id": cam, "role": cfg.cameras.role(cam), "retention_days": days,
            "first_recorded": first, "last_recorded": last, "oldest_kept": oldest,
            "oldest_expires": oldest + keep if oldest is not None else None,
            "kept_until": last + keep if last is not None else None,
        })
    return rows


def cmd_retention(args: argparse.Namespace) -> int:
    """``quaywatch cameras retention``."""
    from flows.cli import write_result
    from flows.run import open_warehouse

    cfg = load_config(args.config)
    _dsn, client = open_warehouse(cfg, args.warehouse, args.data_dir)
    now = datetime.fromisoformat(args.now).astimezone(UTC) if args.now else datetime.now(UTC)
    res = client.query(f"SELECT camera_id, min(window_start), max(window_end) FROM {cfg.warehouse.database}"
                       ".camera_health GROUP BY camera_id", settings={"final": 1})
    seen = {str(r[0]): (_utc(r[1]), _utc(r[2])) for r in res.result_rows}
    rows = retention_rows(cfg, seen, now)
    names = ["camera_id", "role", "retention_days", "first_recorded", "last_recorded", "oldest_kept",
             "oldest_expires", "kept_until"]
    write_result(sys.stdout, names, [[r[n] for n in names] for r in rows], args.format)
    return 0


def _utc(v: datetime) -> datetime:
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


def cmd_simulate_cameras(args: argparse.Namespace) -> int:
    """``quaywatch simulate cameras --out DIR``: the demo cameras, one tamper or benign event each."""
    from connectors.simulate.camera_streams import default_start, demo_cameras, write_streams

    start = datetime.fromisoformat(args.start).astimezone(UTC) if args.start else default_start()
    truths = write_streams(args.out, demo_cameras(args.seconds, args.seed), start)
    for t in truths:
        print(f"{t.camera_id}: {t.width}x{t.height} {t.fps:g} fps, {t.event} at frame {t.event_frame} "
              f"({t.event_ts})", file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
