"""Generate the committed dashboard JSON (``dashboards/json/<uid>.json``) and check it is current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dashboards.boards import all_boards
from dashboards.render import render

#: Where the generated dashboards live (the folder the dashboard provider YAML points Grafana at).
JSON_DIR = Path(__file__).resolve().parent / "json"


def dumps(dashboard: dict[str, Any]) -> str:
    """Deterministic JSON text of a dashboard."""
    return json.dumps(dashboard, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated() -> dict[str, str]:
    """File name → JSON text of every board, as the code builds them now."""
    return {f"{b.uid}.json": dumps(render(b)) for b in all_boards()}


def write(out_dir: Path = JSON_DIR) -> list[Path]:
    """Write every board's JSON (and remove JSON of boards that no longer exist); returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = generated()
    for old in out_dir.glob("*.json"):
        if old.name not in files:
            old.unlink()
    written = []
    for name, text in files.items():
        path = out_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def stale(out_dir: Path = JSON_DIR) -> list[str]:
    """Files that differ from what the code generates, are missing, or should not exist."""
    files = generated()
    present = {p.name: p.read_text(encoding="utf-8") for p in out_dir.glob("*.json")} if out_dir.exists() else {}
    return sorted({n for n in files if present.get(n) != files[n]} | (set(present) - set(files)))
