"""Health of one camera: tamper state (C3) and recording quality (C1) folded into per-window rows (C4).

:class:`CameraHealth` feeds each decoded frame to :class:`~operators.camera_tamper.CameraTamper` and to
the compliance window, and accumulates the frame metrics of the window; when a window closes it yields
one ``camera_health`` row (measured resolution and frame rate against the role's minimum, mean metrics,
the state at the end and the worst state in the window). State changes become ``camera_state_changes``
rows. Everything is bounded per camera: the tamper state plus one window's frame times.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from operators.alerts import Alert
from operators.camera_compliance import ComplianceWindow, WindowQuality
from operators.camera_tamper import PRIORITY, CameraTamper, FrameRef, TamperParams, Transition

#: Severity order of states for the window's worst state.
_RANK = {s: i for i, s in enumerate(("learning", "ok", *reversed(PRIORITY)))}


@dataclass
class HealthOutput:
    """What one frame (or the end of input) produced."""

    health: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # frame keys to keep in the archive


@dataclass
class _Sums:
    n: int = 0
    sharpness: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    entropy: float = 0.0
    inliers: float = 0.0
    max_shift: float = 0.0
    worst: str = "learning"


@dataclass
class CameraHealth:
    """Tamper and compliance of one camera (see the module docstring)."""

    camera_id: str
    role: str
    params: TamperParams = field(default_factory=TamperParams)
    window_s: float = 60.0
    fps_tolerance: float = 0.02
    tamper: CameraTamper = field(init=False)
    window: ComplianceWindow = field(init=False)
    sums: _Sums = field(default_factory=_Sums)

    def __post_init__(self) -> None:
        self.tamper = CameraTamper(self.camera_id, self.params)
        self.window = ComplianceWindow(self.camera_id, self.role, self.window_s, self.fps_tolerance, self.params.flow)

    def on_frame(self, image: np.ndarray, ts: datetime, frame: FrameRef) -> HealthOutput:
        """Assess one decoded frame, in event-time order."""
        out = HealthOutput()
        h, w = image.shape[:2]
        for q, alerts in self.window.on_frame(ts, int(w), int(h)):
            out.health.append(self._row(q))
            out.alerts.extend(alerts)
        v = self.tamper.on_frame(image, ts, frame)
        s = self.sums
        m = v.metrics
        s.n += 1
        s.sharpness += m.sharpness
        s.brightness += m.brightness
        s.contrast += m.contrast
        s.entropy += m.entropy
        s.inliers += m.alignment.inliers
        if math.isfinite(m.alignment.shift_px) and m.alignment.inliers >= self.params.min_inliers:
            s.max_shift = max(s.max_shift, m.alignment.shift_px)
        if _RANK.get(v.state, 0) > _RANK.get(s.worst, 0):
            s.worst = v.state
        out.changes.extend(change_record(t) for t in v.transitions)
        out.alerts.extend(v.alerts)
        out.evidence.extend(t.frame.key for t in v.transitions if t.to_state != "ok")
        return out

    def finish(self) -> HealthOutput:
        """Close the open window at the end of input."""
        out = HealthOutput()
        if self.window.start is not None:
            q, alerts = self.window.close()
            out.health.append(self._row(q))
            out.alerts.extend(alerts)
        return out

    def _row(self, q: WindowQuality) -> dict[str, Any]:
        s = self.sums
        n = max(s.n, 1)
        row = {
            "camera_id": q.camera_id, "window_start": q.window_start, "window_end": q.window_end, "role": q.role,
            "frames": q.frames, "width": q.width, "height": q.height, "fps": q.fps, "max_gap_s": q.max_gap_s,
            "min_height": q.min_height, "min_fps": q.min_fps, "compliant": q.compliant, "reasons": list(q.reasons),
            "state": self.tamper.state, "worst_state": s.worst, "sharpness": s.sharpness / n,
            "brightness": s.brightness / n, "contrast": s.contrast / n, "entropy": s.entropy / n,
            "inliers": s.inliers / n, "max_shift_px": s.max_shift,
        }
        self.sums = _Sums(worst=self.tamper.state)
        return row


def change_record(t: Transition) -> dict[str, Any]:
    """The ``camera_state_changes`` row of a transition."""
    return {"camera_id": t.camera_id, "ts": t.ts, "from_state": t.from_state, "to_state": t.to_state,
            "frame_key": t.frame.key, "source_position": t.frame.position,
            "metrics": json.dumps(t.metrics, sort_keys=True)}
