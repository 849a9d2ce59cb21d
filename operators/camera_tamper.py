"""Tamper detection per camera (C3): reference, per-frame conditions, persistence, states and alerts.

Each camera has a reference learned from its first ``learn_frames`` frames (the keyframe with the most
ORB features and the median sharpness) and refreshed slowly: the reference sharpness follows an
exponential average of quiet frames, and the keyframe is replaced by a quiet, aligned frame every
``refresh_frames`` quiet frames, so day/night changes are followed while a moved camera is not learned.

Per frame, the metrics of :mod:`operators.camera_metrics` give conditions:

- ``frozen``: the picture equals the previous one (mean absolute difference below ``frozen_diff``; a live
  sensor always has some noise);
- ``blocked``: the reference is lost (fewer than ``min_inliers`` geometrically consistent matches) *and*
  the picture is flat (dark, low contrast or low entropy) — a cover, tape or spray. A truck filling the
  view loses the reference but is not flat;
- ``moved``: enough inliers (``min_inliers``) agree on a shift above ``moved_shift_px`` or a rotation above
  ``moved_rotation_deg``; or the reference has been lost without a flat picture for ``lost_frames``
  consecutive frames (camera turned to another view);
- ``defocused``: sharpness below ``defocus_ratio`` times the reference sharpness. Sharpness is normalised
  by the image variance, so low light does not lower it.

A state is entered when its condition holds in ``persist_frames`` of the last ``window_frames`` frames
(so one blurred frame or a passing truck raises nothing) and left after ``clear_frames`` consecutive
frames without it. Priority when several hold: frozen > blocked > moved > defocused. Entering a state opens
an alert carrying the evidence frame and the metric values; leaving it resolves that alert.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from statistics import median
from typing import Any

import numpy as np

from operators.alerts import Alert, Severity
from operators.camera_metrics import WORK_WIDTH, Features, FrameMetrics, features, frame_metrics, work_frame

STATES = ("learning", "ok", "defocused", "blocked", "moved", "frozen", "outage", "noncompliant")
#: Tamper conditions by priority (highest first).
PRIORITY = ("frozen", "blocked", "moved", "defocused")
ALERT_KIND = {"frozen": "camera_frozen", "blocked": "camera_blocked", "moved": "camera_moved",
              "defocused": "camera_defocused"}
_MESSAGES = {
    "frozen": "The camera repeats the same picture: check the encoder/recorder and restart the stream.",
    "blocked": "The camera view is blocked or sprayed: inspect the lens and the area in front of it.",
    "moved": "The camera has been moved or turned away from its view: restore its position.",
    "defocused": "The camera is out of focus: check the lens and refocus.",
}
_SEVERITY: dict[str, Severity] = {"frozen": "critical", "blocked": "critical", "moved": "critical",
                                  "defocused": "warning"}


@dataclass(frozen=True)
class TamperParams:
    """Thresholds and persistence of the tamper checks (``[cameras]`` in the site configuration)."""

    learn_frames: int = 10
    window_frames: int = 12
    persist_frames: int = 10
    clear_frames: int = 10
    lost_frames: int = 300
    defocus_ratio: float = 0.35
    min_inliers: int = 20
    flat_contrast: float = 12.0
    dark_brightness: float = 15.0
    flat_entropy: float = 3.5
    moved_shift_px: float = 20.0
    moved_rotation_deg: float = 2.0
    frozen_diff: float = 0.2
    refresh_frames: int = 900
    ema_alpha: float = 0.01
    work_width: int = WORK_WIDTH
    orb_features: int = 500
    flow: str = "cameras"

    def __post_init__(self) -> None:
        if not 1 <= self.persist_frames <= self.window_frames:
            raise ValueError("cameras: need 1 <= persist_frames <= window_frames")
        if self.learn_frames < 1 or self.clear_frames < 1 or self.lost_frames < 1:
            raise ValueError("cameras: learn_frames, clear_frames and lost_frames must be at least 1")


@dataclass(frozen=True)
class FrameRef:
    """Where a frame can be found again: its SHA-256 (the frame archive's key) and source position."""

    key: str
    position: str


@dataclass(frozen=True)
class Transition:
    """A change of a camera's state (stored in ``camera_state_changes``)."""

    camera_id: str
    ts: datetime
    from_state: str
    to_state: str
    frame: FrameRef
    metrics: dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    """What one frame did to its camera's health."""

    metrics: FrameMetrics
    conditions: frozenset[str]
    state: str
    transitions: tuple[Transition, ...] = ()
    alerts: tuple[Alert, ...] = ()


def conditions_of(m: FrameMetrics, ref_sharpness: float, p: TamperParams) -> set[str]:
    """The tamper conditions one frame shows (``lost`` = reference lost on a picture that is not flat)."""
    out: set[str] = set()
    a = m.alignment
    if m.diff_prev < p.frozen_diff:
        out.add("frozen")
        return out  # a repeated picture says nothing new about the view
    lost = a.inliers < p.min_inliers
    flat = m.contrast < p.flat_contrast or m.brightness < p.dark_brightness or m.entropy < p.flat_entropy
    if lost and flat:
        out.add("blocked")
    elif lost:
        out.add("lost")
    elif a.inliers >= p.min_inliers and (a.shift_px > p.moved_shift_px or abs(a.rotation_deg) > p.moved_rotation_deg):
        out.add("moved")
    if not flat and ref_sharpness > 0 and m.sharpness < p.defocus_ratio * ref_sharpness:
        out.add("defocused")
    return out


@dataclass
class CameraTamper:
    """The tamper state of one camera: reference, recent conditions, current state and its open alert.

    The state is bounded: the reference keyframe, the previous working frame and ``window_frames``
    recent conditions.
    """

    camera_id: str
    params: TamperParams = field(default_factory=TamperParams)
    state: str = "learning"
    ref: Features | None = None
    ref_sharpness: float = 0.0
    prev_grey: np.ndarray | None = None
    learning: list[tuple[float, Features]] = field(default_factory=list)
    recent: deque[tuple[frozenset[str], datetime, FrameRef]] = field(default_factory=deque)
    misses: int = 0
    lost_run: int = 0
    quiet: int = 0
    frames: int = 0
    open_alert: Alert | None = None

    def on_frame(self, image: np.ndarray, ts: datetime, frame: FrameRef) -> Verdict:
        """Assess one decoded frame (BGR or grey) of this camera, in event-time order."""
        p = self.params
        wf = work_frame(image, p.work_width)
        cur = features(wf.grey, p.orb_features)
        m = frame_metrics(wf, self.ref, cur, self.prev_grey)
        self.prev_grey = wf.grey
        self.frames += 1
        if self.ref is None:
            return self._learn(m, cur, ts, frame)
        conds = frozenset(conditions_of(m, self.ref_sharpness, p))
        self.lost_run = self.lost_run + 1 if "lost" in conds else 0
        self.recent.append((conds, ts, frame))
        while len(self.recent) > p.window_frames:
            self.recent.popleft()
        transitions: list[Transition] = []
        alerts: list[Alert] = []
        candidate = self._candidate()
        if self.state == "ok":
            if candidate is not None:
                self._enter(candidate, m, ts, frame, transitions, alerts)
            elif not conds:
                self._refresh(m, cur)
        else:
            held = self.state in conds or (self.state == "moved" and "lost" in conds)
            self.misses = 0 if held else self.misses + 1
            if candidate is not None and PRIORITY.index(candidate) < PRIORITY.index(self.state):
                self._leave(m, ts, frame, transitions, alerts, to=candidate)
                self._enter(candidate, m, ts, frame, transitions, alerts)
            elif self.misses >= p.clear_frames:
                self._leave(m, ts, frame, transitions, alerts, to="ok")
        return Verdict(m, conds, self.state, tuple(transitions), tuple(alerts))

    def _learn(self, m: FrameMetrics, cur: Features, ts: datetime, frame: FrameRef) -> Verdict:
        p = self.params
        flat = m.contrast < p.flat_contrast or m.brightness < p.dark_brightness or m.entropy < p.flat_entropy
        if not flat and m.diff_prev >= p.frozen_diff:
            self.learning.append((m.sharpness, cur))
        transitions: tuple[Transition, ...] = ()
        if len(self.learning) >= p.learn_frames:
            self.ref_sharpness = median(s for s, _ in self.learning)
            self.ref = max((f for _, f in self.learning), key=len)
            self.learning = []
            self.state = "ok"
            transitions = (Transition(self.camera_id, ts, "learning", "ok", frame, m.as_dict()),)
        return Verdict(m, frozenset(), self.state, transitions)

    def _candidate(self) -> str | None:
        p = self.params
        if self.lost_run >= p.lost_frames:
            return "moved"
        for kind in PRIORITY:
            if sum(1 for conds, _, _ in self.recent if kind in conds) >= p.persist_frames:
                return kind
        return None

    def _refresh(self, m: FrameMetrics, cur: Features) -> None:
        p = self.params
        a = m.alignment
        if a.inliers < 2 * p.min_inliers or not math.isfinite(a.shift_px) or a.shift_px > 2.0:
            return
        self.ref_sharpness += p.ema_alpha * (m.sharpness - self.ref_sharpness)
        self.quiet += 1
        if self.quiet >= p.refresh_frames:
            self.ref = cur
            self.quiet = 0

    def _enter(self, kind: str, m: FrameMetrics, ts: datetime, frame: FrameRef,
               transitions: list[Transition], alerts: list[Alert]) -> None:
        first_ts, first_frame = next(((t, f) for conds, t, f in self.recent if kind in conds), (ts, frame))
        if kind == "moved" and self.lost_run >= self.params.lost_frames:
            first_ts, first_frame = ts, frame
        transitions.append(Transition(self.camera_id, ts, self.state, kind, frame, m.as_dict()))
        details = {
            "state": kind, "evidence_frame": frame.key, "evidence_position": frame.position,
            "first_frame": first_frame.key, "first_position": first_frame.position,
            "metrics": m.as_dict(), "reference_sharpness": round(self.ref_sharpness, 4),
            "thresholds": _thresholds(kind, self.params),
        }
        alert = Alert(ALERT_KIND[kind], _SEVERITY[kind], "camera", self.camera_id, first_ts, ts, _MESSAGES[kind],
                      details, flow=self.params.flow, status_ts=ts)
        self.open_alert = alert
        alerts.append(alert)
        self.state = kind
        self.misses = 0

    def _leave(self, m: FrameMetrics, ts: datetime, frame: FrameRef, transitions: list[Transition],
               alerts: list[Alert], to: str) -> None:
        transitions.append(Transition(self.camera_id, ts, self.state, to, frame, m.as_dict()))
        if self.open_alert is not None:
            done = replace(self.open_alert, window_end=ts)
            alerts.append(done.with_status("resolved", ts, note=f"picture back to {to} at frame {frame.position}"))
            self.open_alert = None
        self.state = to
        self.misses = 0


def _thresholds(kind: str, p: TamperParams) -> dict[str, float]:
    if kind == "defocused":
        return {"defocus_ratio": p.defocus_ratio}
    if kind == "blocked":
        return {"min_inliers": p.min_inliers, "flat_contrast": p.flat_contrast,
                "dark_brightness": p.dark_brightness, "flat_entropy": p.flat_entropy}
    if kind == "moved":
        return {"moved_shift_px": p.moved_shift_px, "moved_rotation_deg": p.moved_rotation_deg,
                "min_inliers": p.min_inliers, "lost_frames": p.lost_frames}
    return {"frozen_diff": p.frozen_diff}
