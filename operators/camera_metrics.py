"""Per-frame image-quality metrics for camera health (C3), computed on a small grey copy of the frame.

Every metric is taken on the frame converted to grey and downscaled with area averaging to ``work_width``
pixels wide (480 by default: a 1080p frame becomes 480×270), so one frame costs a few milliseconds; the
research note (``shared/research/ocr.md`` §7) measured 31–45 ms for the same checks at full resolution.

- sharpness: variance of the Laplacian divided by the variance of the grey image (normalised, so a global
  gain change such as night-time low light does not move it; defocus lowers it);
- brightness, contrast (standard deviation) and histogram entropy in bits (blocked or sprayed lens
  collapse contrast and entropy; a dark cover collapses brightness);
- ORB feature matches against a reference (ratio test) and the global similarity transform
  (``cv2.estimateAffinePartial2D``, RANSAC) giving the shift of the image centre in full-resolution pixels
  and the rotation in degrees (moved or turned camera);
- the mean absolute difference against the previous frame (frozen picture: identical frames).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

#: Width of the working copy every metric is computed on.
WORK_WIDTH = 480


@dataclass(frozen=True)
class WorkFrame:
    """A frame reduced for the metrics.

    Attributes:
        grey: Downscaled grey image (uint8).
        width: Width of the original frame in pixels.
        height: Height of the original frame in pixels.
        scale: Original width / working width (multiplies working-frame distances back to full resolution).
    """

    grey: np.ndarray
    width: int
    height: int
    scale: float


@dataclass(frozen=True)
class Features:
    """ORB keypoints (working-frame coordinates) and descriptors of a frame."""

    points: np.ndarray  # float32, shape (n, 2)
    descriptors: np.ndarray | None  # uint8, shape (n, 32)

    def __len__(self) -> int:
        return int(self.points.shape[0])


@dataclass(frozen=True)
class Alignment:
    """How a frame lies against the reference.

    Attributes:
        matches: Descriptor matches passing the ratio test.
        inliers: Matches consistent with the estimated similarity transform (0 when none was found).
        shift_px: Displacement of the image centre in full-resolution pixels (``inf`` when not estimable).
        rotation_deg: Rotation in degrees (0 when not estimable).
    """

    matches: int
    inliers: int
    shift_px: float
    rotation_deg: float


@dataclass(frozen=True)
class FrameMetrics:
    """The metrics of one frame (see the module docstring)."""

    width: int
    height: int
    sharpness: float
    laplacian_var: float
    brightness: float
    contrast: float
    entropy: float
    diff_prev: float
    alignment: Alignment

    def as_dict(self) -> dict[str, float | int]:
        """The values as a flat JSON-ready mapping (``inf`` shift written as -1)."""
        a = self.alignment
        return {
            "width": self.width, "height": self.height, "sharpness": round(self.sharpness, 4),
            "laplacian_var": round(self.laplacian_var, 2), "brightness": round(self.brightness, 2),
            "contrast": round(self.contrast, 2), "entropy": round(self.entropy, 3),
            "diff_prev": round(self.diff_prev, 3), "matches": a.matches, "inliers": a.inliers,
            "shift_px": round(a.shift_px, 2) if math.isfinite(a.shift_px) else -1.0,
            "rotation_deg": round(a.rotation_deg, 2),
        }


def work_frame(image: np.ndarray, work_width: int = WORK_WIDTH) -> WorkFrame:
    """Grey, area-downscaled copy of a BGR or grey frame (frames narrower than ``work_width`` are kept)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = grey.shape[:2]
    if w > work_width:
        small = cv2.resize(grey, (work_width, max(1, round(h * work_width / w))), interpolation=cv2.INTER_AREA)
    else:
        small = grey
    return WorkFrame(np.ascontiguousarray(small), int(w), int(h), w / small.shape[1])


def sharpness(grey: np.ndarray) -> tuple[float, float]:
    """``(normalised sharpness, Laplacian variance)`` of a grey image.

    The normalised value is var(Laplacian) / var(image): unitless, unchanged by a global gain, 0 for a
    uniform image.
    """
    lap = cv2.Laplacian(grey, cv2.CV_32F, ksize=3)
    lap_var = float(lap.var())
    var = float(grey.var())
    return (lap_var / var if var > 1e-6 else 0.0), lap_var


