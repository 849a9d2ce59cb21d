"""``quaywatch ocr``: one JSON object per image, one fused object with --passage, errors on stderr."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from connectors.simulate.gate_scenes import passage_frames, random_truth
from flows.cli import main


@pytest.fixture(scope="module")
def passage(tmp_path_factory):
    rng = np.random.default_rng(21)
    # letters that no digit resembles, so one read validates by the grammar alone (see test_gate_fusion)
    truth = replace(random_truth(rng, "p1", "L1", "easy"), plate="34 KRT 512", trailer_plate="06 MEK 48")
    d = tmp_path_factory.mktemp("ocr")
    paths = {}
    for f in passage_frames(truth, rng, width=1280, cameras=(("rear", 1), ("lpr", 2))):
        paths[f.camera_id] = d / f"{f.camera_id}.jpg"
        paths[f.camera_id].write_bytes(f.jpeg)
    return truth, paths


def test_json_per_image(passage, capsys):
    truth, paths = passage
    assert main(["ocr", str(paths["lpr"]), "--json", "--camera", "lpr"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    obj = json.loads(line)
    assert obj["image"] == str(paths["lpr"])
    assert obj["plate"] == truth.plate
    assert {"containers", "hazard_placard", "seal", "confidence", "ms"} <= set(obj)
    assert 0 < obj["confidence"]["plate"] <= 1


def test_passage_gives_one_fused_object(passage, capsys):
    truth, paths = passage
    rc = main(["ocr", str(paths["rear"]), str(paths["lpr"]), "--json", "--passage", "--camera", "rear",
               "--camera", "lpr"])
    assert rc == 0
    (line,) = capsys.readouterr().out.splitlines()
    obj = json.loads(line)
    assert obj["plate"] == truth.plate and obj["trailer_plate"] == truth.trailer_plate
    assert obj["size_type"] == truth.size_type
    assert [c["number"] for c in obj["containers"]] in ([truth.container], [])
    assert obj["review"] is (not obj["containers"])


def test_truncated_image_is_an_error(tmp_path, passage, capsys):
    _truth, paths = passage
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(paths["lpr"].read_bytes()[:500])
    assert main(["ocr", str(bad), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "truncated" in captured.err
