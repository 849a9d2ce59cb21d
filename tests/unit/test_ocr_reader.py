"""The frame reader with a scripted fake engine (rules, rescue, roles) and box handling on drawn crops."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from operators.ocr.engine import TextBox
from operators.ocr.reader import CameraRoles, box_interior, frame_json, read_frame


class FakeEngine:
    """Detects the given boxes; recognises crops in call order from a script."""

    name = "fake"

    def __init__(self, boxes: Sequence[TextBox], script: Sequence[Sequence[tuple[str, float]]]) -> None:
        self.boxes = list(boxes)
        self.script = [list(s) for s in script]
        self.calls: list[int] = []

    def detect(self, image: np.ndarray) -> list[TextBox]:
        return list(self.boxes)

    def recognize(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        self.calls.append(len(crops))
        return self.script.pop(0)


FRAME = np.full((540, 960, 3), 128, np.uint8)
BOXES = [TextBox(100, 100, 400, 140), TextBox(150, 150, 260, 190), TextBox(300, 400, 600, 460)]


def test_valid_code_size_type_and_plate():
    eng = FakeEngine(BOXES, [[("CSQU 305438 3", 0.95), ("22G1", 0.9), ("TR 34 ABC 123", 0.9)]])
    r = read_frame(eng, FRAME)
    assert [c.code for c in r.containers] == ["CSQU3054383"]
    assert r.size_type is not None and r.size_type.length_ft == 20
    assert r.plate is not None and r.plate.plate == "34 ABC 123"
    assert eng.calls == [3]  # one batch, no second pass


def test_wrong_check_digit_is_reported_not_accepted():
    eng = FakeEngine(BOXES[:1], [[("CSQU 305438 4", 0.95)], [("CSQU 305438 4", 0.95)]])
    r = read_frame(eng, FRAME)
    assert r.containers == ()
    assert r.rejected_codes == ("CSQU3054384",)
    j = frame_json(r, "x.jpg")
    assert j["containers"] == [{"number": "CSQU3054384", "check_digit_ok": False, "size_type": None}]


def test_missing_check_digit_is_rescued_only_when_it_validates():
    ok = read_frame(FakeEngine(BOXES[:1], [[("CSQU 305438", 0.9)], [("3", 0.8)]]), FRAME)
    assert [c.code for c in ok.containers] == ["CSQU3054383"]
    bad = read_frame(FakeEngine(BOXES[:1], [[("CSQU 305438", 0.9)], [("5", 0.8)]]), FRAME)
    assert bad.containers == ()


def test_plate_goes_to_the_role_of_the_camera():
    roles = CameraRoles()
    side = read_frame(FakeEngine(BOXES[2:], [[("34 ABC 123", 0.9)]]), FRAME, "left", roles)
    assert side.plate is None and side.trailer_plate is None
    rear = read_frame(FakeEngine(BOXES[2:], [[("34 ABC 123", 0.9)]]), FRAME, "rear", roles)
    assert rear.plate is None and rear.trailer_plate is not None and rear.trailer_plate.plate == "34 ABC 123"
    lpr = read_frame(FakeEngine(BOXES[2:], [[("34 ABC 123", 0.9)]]), FRAME, "lpr", roles)
    assert lpr.plate is not None and lpr.trailer_plate is None


def test_two_different_plates_of_equal_quality_give_none():
    eng = FakeEngine([BOXES[0], BOXES[2]], [[("34 ABC 123", 0.9), ("06 DE 4141", 0.9)]])
    assert read_frame(eng, FRAME, "lpr").plate is None


def test_box_interior_returns_the_digit_without_the_box():
    crop = np.full((60, 80, 3), (150, 60, 30), np.uint8)
    cv2.rectangle(crop, (20, 8), (62, 52), (255, 255, 255), 3)
    cv2.putText(crop, "7", (30, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 3)
    inner = box_interior(crop)
    assert inner is not None
    gray = cv2.cvtColor(inner, cv2.COLOR_BGR2GRAY)
    # the ink of the digit is kept, the border rows and columns (where the box was) are background
    assert gray.max() > 200
    assert gray[0].max() < 120 and gray[:, 0].max() < 120 and gray[-1].max() < 120 and gray[:, -1].max() < 120


def test_no_box_gives_none():
    assert box_interior(np.full((40, 40, 3), 90, np.uint8)) is None