def intensity_stats(grey: np.ndarray) -> tuple[float, float, float]:
    """``(mean brightness, contrast = standard deviation, entropy of the 256-bin histogram in bits)``."""
    hist = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    p = hist[hist > 0] / hist.sum()
    entropy = float(-(p * np.log2(p)).sum())
    mean, std = cv2.meanStdDev(grey)
    return float(mean[0, 0]), float(std[0, 0]), entropy


_ORB_CACHE: dict[int, Any] = {}


def features(grey: np.ndarray, n_features: int = 500) -> Features:
    """ORB keypoints and descriptors of a grey image, after contrast normalisation.

    Stretching the intensities to the full range first lets the FAST detector find the same corners in
    a dark (night) frame as in daylight.
    """
    orb = _ORB_CACHE.get(n_features)
    if orb is None:
        orb = cv2.ORB.create(nfeatures=n_features, fastThreshold=10)
        _ORB_CACHE[n_features] = orb
    norm = cv2.normalize(grey, None, 0, 255, cv2.NORM_MINMAX)
    kps, desc = orb.detectAndCompute(norm, None)
    pts = np.array([k.pt for k in kps], dtype=np.float32).reshape(-1, 2)
    return Features(pts, desc)


_MATCHER = cv2.BFMatcher(cv2.NORM_HAMMING)


def align(ref: Features, cur: Features, size: tuple[int, int], scale: float, ratio: float = 0.75) -> Alignment:
    """Match ``cur`` against ``ref`` and estimate the similarity transform between them.

    Args:
        ref: Reference features.
        cur: Current frame's features.
        size: Working-frame ``(width, height)``; the shift is that of its centre.
        scale: Working-to-full-resolution factor for the shift.
        ratio: Lowe's ratio-test threshold.

    Returns:
        The alignment (``shift_px`` is ``inf`` when fewer than 3 matches allow no estimate).
    """
    if ref.descriptors is None or cur.descriptors is None or len(ref) < 2 or len(cur) < 2:
        return Alignment(0, 0, math.inf, 0.0)
    pairs = _MATCHER.knnMatch(cur.descriptors, ref.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < ratio * p[1].distance]
    if len(good) < 3:
        return Alignment(len(good), 0, math.inf, 0.0)
    src = ref.points[[m.trainIdx for m in good]]
    dst = cur.points[[m.queryIdx for m in good]]
    matrix, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0,
                                               maxIters=500, confidence=0.99)
    if matrix is None:
        return Alignment(len(good), 0, math.inf, 0.0)
    w, h = size
    centre = np.array([w / 2.0, h / 2.0])
    moved = matrix[:, :2] @ centre + matrix[:, 2]
    shift = float(np.hypot(*(moved - centre))) * scale
    rotation = math.degrees(math.atan2(float(matrix[1, 0]), float(matrix[0, 0])))
    return Alignment(len(good), int(mask.sum()) if mask is not None else 0, shift, rotation)


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute grey-level difference of two equal-sized images (``inf`` when the sizes differ)."""
    if a.shape != b.shape:
        return math.inf
    return float(cv2.norm(a, b, cv2.NORM_L1)) / a.size


def frame_metrics(frame: WorkFrame, ref: Features | None, cur: Features | None,
                  prev_grey: np.ndarray | None) -> FrameMetrics:
    """All metrics of one working frame.

    Args:
        frame: The working frame.
        ref: Reference features (``None``: no alignment yet).
        cur: This frame's features (computed by the caller, who may keep them as the next reference).
        prev_grey: The previous working frame of the same camera (``None``: first frame).

    Returns:
        The metrics.
    """
    sharp, lap_var = sharpness(frame.grey)
    mean, std, entropy = intensity_stats(frame.grey)
    h, w = frame.grey.shape[:2]
    alignment = align(ref, cur, (w, h), frame.scale) if ref is not None and cur is not None \
        else Alignment(0, 0, math.inf, 0.0)
    diff = mean_abs_diff(frame.grey, prev_grey) if prev_grey is not None else math.inf
    return FrameMetrics(frame.width, frame.height, sharp, lap_var, mean, std, entropy, diff, alignment)
