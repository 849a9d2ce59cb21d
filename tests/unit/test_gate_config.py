"""The [gate] section of the site configuration: demo values, environment overrides, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.config import ConfigError, GateConfig, load_config


def test_demo_site_gate_section():
    g = load_config(environ={}).gate
    assert g.engine == "rapidocr"
    assert g.retention_days == 365  # Ek-80 III: camera recordings kept one year
    assert g.seal_rois["rear"] == (0.50, 0.42, 0.72, 0.62)
    assert g.plate_cameras == ("lpr",) and g.trailer_plate_cameras == ("rear",)
    assert load_config(environ={}).kafka.topic("gate.frames") == "quaywatch.gate.frames"


def test_defaults_without_a_gate_section(tmp_path: Path):
    p = tmp_path / "site.toml"
    p.write_text('site = "x"\n')
    assert load_config(p, environ={}).gate == GateConfig()


def test_environment_overrides():
    cfg = load_config(environ={"QUAYWATCH__GATE__ENGINE": "easyocr", "QUAYWATCH__GATE__PASSAGE_GAP_S": "4.5",
                               "QUAYWATCH__GATE__RETENTION_DAYS": "400"})
    assert (cfg.gate.engine, cfg.gate.passage_gap_s, cfg.gate.retention_days) == ("easyocr", 4.5, 400)


@pytest.mark.parametrize(("text", "match"), [
    ('[gate]\nengine = "tesseract"\n', "engine"),
    ("[gate]\nretention_days = 0\n", "retention_days"),
    ("[gate]\npassage_gap_s = -1\n", "passage_gap_s"),
    ("[gate.seal_rois]\nrear = [0.7, 0.4, 0.5, 0.6]\n", "region"),
    ("[gate.rois]\nlpr = [[0.1, 0.2, 1.3, 0.9]]\n", "region"),
])
def test_invalid_gate_values(tmp_path: Path, text: str, match: str):
    p = tmp_path / "site.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_config(p, environ={})
