"""Input size limits in every flow, end to end on chDB: an oversize message, an oversize id and (frame flows) an
oversize JPEG appended to each flow's simulated replay become dead letters with the reason, before any decoder
sees them, and the rest of the replay is processed as usual.

The limits are set from the replay itself (just above its largest record), so the planted records are the only
ones beyond them: which records must be rejected is known here, not taken from the code.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.simulate.camera_streams import CameraSpec, write_streams
from connectors.simulate.containers import simulate_containers
from connectors.simulate.discharge import simulate_discharge
from connectors.simulate.gate_scenes import write_replay
from connectors.simulate.scenario import DischargeScenario
from connectors.simulate.vgm import VgmScenario, simulate_vgm
from flows.config import Config, load_config
from flows.run import RunOptions, run_flow
from operators.input_limits import InputLimits

pytestmark = pytest.mark.integration
ID_LIMIT = 64


def plant_json(replay: Path, stream: str) -> tuple[int, list[int], int]:
    """Append an oversize message and an oversize id to a stream.

    Returns:
        The message limit (100 bytes above the replay's largest record), the planted lines, the big one's size.
    """
    limit = 100 + max(len(line.encode()) for f in replay.glob("*.jsonl") for line in f.read_text().splitlines())
    path = replay / f"{stream}.jsonl"
    lines = path.read_text().splitlines()
    last = json.loads(lines[-1])
    big = json.dumps({**last, "pad": "x" * (limit + 1)})
    long_id = json.dumps({**last, "probe_id": "A" * (ID_LIMIT + 1)})
    path.write_text("\n".join([*lines, big, long_id]) + "\n")
    return limit, [len(lines) + 1, len(lines) + 2], len(big.encode())


def plant_frame(folder: Path) -> int:
    """Append an oversize (padded, still valid) JPEG to a frame manifest; returns the frame limit."""
    manifest = folder / "frames.jsonl"
    lines = manifest.read_text().splitlines()
    metas = [json.loads(line) for line in lines]
    largest = max((folder / m["file"]).stat().st_size for m in metas)
    jpeg = (folder / metas[-1]["file"]).read_bytes()
    (folder / "huge.jpg").write_bytes(jpeg + b"\x00" * (largest + 1 - len(jpeg) + 1))  # bytes after EOI
    manifest.write_text("\n".join([*lines, json.dumps({**metas[-1], "file": "huge.jpg"})]) + "\n")
    return largest


def site(db: str, limits: InputLimits, tmp: Path) -> Config:
    cfg = load_config(environ={})
    return replace(cfg, warehouse=replace(cfg.warehouse, database=db, batch_rows=5000), limits=limits,
                   gate=replace(cfg.gate, archive_dir=str(tmp / "archive")))


def dead_letters(client, db):
    return client.query(f"SELECT stream, source_position, reason, length(raw) FROM {db}.dead_letters "
                        "WHERE reason LIKE 'oversize%' ORDER BY source_position", settings={"final": 1}).result_rows


def count(client, db, table):
    return client.query(f"SELECT count() FROM {db}.{table}", settings={"final": 1}).result_rows[0][0]


def meters_replay(out: Path) -> None:
    simulate_discharge(load_config(environ={}), DischargeScenario(start=datetime(2026, 3, 1, 6, tzinfo=UTC)), out)


def vgm_replay(out: Path) -> None:
    simulate_vgm(load_config(environ={}).vgm, VgmScenario(containers=20), out, seed=3)


def containers_replay(out: Path) -> None:
    simulate_containers(out, datetime(2026, 3, 1, 6, tzinfo=UTC), seed=3, containers=200, bad_lines=False)


@pytest.mark.parametrize(("flow", "make", "stream", "table"), [
    ("meters", meters_replay, "meter.readings", "meter_readings"),
    ("vgm", vgm_replay, "vgm.weighings", "vgm_weighings"),
    ("containers", containers_replay, "port.containers", "container_events"),
])
def test_json_flows_dead_letter_oversize_messages_and_ids(flow, make, stream, table, warehouse, chdb_dsn, tmp_path):
    client, db = warehouse
    replay = tmp_path / "replay"
    make(replay)
    limit, planted, size = plant_json(replay, stream)
    limits = InputLimits(max_message_bytes=limit, max_id_chars=ID_LIMIT)
    run_flow(flow, site(db, limits, tmp_path), RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    rows = dead_letters(client, db)
    assert [(s, p.rsplit(":", 1)[1]) for s, p, _r, _n in rows] == [(stream, str(n)) for n in planted]
    assert rows[0][2] == f"oversize message: {size} bytes > max_message_bytes {limit}"
    assert rows[1][2] == f"oversize id: probe_id has {ID_LIMIT + 1} bytes > max_id_chars {ID_LIMIT}"
    assert rows[0][3] < 1100  # the dead letter keeps the start of the record, not all of it
    assert count(client, db, table) > 0  # the rest went through


@pytest.mark.parametrize("flow", ["gate", "cameras"])
def test_frame_flows_dead_letter_oversize_frames(flow, warehouse, chdb_dsn, tmp_path):
    client, db = warehouse
    replay = tmp_path / "replay"
    if flow == "gate":
        write_replay(replay, 1, seed=3, tiers=("easy",), width=640, cameras=(("rear", 1), ("lpr", 1)))
        folder, table = replay / "gate.frames", "gate_reads"
    else:
        write_streams(replay, [CameraSpec("entry", 320, 180, 5.0, 4.0, "defocus", 2.0, seed=3)],
                      datetime(2026, 3, 1, 21, 0, tzinfo=UTC))
        folder, table = replay / "camera.frames", "camera_health"
    n_frames = len((folder / "frames.jsonl").read_text().splitlines())
    largest = plant_frame(folder)
    run_flow(flow, site(db, InputLimits(max_frame_bytes=largest), tmp_path),
             RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    rows = dead_letters(client, db)
    size = (folder / "huge.jpg").stat().st_size
    assert [(p.rsplit(":", 1)[1], r) for _s, p, r, _n in rows] == [
        (str(n_frames + 1), f"oversize frame: {size} bytes > max_frame_bytes {largest}")]
    raw = client.query(f"SELECT raw FROM {db}.dead_letters WHERE reason LIKE 'oversize%'",
                       settings={"final": 1}).result_rows[0][0]
    assert json.loads(raw)["bytes"] == size and json.loads(raw)["headers"]["file"] == "huge.jpg"
    assert count(client, db, table) > 0
