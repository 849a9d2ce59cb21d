"""Temporary-storage periods in event time and state expiry after exit."""

from datetime import timedelta

from operators.port_events import Tick
from operators.storage_clock import Expire, StorageClock, StorageParams
from tests.unit.port_helpers import C1, C2, T0, D, H, ev

P = StorageParams(limit_days=45, warn_days=5, retention_after_exit_h=168)


def feed(clock, *items):
    alerts, expires = [], []
    for it in items:
        out = clock.on_item(it)
        alerts += out.alerts
        expires += out.expires
    return alerts, expires


def test_warning_then_overdue_at_the_limits_even_without_events_of_the_container():
    c = StorageClock(P)
    feed(c, ev("storage_entry", T0, container_no=C1))
    assert feed(c, Tick(T0 + 40 * D - timedelta(milliseconds=1)))[0] == []
    (warn,), _ = feed(c, Tick(T0 + 40 * D))
    assert warn.kind == "storage_expiry_warning" and warn.window_end == T0 + 40 * D
    assert feed(c, Tick(T0 + 45 * D - timedelta(milliseconds=1)))[0] == []
    (over,), _ = feed(c, Tick(T0 + 46 * D))
    assert over.kind == "storage_overdue" and over.window_end == T0 + 45 * D and over.severity == "critical"


def test_exit_before_the_warning_raises_nothing():
    c = StorageClock(P)
    alerts, _ = feed(c, ev("storage_entry", T0, container_no=C1), ev("storage_exit", T0 + 39 * D, container_no=C1),
                     Tick(T0 + 60 * D))
    assert alerts == []


def test_an_extension_moves_the_deadline_and_is_counted_once():
    c = StorageClock(P)
    ext = ev("storage_extension", T0 + 10 * D, container_no=C1, days=10)
    alerts, _ = feed(c, ev("storage_entry", T0, container_no=C1), ext, ext, Tick(T0 + 49 * D))
    assert alerts == []
    alerts, _ = feed(c, Tick(T0 + 55 * D))
    assert [a.kind for a in alerts] == ["storage_expiry_warning", "storage_overdue"]
    assert alerts[1].details["extension_days"] == 10


def test_an_exit_recorded_late_resolves_the_overdue_alert():
    c = StorageClock(P)
    alerts, _ = feed(c, ev("storage_entry", T0, container_no=C1), Tick(T0 + 46 * D))
    assert [a.kind for a in alerts] == ["storage_expiry_warning", "storage_overdue"]
    alerts, _ = feed(c, ev("storage_exit", T0 + 44 * D, container_no=C1))
    assert sorted((a.kind, a.status) for a in alerts) == [("storage_expiry_warning", "open"),
                                                           ("storage_overdue", "resolved")]


def test_exits_expire_the_container_state_after_the_retention():
    c = StorageClock(P)
    _a, expires = feed(c, ev("gate_out", T0, container_no=C2, plate="P"), Tick(T0 + 167 * H))
    assert expires == []
    _a, expires = feed(c, Tick(T0 + 168 * H))
    assert expires == [Expire(C2, T0 + 168 * H)]
    alerts, _ = feed(c, ev("storage_entry", T0, container_no=C1), ev("gate_out", T0 + D, container_no=C1, plate="P"),
                     Tick(T0 + 30 * D))
    assert c.stays == {} and alerts == []
    alerts, _ = feed(c, Tick(T0 + 46 * D))  # the stale deadlines of the departed container pop without alerts
    assert alerts == [] and c.size() == 0
