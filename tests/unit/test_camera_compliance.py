"""Recording quality against Ek-80 III.A(2)-(4) and outages from gaps in the streams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from operators.camera_compliance import ComplianceWindow, OutageWatch, assess

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _times(fps: float, seconds: float, start: datetime = T0) -> list[datetime]:
    # timestamps rounded to milliseconds, as the contract carries them
    return [start + timedelta(milliseconds=round(i * 1000 / fps)) for i in range(int(seconds * fps))]


def test_entry_camera_at_720p_is_noncompliant_and_1080p_15fps_is_compliant() -> None:
    end = T0 + timedelta(seconds=60)
    low = assess("gate1", "entry_exit", T0, end, _times(15, 60), 1280, 720)
    assert not low.compliant and low.reasons == ("resolution 1280x720 below 1080p",)
    ok = assess("gate1", "entry_exit", T0, end, _times(15, 60), 1920, 1080)
    assert ok.compliant and abs(ok.fps - 15.0) < 0.3 and ok.frames == 900


def test_frame_rate_15_vs_10_fps_by_role() -> None:
    end = T0 + timedelta(seconds=60)
    slow_entry = assess("gate1", "handling", T0, end, _times(10, 60), 1920, 1080)
    assert not slow_entry.compliant and slow_entry.reasons == ("frame rate 10.00 fps below 15 fps",)
    general = assess("yard", "general", T0, end, _times(10, 60), 1280, 720)
    assert general.compliant
    too_slow = assess("yard", "general", T0, end, _times(8, 60), 1280, 720)
    assert not too_slow.compliant


def test_compliance_windows_open_and_resolve_the_alert() -> None:
    w = ComplianceWindow("gate1", "entry_exit", window_s=10.0)
    closed = []
    for ts in _times(15, 30):  # 30 s: 10 s at 720p, then 20 s at 1080p
        closed += w.on_frame(ts, 1280 if ts < T0 + timedelta(seconds=10) else 1920,
                             720 if ts < T0 + timedelta(seconds=10) else 1080)
    closed.append(w.close())
    assert [q.compliant for q, _ in closed] == [False, True, True]
    alerts = [a for _, al in closed for a in al]
    assert [(a.kind, a.status) for a in alerts] == [("camera_noncompliant", "open"),
                                                    ("camera_noncompliant", "resolved")]
    assert alerts[0].alert_id == alerts[1].alert_id and alerts[0].window_start == T0


def test_outage_opened_by_the_site_clock_and_resolved_on_resume() -> None:
    watch = OutageWatch(gap_s=5.0)
    out = []
    for ts in _times(1, 30):
        out += watch.on_frame("a", ts)
        if not T0 + timedelta(seconds=4) < ts < T0 + timedelta(seconds=20):  # b silent from 5 s to 19 s
            out += watch.on_frame("b", ts)
    assert [(a.entity_id, a.status) for a in out] == [("b", "open"), ("b", "resolved")]
    opened, resolved = out
    assert opened.window_start == T0 + timedelta(seconds=4)  # last frame before the gap
    assert opened.window_end == T0 + timedelta(seconds=10)  # first site time more than 5 s later
    assert resolved.window_end == T0 + timedelta(seconds=20) and resolved.details["gap_s"] == 16.0


def test_gap_of_a_lone_camera_is_recorded_when_it_resumes() -> None:
    watch = OutageWatch(gap_s=5.0)
    assert watch.on_frame("a", T0) == []
    assert watch.on_frame("a", T0 + timedelta(seconds=3)) == []
    out = watch.on_frame("a", T0 + timedelta(seconds=60))
    assert [(a.kind, a.status) for a in out] == [("camera_outage", "open"), ("camera_outage", "resolved")]
    assert out[1].details["gap_s"] == 57.0
