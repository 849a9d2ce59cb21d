"""Camera health flow end to end on chDB: generated streams → camera_health, state changes, alerts,
dead letters."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.simulate.camera_streams import CameraSpec, write_streams
from flows.cameras_cli import retention_rows
from flows.config import Config, load_config
from flows.run import RunOptions, run_flow

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 1, 21, 0, tzinfo=UTC)


def site(db: str) -> Config:
    cfg = load_config(environ={})
    tamper = {**cfg.cameras.tamper, "persist_frames": 6, "window_frames": 8, "clear_frames": 6, "learn_frames": 8}
    cams = replace(cfg.cameras, roles={"entry": "entry_exit", "yard": "general", "lone": "general"},
                   window_s=4.0, outage_gap_s=2.0, tamper=tamper)
    return replace(cfg, warehouse=replace(cfg.warehouse, database=db, batch_rows=5000), cameras=cams)


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cams")
    write_streams(out, [
        CameraSpec("entry", 640, 360, 10.0, 8.0, "defocus", 4.0, seed=3),  # 360 lines, 10 fps: noncompliant
        CameraSpec("yard", 640, 360, 10.0, 8.0, "outage", 3.0, seed=4, outage_s=3.0),
        CameraSpec("lone", 640, 360, 10.0, 8.0, "night", 2.0, seed=5),
    ], START)
    folder = out / "camera.frames"
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with (folder / "frames.jsonl").open("a") as fh:
        fh.write('{"file": "broken.jpg", "camera_id": "yard", "ts": "2026-03-01T21:00:08.000Z"}\n')
        fh.write('{"file": "missing.jpg", "camera_id": "yard", "ts": "2026-03-01T21:00:08.100Z"}\n')
    return out


def q(client, sql):
    return client.query(sql, settings={"final": 1}).result_rows


def test_camera_health_flow(replay, warehouse, chdb_dsn, tmp_path):
    client, db = warehouse
    cfg = site(db)
    run_flow("cameras", cfg, RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    alerts = q(client, f"SELECT kind, entity_id, status, entity_type FROM {db}.alerts ORDER BY entity_id, kind")
    assert {(k, e, s) for k, e, s, _ in alerts} == {
        ("camera_defocused", "entry", "open"), ("camera_noncompliant", "entry", "open"),
        ("camera_outage", "yard", "resolved"),
        # 360 lines is below 720p too: every camera here records under its role's minimum
        ("camera_noncompliant", "lone", "open"), ("camera_noncompliant", "yard", "open"),
    }
    assert {r[3] for r in alerts} == {"camera"}
    # defocus starts at frame 40 and is entered after persist_frames (6) hits: frame 45
    changes = q(client, f"SELECT to_state, source_position, frame_key FROM {db}.camera_state_changes "
                        "WHERE camera_id = 'entry' ORDER BY ts")
    assert [c[0] for c in changes] == ["ok", "defocused"]
    assert "frames.jsonl" in changes[1][1] and len(changes[1][2]) == 64
    health = q(client, f"SELECT camera_id, count(), sum(frames), min(compliant), max(max_gap_s) "
                       f"FROM {db}.camera_health GROUP BY camera_id ORDER BY camera_id")
    by_cam = {r[0]: r[1:] for r in health}
    assert by_cam["entry"] == (2, 80, False, pytest.approx(0.1, abs=0.002))  # 8 s in 4 s windows
    assert by_cam["lone"][1:3] == (80, False)  # night raised nothing; only the resolution fails
    assert by_cam["yard"][1] == 50  # 80 frames less the 3 s outage at 10 fps
    gap = q(client, f"SELECT window_start, window_end FROM {db}.alerts WHERE kind = 'camera_outage'")
    # last frame before the outage at 2.9 s, the next at 6.0 s
    assert [(b - a).total_seconds() for a, b in gap] == [pytest.approx(3.1, abs=0.002)]
    dead = q(client, f"SELECT reason FROM {db}.dead_letters ORDER BY source_position")
    assert len(dead) == 2 and "truncated JPEG" in dead[0][0] and "missing" in dead[1][0]
    # replaying writes nothing new
    run_flow("cameras", cfg, RunOptions(f"file:{replay}", chdb_dsn, tmp_path))
    assert q(client, f"SELECT count() FROM {db}.camera_health")[0][0] == 6
    assert len(q(client, f"SELECT alert_id FROM {db}.alerts")) == len(alerts)
    rows = retention_rows(cfg, {"entry": (START, START.replace(second=8))}, START.replace(year=2027, month=6))
    entry = next(r for r in rows if r["camera_id"] == "entry")
    assert entry["retention_days"] == 365 and entry["kept_until"] == datetime(2027, 3, 1, 21, 0, 8, tzinfo=UTC)
