"""Camera recording quality (C1) per window and stream outages (gaps without frames).

Ek-80 III.A(2)–(4): entry/exit cameras and those at doors, inspection and handling areas record at least
1080p at 15 frames per second; general views at least 720p at 10 frames per second. Per camera and
event-time window (tumbling, ``window_s``) the measured resolution (the smallest frame height seen; 1080p
and 720p are line counts) and frame rate (1 / median interval between frames, with ``fps_tolerance`` for
millisecond timestamps) are compared with the role's minimum. A window that falls short opens a
``camera_noncompliant`` alert; the next compliant window resolves it.

Outages: :class:`OutageWatch` holds the last frame time of every camera and a site clock (the latest
event time of any camera). A camera silent for more than ``gap_s`` while the site clock advances opens a
``camera_outage`` alert; its next frame resolves it. A gap noticed only when the camera resumes (no other
camera advanced the clock) is raised and resolved at once, so every gap is on record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import median
from typing import Any

from operators.alerts import Alert

#: Minimum (frame height in lines, frames per second) per camera role.
ROLE_MINIMUMS: dict[str, tuple[int, float]] = {
    "entry_exit": (1080, 15.0),  # III.A(2) antrepo sahası giriş-çıkış yerleri
    "handling": (1080, 15.0),  # III.A(3) kapılar, muayene ve elleçleme alanları
    "general": (720, 10.0),  # III.A(4) genel izleme
}


def role_minimum(role: str) -> tuple[int, float]:
    """The minimum ``(lines, fps)`` of a role.

    Raises:
        ValueError: For an unknown role.
    """
    if role not in ROLE_MINIMUMS:
        raise ValueError(f"unknown camera role {role!r}; known: {', '.join(ROLE_MINIMUMS)}")
    return ROLE_MINIMUMS[role]


@dataclass(frozen=True)
class WindowQuality:
    """Measured quality of one camera in one window."""

    camera_id: str
    role: str
    window_start: datetime
    window_end: datetime
    frames: int
    width: int
    height: int
    fps: float
    max_gap_s: float
    min_height: int
    min_fps: float
    compliant: bool
    reasons: tuple[str, ...]


def assess(camera_id: str, role: str, window_start: datetime, window_end: datetime, times: list[datetime],
           width: int, height: int, fps_tolerance: float = 0.02) -> WindowQuality:
    """Compare one window's frames with the role's minimum.

    Args:
        camera_id: Camera.
        role: Camera role (a key of :data:`ROLE_MINIMUMS`).
        window_start: Window start.
        window_end: Window end.
        times: Event times of the window's frames, ascending.
        width: Smallest frame width seen in the window.
        height: Smallest frame height seen in the window.
        fps_tolerance: Relative slack on the frame rate (timestamps are rounded to milliseconds).

    Returns:
        The window's quality (a window with fewer than two frames has frame rate 0).
    """
    min_lines, min_fps = role_minimum(role)
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    positive = [g for g in gaps if g > 0]
    fps = 1.0 / median(positive) if positive else 0.0
    reasons = []
    if height < min_lines:
        reasons.append(f"resolution {width}x{height} below {min_lines}p")
    if fps < min_fps * (1.0 - fps_tolerance):
        reasons.append(f"frame rate {fps:.2f} fps below {min_fps:g} fps")
    return WindowQuality(camera_id, role, window_start, window_end, len(times), width, height, round(fps, 3),
                         max(gaps, default=0.0), min_lines, min_fps, not reasons, tuple(reasons))


@dataclass
class ComplianceWindow:
    """Tumbling event-time windows of one camera and its open noncompliance alert."""

    camera_id: str
    role: str
    window_s: float = 60.0
    fps_tolerance: float = 0.02
    flow: str = "cameras"
    start: datetime | None = None
    times: list[datetime] = field(default_factory=list)
    width: int = 0
    height: int = 0
    open_alert: Alert | None = None

    def window_of(self, ts: datetime) -> datetime:
        """Start of the window holding ``ts`` (windows aligned on the epoch)."""
        step = int(self.window_s * 1000)
        ms = int(ts.timestamp() * 1000)
        return ts - timedelta(milliseconds=ms % step, microseconds=ts.microsecond % 1000)

    def on_frame(self, ts: datetime, width: int, height: int) -> list[tuple[WindowQuality, list[Alert]]]:
        """Add a frame; returns the windows it closed with their alerts."""
        start = self.window_of(ts)
        out = []
        if self.start is not None and start > self.start:
            out.append(self.close())
        if self.start is None:
            self.start = start
        self.times.append(ts)
        self.width = width if self.width == 0 else min(self.width, width)
        self.height = height if self.height == 0 else min(self.height, height)
        return out

    def close(self) -> tuple[WindowQuality, list[Alert]]:
        """Close the open window (at the end of input, or when a later frame arrives).

        Raises:
            ValueError: When no window is open.
        """
        if self.start is None:
            raise ValueError("no open window")
        end = self.start + timedelta(seconds=self.window_s)
        q = assess(self.camera_id, self.role, self.start, end, self.times, self.width, self.height,
                   self.fps_tolerance)
        alerts: list[Alert] = []
        if not q.compliant and self.open_alert is None:
            self.open_alert = Alert(
                "camera_noncompliant", "warning", "camera", self.camera_id, q.window_start, q.window_end,
                f"Camera records below the {self.role} minimum ({'; '.join(q.reasons)}): "
                "set the camera to the required resolution and frame rate.",
                _quality_details(q), flow=self.flow, status_ts=q.window_end)
            alerts.append(self.open_alert)
        elif q.compliant and self.open_alert is not None:
            done = replace(self.open_alert, window_end=q.window_start)
            alerts.append(done.with_status("resolved", q.window_end, note="recording quality back to the minimum"))
            self.open_alert = None
        self.start, self.times, self.width, self.height = None, [], 0, 0
        return q, alerts


def _quality_details(q: WindowQuality) -> dict[str, Any]:
    return {"role": q.role, "width": q.width, "height": q.height, "fps": q.fps, "frames": q.frames,
            "min_height": q.min_height, "min_fps": q.min_fps, "reasons": list(q.reasons)}


@dataclass
class OutageWatch:
    """Gaps in the cameras' streams, judged on event time (see the module docstring).

    State: one last-frame time and at most one open alert per camera.
    """

    gap_s: float = 5.0
    flow: str = "cameras"
    clock: datetime | None = None
    last: dict[str, datetime] = field(default_factory=dict)
    open_alerts: dict[str, Alert] = field(default_factory=dict)

    def on_frame(self, camera_id: str, ts: datetime) -> list[Alert]:
        """Record a frame of a camera; returns outage alerts opened or resolved."""
        out: list[Alert] = []
        gap = timedelta(seconds=self.gap_s)
        prev = self.last.get(camera_id)
        alert = self.open_alerts.pop(camera_id, None)
        if alert is None and prev is not None and ts - prev > gap:
            alert = self._open(camera_id, prev, ts)  # gap seen only now: recorded open, then resolved
            out.append(alert)
        if alert is not None and prev is not None:
            done = replace(alert, window_end=ts, details={**alert.details, "gap_s": (ts - prev).total_seconds()})
            out.append(done.with_status("resolved", ts, note="frames resumed"))
        if prev is None or ts > prev:
            self.last[camera_id] = ts
        if self.clock is None or ts > self.clock:
            self.clock = ts
            for cam, seen in self.last.items():
                if cam not in self.open_alerts and self.clock - seen > gap:
                    self.open_alerts[cam] = self._open(cam, seen, self.clock)
                    out.append(self.open_alerts[cam])
        return out

    def _open(self, camera_id: str, since: datetime, now: datetime) -> Alert:
        return Alert("camera_outage", "critical", "camera", camera_id, since, now,
                     "No frames from the camera: check its power, network and recorder.",
                     {"last_frame_ts": since.isoformat(), "gap_threshold_s": self.gap_s}, flow=self.flow,
                     status_ts=now)
