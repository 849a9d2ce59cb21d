"""The registry of audited tables and the audited content of a site configuration."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime

from flows.audit import config_payload
from flows.config import load_config
from operators.audit_subjects import AUDITED


def test_subject_keys_payload_and_which_rows_are_audited():
    ops, labs = AUDITED["meter_operations"], AUDITED["lab_densities"]
    row = {"operation_id": "M-01-20260301T060500Z", "status": "closed", "revision": 1_772_344_800_000,
           "recorded_at": datetime(2026, 3, 2, tzinfo=UTC)}
    assert ops.subject_key(row) == "M-01-20260301T060500Z"
    assert "recorded_at" not in ops.payload(row) and ops.payload(row)["revision"] == 1_772_344_800_000
    assert ops.applies(row)
    assert not ops.applies({**row, "status": "open"}) and not ops.applies({**row, "status": "creep"})
    assert ops.event_time(row) == datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    lab = {"transfer_id": "TR-1", "ts": datetime(2026, 3, 1, 8, 0, 0, 250000, tzinfo=UTC), "officer_id": "o|7"}
    assert labs.subject_key(lab) == '["TR-1","2026-03-01T08:00:00.250Z","o|7"]'
    assert labs.applies(lab)
    assert {t.chain for t in AUDITED.values()} == {"meters", "vgm", "containers"}


def test_config_payload_covers_strapping_file_content_and_tolerances(tmp_path):
    cfg = load_config(environ={})
    p = config_payload(cfg)
    t101 = cfg.tanks[0]
    assert p["tanks"][0]["strapping_table_sha256"] == hashlib.sha256(t101.strapping_table.read_bytes()).hexdigest()
    assert p["meters"][0]["calibration_certificate"] == "TSE-KAL-2026-04417"
    assert p["tolerances"]["system_mpe_pct"] == 0.3 and p["tolerances"]["default_pct"] == 0.5
    other = tmp_path / "T-101.csv"
    other.write_bytes(t101.strapping_table.read_bytes() + b"\n")
    changed = config_payload(replace(cfg, tanks=(replace(t101, strapping_table=other), *cfg.tanks[1:])))
    assert changed["tanks"][0]["strapping_table_sha256"] != p["tanks"][0]["strapping_table_sha256"]
    env = load_config(environ={"QUAYWATCH__TOLERANCES__SYSTEM_MPE_PCT": "0.5"})
    assert config_payload(env)["tolerances"]["system_mpe_pct"] == 0.5
    assert config_payload(env)["tolerances"]["natural_loss"] == p["tolerances"]["natural_loss"]
