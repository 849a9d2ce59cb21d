"""Seeded synthetic camera streams with injected tampering and ground truth (camera health, C1/C3).

A camera looks at a fixed textured scene (sky, buildings with windows, poles, a sign, paved ground with
markings); trucks with corrugated trailers drive across; the light follows a day/night gain with sensor
noise that grows at night. From a known frame on, one tamper kind is applied:

- ``defocus``: Gaussian blur (σ 5 px at 1080p, scaled with the width);
- ``blocked``: a dark cover (lens taped or capped);
- ``sprayed``: heavy blur under a white haze (paint on the lens);
- ``moved``: the view rotated by 4° and shifted by 90 px at 1080p (camera turned);
- ``frozen``: the encoder repeats the last picture (identical JPEG bytes);
- ``outage``: no frames for ``outage_s`` seconds.

And three things that must raise nothing: ``blur_once`` (one blurred frame), ``truck_fill`` (a truck
stops right in front of the camera and fills most of the view for ``truck_fill_s`` seconds) and ``night``
(the light falls to 25 % with more sensor noise).

:func:`write_streams` writes a replay directory: ``camera.frames/`` with the JPEG files, the manifest
``frames.jsonl`` (``file``, ``camera_id``, ``ts``, plus ``width``/``height`` for information) in event-time
order across cameras, and ``truth.jsonl`` (one line per camera: its tamper kind and first frame).
The same seed gives byte-identical JPEGs.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from operators.events import iso_ms

FRAMES_DIR = "camera.frames"
MANIFEST = "frames.jsonl"
TAMPER_KINDS = ("defocus", "blocked", "sprayed", "moved", "frozen", "outage")
BENIGN_KINDS = ("none", "blur_once", "truck_fill", "night")


@dataclass(frozen=True)
class CameraSpec:
    """One simulated camera.

    Attributes:
        camera_id: Camera id.
        width: Frame width in pixels.
        height: Frame height in pixels.
        fps: Frames per second.
        seconds: Length of the stream.
        event: A tamper kind, a benign kind or ``none``.
        event_at_s: When the event starts (seconds from the stream start).
        seed: Scene and noise seed.
        outage_s: Length of an ``outage`` gap.
        truck_fill_s: How long the ``truck_fill`` truck stays.
        trucks_per_min: Passing trucks per minute.
        quality: JPEG quality.
    """

    camera_id: str
    width: int = 1280
    height: int = 720
    fps: float = 10.0
    seconds: float = 20.0
    event: str = "none"
    event_at_s: float = 10.0
    seed: int = 7
    outage_s: float = 20.0
    truck_fill_s: float = 4.0
    trucks_per_min: float = 6.0
    quality: int = 80

    @property
    def n_frames(self) -> int:
        """Frames the camera produces (before an outage removes some)."""
        return round(self.seconds * self.fps)

    @property
    def event_frame(self) -> int:
        """Index of the first frame the event affects."""
        return round(self.event_at_s * self.fps)


@dataclass(frozen=True)
class Truth:
    """Ground truth of one camera stream."""

    camera_id: str
    event: str
    event_frame: int
    event_ts: str
    fps: float
    width: int
    height: int
    frames: int


def make_scene(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A static textured BGR scene: sky, buildings with windows, poles, a sign and marked paving."""
    img = np.zeros((height, width, 3), np.uint8)
    horizon = int(height * 0.45)
    sky = np.linspace(200, 150, horizon, dtype=np.float32)[:, None]
    img[:horizon] = np.stack([sky + 20, sky + 5, sky - 10], axis=-1).astype(np.uint8)
    s = width / 1920
    x = 0
    while x < width:  # buildings along the horizon
        bw = int(rng.integers(120, 320) * s)
        bh = int(rng.integers(int(height * 0.12), int(height * 0.35)))
        colour = tuple(int(c) for c in rng.integers(60, 180, 3))
        cv2.rectangle(img, (x, horizon - bh), (x + bw, horizon), colour, -1)
        for wy in range(horizon - bh + int(12 * s), horizon - int(10 * s), max(4, int(28 * s))):
            for wx in range(x + int(10 * s), x + bw - int(14 * s), max(4, int(30 * s))):
                shade = int(rng.integers(20, 240))
                cv2.rectangle(img, (wx, wy), (wx + max(2, int(14 * s)), wy + max(2, int(14 * s))),
                              (shade, shade, min(255, shade + 20)), -1)
        x += bw + int(rng.integers(5, 40) * s)
    ground = rng.normal(105, 18, (height - horizon, width)).astype(np.float32)
    ground = cv2.GaussianBlur(ground, (0, 0), 1.2 * max(s, 0.5))
    img[horizon:] = np.clip(ground, 0, 255).astype(np.uint8)[:, :, None]
    for i in range(6):  # lane markings
        y = horizon + int((i + 1) * (height - horizon) / 7)
        cv2.line(img, (0, y), (width, y + int(rng.integers(-20, 20) * s)), (230, 230, 230), max(1, int(6 * s)))
    for px in np.linspace(width * 0.08, width * 0.92, 5):  # poles with yellow/black bands
        x0 = int(px)
        for k, y in enumerate(range(int(height * 0.2), int(height * 0.9), max(4, int(40 * s)))):
            col = (0, 200, 240) if k % 2 == 0 else (20, 20, 20)
            cv2.rectangle(img, (x0, y), (x0 + max(2, int(18 * s)), y + max(4, int(40 * s))), col, -1)
    cv2.rectangle(img, (int(width * 0.35), int(height * 0.08)), (int(width * 0.65), int(height * 0.18)),
                  (90, 60, 20), -1)
    cv2.putText(img, "GATE 3 IN", (int(width * 0.38), int(height * 0.16)), cv2.FONT_HERSHEY_SIMPLEX,
                2.2 * s, (255, 255, 255), max(1, int(5 * s)))
    return img


