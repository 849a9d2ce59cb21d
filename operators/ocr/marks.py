"""Non-text marks on a frame: the dangerous-goods diamond (placard) and the seal at the door handles.

Both are cheap OpenCV detectors (``shared/research/ocr.md`` §7): the placard is a convex quadrilateral whose
corners sit at the mid-points of its bounding box (a square turned 45°) and fills about half of that box;
the seal is a small saturated blob, of another hue than the door, in the handle region of the rear camera.
The seal detector is a review signal, not proof: it answers ``None`` when the region is too dark to tell.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Fractions of the frame: (x0, y0, x1, y1).
Roi = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Mark:
    """A yes/no/unknown answer with a confidence 0..1."""

    present: bool | None
    confidence: float


def detect_placard(image: np.ndarray, work_width: int = 960) -> Mark:
    """Whether a dangerous-goods diamond is on the frame.

    Args:
        image: BGR frame.
        work_width: The frame is downscaled to this width first.

    Returns:
        ``present`` True/False with a confidence from the best diamond's shape.
    """
    h, w = image.shape[:2]
    scale = min(1.0, work_width / w)
    small = image if scale >= 1 else cv2.resize(image, (round(w * scale), round(h * scale)),
                                                interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(gray, (3, 3), 0), 50, 150)
    edges = cv2.dilate(edges, np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    sh = small.shape[0]
    best = 0.0
    for c in contours:
        x, y, bw, bh = cv2.boundingRect(c)
        if not (0.05 * sh <= bh <= 0.45 * sh) or not 0.7 <= bw / bh <= 1.4:
            continue
        hull = cv2.convexHull(c)  # background stripes cut into the border; the hull closes it
        approx = cv2.approxPolyDP(hull, 0.05 * cv2.arcLength(hull, True), True)
        if len(approx) != 4 or not cv2.isContourConvex(approx):
            continue
        quad_area = cv2.contourArea(approx)
        fill = quad_area / float(bw * bh)
        # a circle (wheel) also approximates to a 4-gon at the mid-points, but its hull is ~1.57x larger
        if not 0.38 <= fill <= 0.62 or cv2.contourArea(hull) > 1.15 * quad_area:
            continue
        pts = approx.reshape(4, 2).astype(np.float64)
        mids = np.array([[x + bw / 2, y], [x + bw, y + bh / 2], [x + bw / 2, y + bh], [x, y + bh / 2]])
        err = max(min(np.hypot(*(p - m)) for p in pts) for m in mids) / max(bw, bh)
        if err > 0.12:
            continue
        best = max(best, 1.0 - abs(fill - 0.5) * 2 - err)
    if best > 0:
        return Mark(True, round(min(0.99, 0.6 + 0.4 * best), 3))
    return Mark(False, 0.7)


def detect_seal(image: np.ndarray, roi: Roi, min_brightness: float = 45.0) -> Mark:
    """Whether a seal hangs at the door handles inside ``roi``.

    Args:
        image: BGR frame of the rear camera.
        roi: Handle region, fractions of the frame.
        min_brightness: Below this mean V (0–255) the region is too dark to tell.

    Returns:
        ``present`` True/False, or ``None`` when the camera cannot tell.
    """
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (round(roi[0] * w), round(roi[1] * h), round(roi[2] * w), round(roi[3] * h))
    crop = image[y0:y1, x0:x1]
    if crop.size == 0:
        return Mark(None, 0.0)
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
    if float(hsv[:, :, 2].mean()) < min_brightness:
        return Mark(None, 0.0)
    hue, sat, val = hsv[:, :, 0].astype(np.int16), hsv[:, :, 1], hsv[:, :, 2]
    door_hue = int(np.median(hue))
    door_sat = float(np.median(sat))  # a door of a saturated colour: only other hues count
    dh = np.abs(hue - door_hue)
    dh = np.minimum(dh, 180 - dh)
    mask = ((sat > 120) & (val > 90) & ((dh > 12) | (door_sat < 60))).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, _lab, stats, _cent = cv2.connectedComponentsWithStats(mask)
    area = crop.shape[0] * crop.shape[1]
    blobs = [s for s in stats[1:n] if area * 0.0004 <= s[cv2.CC_STAT_AREA] <= area * 0.05
             and s[cv2.CC_STAT_HEIGHT] >= s[cv2.CC_STAT_WIDTH]]
    if blobs:
        return Mark(True, 0.75)
    return Mark(False, 0.6)
