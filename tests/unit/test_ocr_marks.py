"""Placard and seal detectors on drawn scenes: the diamond vs a wheel, a seal on a red door, darkness."""

from __future__ import annotations

import cv2
import numpy as np

from operators.ocr.marks import detect_placard, detect_seal

ROI = (0.4, 0.4, 0.8, 0.8)


def scene(colour=(40, 40, 170)) -> np.ndarray:
    img = np.full((540, 960, 3), colour, np.uint8)
    for x in range(0, 960, 16):  # corrugation
        cv2.line(img, (x, 0), (x, 539), tuple(max(0, c - 25) for c in colour), 3)
    return img


def test_diamond_is_a_placard_and_a_wheel_is_not():
    wheel = scene()
    cv2.circle(wheel, (300, 300), 40, (25, 25, 25), -1)
    cv2.circle(wheel, (300, 300), 20, (120, 120, 120), -1)
    assert detect_placard(wheel).present is False
    diamond = scene()
    pts = np.array([[480, 200], [530, 250], [480, 300], [430, 250]], np.int32)
    cv2.fillConvexPoly(diamond, pts, (250, 250, 250))
    cv2.polylines(diamond, [pts], True, (20, 20, 20), 3)
    assert detect_placard(diamond).present is True


def test_seal_on_a_red_door():
    door = scene((40, 40, 170))
    assert detect_seal(door, ROI).present is False
    sealed = door.copy()
    cv2.rectangle(sealed, (560, 300), (575, 340), (0, 200, 255), -1)  # yellow-orange bolt seal
    assert detect_seal(sealed, ROI).present is True


def test_too_dark_to_tell():
    dark = (scene() * 0.15).astype(np.uint8)
    assert detect_seal(dark, ROI).present is None