def _draw_truck(img: np.ndarray, x: int, width_px: int, top: int, bottom: int, colour: tuple[int, int, int]) -> None:
    w = img.shape[1]
    x0, x1 = max(0, x), min(w, x + width_px)
    if x1 <= x0:
        return
    cv2.rectangle(img, (x0, top), (x1, bottom), colour, -1)
    step = max(3, int(18 * w / 1920))
    dark = tuple(max(0, c - 60) for c in colour)
    for rx in range(x - x % step, x + width_px, step):  # corrugation ribs
        if x0 <= rx < x1:
            cv2.line(img, (rx, top), (rx, bottom), dark, max(1, step // 3))
    cv2.rectangle(img, (x0, top), (x1, bottom), (30, 30, 30), max(1, int(4 * w / 1920)))
    wheel_r = max(3, int((bottom - top) * 0.08))
    for wx in (x + width_px // 6, x + width_px // 2, x + 5 * width_px // 6):
        if x0 <= wx < x1:
            cv2.circle(img, (wx, bottom + wheel_r // 2), wheel_r, (15, 15, 15), -1)


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    b, g, r = (int(c) for c in rng.integers(40, 220, 3))
    return b, g, r


def _light(t: float, spec: CameraSpec) -> float:
    """Global gain: 1 by day; for ``night`` it falls to 0.25 over two seconds from the event time."""
    if spec.event != "night" or t < spec.event_at_s:
        return 1.0
    return 1.0 - 0.75 * min(1.0, (t - spec.event_at_s) / 2.0)


def _frames(spec: CameraSpec) -> Iterator[tuple[int, float, bytes]]:
    """``(frame index, seconds from start, JPEG bytes)`` of one camera."""
    rng = np.random.default_rng(spec.seed)
    scene = make_scene(spec.width, spec.height, rng)
    w, h = spec.width, spec.height
    s = w / 1920
    # passing trucks: (start time, speed px/s, length px, colour)
    trucks: list[tuple[float, float, int, tuple[int, int, int]]] = []
    n_trucks = int(spec.seconds / 60.0 * spec.trucks_per_min) + 1
    for _ in range(n_trucks):
        trucks.append((float(rng.uniform(0, spec.seconds)), float(rng.uniform(0.25, 0.5)) * w,
                       int(rng.uniform(0.35, 0.6) * w), _colour(rng)))
    noise_rng = np.random.default_rng(spec.seed + 1)
    last: bytes | None = None
    theta, shift = 4.0, 90.0 * s
    moved = cv2.getRotationMatrix2D((w / 2, h / 2), theta, 1.0)
    moved[0, 2] += shift
    for i in range(spec.n_frames):
        t = i / spec.fps
        event_on = i >= spec.event_frame
        if spec.event == "outage" and event_on and t < spec.event_at_s + spec.outage_s:
            continue
        if spec.event == "frozen" and event_on and last is not None:
            yield i, t, last
            continue
        img = scene.copy()
        for start, speed, length, colour in trucks:
            x = int(-length + (t - start) * speed)
            if -length < x < w:
                _draw_truck(img, x, length, int(h * 0.42), int(h * 0.78), colour)
        if spec.event == "truck_fill" and event_on and t < spec.event_at_s + spec.truck_fill_s:
            _draw_truck(img, int(-0.05 * w), int(1.1 * w), int(h * 0.05), int(h * 0.92), (40, 90, 170))
        if spec.event == "moved" and event_on:
            img = cv2.warpAffine(img, moved, (w, h), borderMode=cv2.BORDER_REFLECT)
        gain = _light(t, spec)
        sigma_noise = 2.0 + (6.0 * (1.0 - gain))
        frame = img.astype(np.float32) * gain
        if (spec.event == "defocus" and event_on) or (spec.event == "blur_once" and i == spec.event_frame):
            frame = cv2.GaussianBlur(frame, (0, 0), 5.0 * s)
        if spec.event == "sprayed" and event_on:
            frame = cv2.GaussianBlur(frame, (0, 0), 25.0 * s) * 0.3 + 170.0
        if spec.event == "blocked" and event_on:
            frame = np.full_like(frame, 6.0) + cv2.GaussianBlur(frame, (0, 0), 40.0 * s) * 0.02
        frame += noise_rng.normal(0.0, sigma_noise, (h, w, 1)).astype(np.float32)
        out = np.clip(frame, 0, 255).astype(np.uint8)
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, spec.quality])
        if not ok:  # pragma: no cover - OpenCV always encodes a uint8 image
            raise RuntimeError("JPEG encoding failed")
        last = buf.tobytes()
        yield i, t, last


def stream_frames(spec: CameraSpec, start: datetime) -> Iterator[tuple[datetime, int, bytes]]:
    """``(event time, frame index, JPEG bytes)`` of one camera from ``start``."""
    for i, t, data in _frames(spec):
        yield start + timedelta(seconds=t), i, data


def truth_of(spec: CameraSpec, start: datetime) -> Truth:
    """Ground truth of a camera stream."""
    return Truth(spec.camera_id, spec.event, spec.event_frame,
                 iso_ms(start + timedelta(seconds=spec.event_frame / spec.fps)), spec.fps, spec.width, spec.height,
                 spec.n_frames)


def _tagged(k: int, frames: Iterator[tuple[datetime, int, bytes]]) -> Iterator[tuple[datetime, int, int, bytes]]:
    for ts, i, data in frames:
        yield ts, k, i, data


def write_streams(out: Path, specs: Sequence[CameraSpec], start: datetime) -> list[Truth]:
    """Write a replay directory with the cameras' frames merged in event-time order.

    Args:
        out: Replay directory (created).
        specs: The cameras.
        start: Event time of every stream's first frame.

    Returns:
        The ground truth per camera (also written to ``truth.jsonl``).
    """
    folder = out / FRAMES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    streams = [_tagged(k, stream_frames(spec, start)) for k, spec in enumerate(specs)]
    with (folder / MANIFEST).open("w", encoding="utf-8") as fh:
        for ts, k, i, data in heapq.merge(*streams):
            spec = specs[k]
            name = f"{spec.camera_id}-{i:06d}.jpg"
            (folder / name).write_bytes(data)
            fh.write(json.dumps({"file": name, "camera_id": spec.camera_id, "ts": iso_ms(ts),
                                 "width": spec.width, "height": spec.height}) + "\n")
    truths = [truth_of(spec, start) for spec in specs]
    with (out / "truth.jsonl").open("w", encoding="utf-8") as fh:
        for tr in truths:
            fh.write(json.dumps(asdict(tr)) + "\n")
    return truths


def demo_cameras(seconds: float = 30.0, seed: int = 7) -> list[CameraSpec]:
    """The demo site's cameras (see the ``[cameras]`` section of the demo configuration), one event each.

    The entry camera is 1080p at 15 fps and goes out of focus; the handling-area camera is only 720p
    (noncompliant) and is covered; the general views (720p, 10 fps) are turned, frozen, cut off, sprayed,
    or see night fall and a truck stop in front (the last two raise nothing).
    """
    at = seconds / 2
    return [
        CameraSpec("gate1-entry", 1920, 1080, 15.0, seconds, "defocus", at, seed),
        CameraSpec("meter-area", 1280, 720, 15.0, seconds, "blocked", at, seed + 1),
        CameraSpec("yard-north", 1280, 720, 10.0, seconds, "moved", at, seed + 2),
        CameraSpec("yard-south", 1280, 720, 10.0, seconds, "frozen", at, seed + 3),
        CameraSpec("warehouse-a", 1280, 720, 10.0, seconds, "outage", at, seed + 4, outage_s=seconds / 4),
        CameraSpec("warehouse-b", 1280, 720, 10.0, seconds, "sprayed", at, seed + 5),
        CameraSpec("quay-view", 1280, 720, 10.0, seconds, "night", at / 2, seed + 6),
        CameraSpec("gate1-exit", 1920, 1080, 15.0, seconds, "truck_fill", at, seed + 7),
    ]


def default_start() -> datetime:
    """Event time of the demo streams' first frame."""
    return datetime(2026, 3, 1, 21, 0, tzinfo=UTC)
