"""The [vgm] configuration section and the VGM simulator's files and truth."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from connectors.simulate.vgm import VgmScenario, simulate_vgm
from flows.cli import main
from flows.config import ConfigError, load_config


def test_demo_site_vgm_section_and_env_override():
    cfg = load_config(environ={"QUAYWATCH__VGM__DEVIATION_PCT": "3"})
    assert cfg.vgm.deviation_pct == 3.0
    assert cfg.vgm.ceiling_price * cfg.vgm.fee_pct / 100 == 62.5
    assert {i.number for i in cfg.vgm.instruments.values()} == {"33-0117", "33-0118", "33-0042"}
    assert cfg.vgm.vehicle_tares["33 ABC 101"] == 14820.0


def test_invalid_vgm_section_is_a_config_error(tmp_path: Path):
    bad = tmp_path / "q.toml"
    bad.write_text('[[vgm.instruments]]\ninstrument_id = "WB-1"\nnumber = "1"\nlast_inspection = "yesterday"\n')
    with pytest.raises(ConfigError):
        load_config(bad, environ={})


def _lines(path: Path) -> list[dict]:
    out = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):  # the simulator's bad lines
            out.append(json.loads(line))
    return out


def test_simulator_is_seeded_and_its_truth_follows_from_the_readings(tmp_path: Path):
    policy = load_config(environ={}).vgm
    truth = simulate_vgm(policy, VgmScenario(containers=30), tmp_path / "a", seed=3)
    assert main(["simulate", "vgm", "--out", str(tmp_path / "b"), "--seed", "3", "--containers", "30",
                 "--start", "2026-03-02T05:00:00Z"]) == 0
    for f in ("vgm.weighings.jsonl", "vgm.declarations.jsonl", "vgm.truth.json"):
        assert (tmp_path / "a" / f).read_text() == (tmp_path / "b" / f).read_text()
    weighings = _lines(tmp_path / "a" / "vgm.weighings.jsonl")
    assert len([w for w in weighings if str(w.get("weighing_id", "")).startswith("W0")]) == truth.weighings
    # recompute every in/out pair's gross mass from the file alone: loaded reading − the plate's next empty
    pending: dict[str, dict] = {}
    derived: dict[str, float] = {}
    for w in sorted(weighings, key=lambda x: x["ts"]):
        if w["kind"] == "gross" and len(w["container_numbers"]) == 1 and w["vehicle_plate"] not in policy.vehicle_tares:
            pending[w["vehicle_plate"]] = w
        elif w["kind"] == "empty" and w["vehicle_plate"] in pending:
            g = pending.pop(w["vehicle_plate"])
            derived[g["container_numbers"][0]] = g["reading_kg"] - w["reading_kg"]
    pairs = {c: v for c, v in derived.items() if c in truth.certificates}
    assert len(pairs) > 10
    assert all(truth.certificates[c] == v for c, v in pairs.items())
