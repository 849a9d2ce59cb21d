"""Camera metrics on constructed images whose values are known independently."""

from __future__ import annotations

import math

import cv2
import numpy as np

from operators.camera_metrics import align, features, intensity_stats, mean_abs_diff, sharpness, work_frame


def _texture(seed: int = 1, w: int = 480, h: int = 270) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h // 6, w // 6), dtype=np.uint8)
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_NEAREST)  # blocks with hard edges
    out: np.ndarray = cv2.GaussianBlur(img, (0, 0), 0.8)
    return out


def test_entropy_and_stats_match_hand_computation() -> None:
    flat = np.full((100, 100), 77, np.uint8)
    mean, std, entropy = intensity_stats(flat)
    assert (mean, std, entropy) == (77.0, 0.0, 0.0)
    half = np.zeros((100, 100), np.uint8)
    half[:, 50:] = 200  # two equally likely levels: exactly 1 bit, mean 100, std 100
    mean, std, entropy = intensity_stats(half)
    assert math.isclose(entropy, 1.0) and math.isclose(mean, 100.0) and math.isclose(std, 100.0)
    quarters = np.repeat(np.arange(4, dtype=np.uint8) * 60, 2500).reshape(100, 100)
    assert math.isclose(intensity_stats(quarters)[2], 2.0)


def test_sharpness_is_gain_invariant_and_falls_with_blur() -> None:
    img = _texture()
    s, lap = sharpness(img)
    dark = (img.astype(np.float32) * 0.5).round().astype(np.uint8)
    s_dark, lap_dark = sharpness(dark)
    assert abs(s_dark - s) / s < 0.1  # normalised: the gain cancels
    assert lap_dark < 0.3 * lap  # the raw Laplacian variance scales with gain² = 0.25
    blurred = cv2.GaussianBlur(img, (0, 0), 2.0)
    assert sharpness(blurred)[0] < 0.35 * s
    assert sharpness(np.full((50, 50), 9, np.uint8)) == (0.0, 0.0)


def test_alignment_recovers_known_shift_and_rotation() -> None:
    img = _texture(3)
    ref = features(img)
    same = align(ref, features(img), (480, 270), 1.0)
    assert same.inliers > 50 and same.shift_px < 0.5
    m = np.float32([[1, 0, 25], [0, 1, -10]])  # 25 px right, 10 px up: |shift| = sqrt(725)
    shifted = cv2.warpAffine(img, m, (480, 270), borderMode=cv2.BORDER_REFLECT)
    a = align(ref, features(shifted), (480, 270), 4.0)  # full resolution 4x the working frame
    assert abs(a.shift_px - 4.0 * math.hypot(25, 10)) < 4.0
    rot = cv2.getRotationMatrix2D((240, 135), 6.0, 1.0)  # about the centre: the centre does not move
    turned = cv2.warpAffine(img, rot, (480, 270), borderMode=cv2.BORDER_REFLECT)
    r = align(ref, features(turned), (480, 270), 1.0)
    assert abs(abs(r.rotation_deg) - 6.0) < 0.5 and r.shift_px < 3.0


def test_alignment_without_features_is_not_estimable() -> None:
    flat = np.full((270, 480), 128, np.uint8)
    a = align(features(_texture()), features(flat), (480, 270), 1.0)
    assert a.matches == 0 and a.inliers == 0 and math.isinf(a.shift_px)


def test_work_frame_downscales_1080p_and_frozen_diff() -> None:
    big = np.zeros((1080, 1920, 3), np.uint8)
    wf = work_frame(big)
    assert wf.grey.shape == (270, 480) and (wf.width, wf.height) == (1920, 1080) and wf.scale == 4.0
    a = _texture()
    b = a.copy()
    b[0, :10] = a[0, :10] ^ 1  # ten pixels differ by one level
    assert mean_abs_diff(a, a) == 0.0
    assert math.isclose(mean_abs_diff(a, b), 10 / a.size)
