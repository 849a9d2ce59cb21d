"""Accuracy tier (marked slow): fused passages on generated easy and hard frames, per engine.

The hard requirement is zero wrong accepted container codes and plates; hit rates are asserted loosely
here (the bench measures them exactly: bench/bench_gate_ocr.py).
"""

from __future__ import annotations

import importlib.util

import cv2
import numpy as np
import pytest

from connectors.simulate.gate_scenes import passage_frames, random_truth
from operators.gate_fusion import fuse
from operators.ocr.engine import make_engine
from operators.ocr.reader import read_frame

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _run(engine_name: str, per_tier: int, seed: int) -> dict[str, list[str]]:
    engine = make_engine(engine_name)
    rng = np.random.default_rng(seed)
    out: dict[str, list[str]] = {"easy": [], "hard": [], "wrong": []}
    for i in range(per_tier):
        for tier in ("easy", "hard"):
            t = random_truth(rng, f"p{i}{tier}", "L1", tier)
            reads = []
            for f in passage_frames(t, rng, 1920):
                img = cv2.imdecode(np.frombuffer(f.jpeg, np.uint8), cv2.IMREAD_COLOR)
                reads.append((f.camera_id, read_frame(engine, img, f.camera_id)))
            fused = fuse(reads)
            if fused.containers.value is not None and fused.containers.value != (t.container,):
                out["wrong"].append(f"{t.container} read as {fused.containers.value}")
            if fused.plate.value is not None and fused.plate.value != t.plate:
                out["wrong"].append(f"{t.plate} read as {fused.plate.value}")
            if fused.containers.value == (t.container,):
                out[tier].append(t.container)
    return out


def test_rapidocr_never_accepts_a_wrong_code_and_reads_most():
    res = _run("rapidocr", 8, seed=99)
    assert res["wrong"] == []
    assert len(res["easy"]) >= 7 and len(res["hard"]) >= 6


@pytest.mark.skipif(importlib.util.find_spec("easyocr") is None,
                    reason="EasyOCR is an optional extra: pip install -e '.[easyocr]'")
def test_easyocr_never_accepts_a_wrong_code():
    res = _run("easyocr", 3, seed=99)
    assert res["wrong"] == []
    assert len(res["easy"]) >= 1
