"""RapidOCR (the default engine) end to end on a few small generated frames: reads the easy frames right and
never accepts a wrong container code. Accuracy over many frames is measured by bench/bench_gate_ocr.py."""

from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from connectors.simulate.gate_scenes import passage_frames, random_truth  # noqa: E402
from operators.ocr.engine import make_engine  # noqa: E402
from operators.ocr.reader import read_frame  # noqa: E402


@pytest.fixture(scope="module")
def engine():
    return make_engine("rapidocr")


def _decode(jpeg: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


def test_easy_rear_and_lpr_frames(engine):
    rng = np.random.default_rng(21)
    truth = random_truth(rng, "p1", "L1", "easy")
    frames = {f.camera_id: f for f in passage_frames(truth, rng, width=1280)}
    rear = read_frame(engine, _decode(frames["rear"].jpeg), "rear")
    lpr = read_frame(engine, _decode(frames["lpr"].jpeg), "lpr")
    assert rear.size_type is not None and rear.size_type.code == truth.size_type
    assert rear.trailer_plate is not None and rear.trailer_plate.plate == truth.trailer_plate
    assert [c.code for c in rear.containers] in ([truth.container], [])
    assert lpr.plate is not None and lpr.plate.plate == truth.plate


def test_hard_frames_never_accept_a_wrong_code(engine):
    rng = np.random.default_rng(8)
    accepted = []
    truths = []
    for i in range(2):
        truth = random_truth(rng, f"h{i}", "L1", "hard")
        truths.append(truth.container)
        for f in passage_frames(truth, rng, width=1280, cameras=(("left", 1),)):
            accepted += [c.code for c in read_frame(engine, _decode(f.jpeg), f.camera_id).containers]
    assert set(accepted) <= set(truths)
