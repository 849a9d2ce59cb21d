"""``quaywatch ocr IMAGE... [--json] [--passage]``: read gate images with the configured OCR engine."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.config import GateConfig, load_config
from operators.frames import FrameError, decode_jpeg
from operators.gate_fusion import fuse, passage_json
from operators.ocr.engine import ENGINES, make_engine
from operators.ocr.reader import CameraRoles, FrameRead, frame_json, read_frame


def camera_roles(g: GateConfig) -> CameraRoles:
    """Camera roles from the ``[gate]`` configuration."""
    return CameraRoles(plate=frozenset(g.plate_cameras), trailer_plate=frozenset(g.trailer_plate_cameras),
                       seal=dict(g.seal_rois), rois=dict(g.rois))


def add_parser(sub: Any) -> None:
    """Register the ``ocr`` subcommand."""
    o = sub.add_parser("ocr", help="read plates, container numbers, size/type, placard and seal from gate images")
    o.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    o.add_argument("--config", type=Path, help="site TOML (default: $QUAYWATCH_CONFIG or the demo site)")
    o.add_argument("--json", action="store_true", help="one JSON object per image (per passage with --passage)")
    o.add_argument("--passage", action="store_true", help="the images are one passage: print one fused object")
    o.add_argument("--engine", choices=ENGINES, help="OCR engine (default: gate.engine of the configuration)")
    o.add_argument("--camera", action="append", default=[],
                   help="camera id of the images (once for all, or once per image in order); decides which "
                        "fields a camera can see (e.g. lpr: plate, rear: trailer plate and seal); default: all")
    o.set_defaults(func=cmd_ocr)

    a = sub.add_parser("archive", help="frame archive: apply the retention policy, or serve frames read-only")
    a.add_argument("action", choices=("purge", "serve"))
    a.add_argument("--config", type=Path, help="site TOML (default: $QUAYWATCH_CONFIG or the demo site)")
    a.add_argument("--archive-dir", type=Path, help="archive directory (default: gate.archive_dir)")
    a.add_argument("--now", help="purge relative to this instant (ISO 8601; default: the current time)")
    a.add_argument("--host", default="127.0.0.1", help="serve: address to bind (default: 127.0.0.1)")
    a.add_argument("--port", type=int, default=8088, help="serve: port (default: 8088)")
    a.set_defaults(func=cmd_archive)


def cmd_archive(args: argparse.Namespace) -> int:
    """``quaywatch archive purge``: delete frames older than ``gate.retention_days`` (by event time); ``serve``."""
    from connectors.archive import FrameArchive
    from operators.events import parse_ts

    cfg = load_config(args.config)
    root = args.archive_dir or (Path(cfg.gate.archive_dir) if cfg.gate.archive_dir else Path(".quaywatch/archive"))
    if args.action == "serve":
        return _serve_archive(FrameArchive(root, cfg.gate.retention_days), args.host, args.port)
    now = parse_ts(args.now, "--now") if args.now else datetime.now(UTC)
    removed = FrameArchive(root, cfg.gate.retention_days).purge(now)
    print(f"{root}: removed {removed} frame(s) older than {cfg.gate.retention_days} days before {now.isoformat()}")
    return 0


def _serve_archive(archive: Any, host: str, port: int) -> int:
    """``quaywatch archive serve``: read-only HTTP over the archive until interrupted."""
    from connectors.archive_http import archive_server

    server = archive_server(archive, host, port)
    bound_host, bound_port = server.server_address[:2]
    print(f"serving {archive.root} read-only at http://{bound_host!s}:{bound_port}/ab/cd/<sha256>.jpg "
          "(the gate board's archive_url); Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _human(obj: dict[str, Any]) -> str:
    codes = ", ".join(f"{c['number']}{'' if c['check_digit_ok'] else ' (check digit fails)'}"
                      for c in obj.get("containers", [])) or "-"
    head = obj.get("image") or " + ".join(obj.get("images", []))
    extra = f"  review: {'; '.join(obj['review_reasons'])}" if obj.get("review") else ""
    return (f"{head}: plate {obj.get('plate') or '-'}"
            + (f", trailer {obj['trailer_plate']}" if obj.get("trailer_plate") else "")
            + f", containers {codes}, size/type {obj.get('size_type') or '-'}, "
            f"placard {obj.get('hazard_placard')}, seal {obj.get('seal')}"
            + (f", {obj['ms']} ms" if "ms" in obj else "") + extra)


def cmd_ocr(args: argparse.Namespace) -> int:
    """Read each image; print one object per image, or one fused object with ``--passage``."""
    cfg = load_config(args.config)
    cams: list[str] = args.camera
    if len(cams) not in (0, 1, len(args.images)):
        raise ValueError("give --camera once for all images or once per image")
    engine = make_engine(args.engine or cfg.gate.engine, cfg.gate.threads)
    roles = camera_roles(cfg.gate)
    failed = 0
    reads: list[tuple[str, FrameRead]] = []
    t0 = time.perf_counter()
    for i, path in enumerate(args.images):
        camera = cams[i] if len(cams) > 1 else (cams[0] if cams else "")
        try:
            image = decode_jpeg(path.read_bytes()) if path.suffix.lower() in (".jpg", ".jpeg") else _load_any(path)
        except (OSError, FrameError) as exc:
            print(f"quaywatch: error: {path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        read = read_frame(engine, image, camera, roles, cfg.gate.det_max_side)
        reads.append((str(path), read))
        if not args.passage:
            obj = frame_json(read, str(path))
            print(json.dumps(obj, ensure_ascii=False) if args.json else _human(obj), flush=True)
    if args.passage and reads:
        fused = fuse(reads, cfg.gate.plate_confidence(args.engine))
        obj = passage_json(fused, [f for f, _r in reads], (time.perf_counter() - t0) * 1000.0)
        print(json.dumps(obj, ensure_ascii=False) if args.json else _human(obj))
    return 1 if failed else 0


def _load_any(path: Path) -> Any:
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise FrameError("not a readable image")
    return img
