"""Content-addressed frame archive: key = SHA-256, idempotent, verified reads, retention by event time."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from connectors.archive import FrameArchive


def test_put_get_by_sha256(tmp_path):
    a = FrameArchive(tmp_path, retention_days=365)
    data = b"\xff\xd8 not really a jpeg \xff\xd9"
    key = a.put(data, datetime(2026, 3, 2, tzinfo=UTC))
    assert key == hashlib.sha256(data).hexdigest()
    assert a.get(key) == data
    assert a.put(data, datetime(2026, 3, 2, tzinfo=UTC)) == key
    assert len(list(tmp_path.rglob("*.jpg"))) == 1


def test_tampered_frame_is_detected(tmp_path):
    a = FrameArchive(tmp_path)
    key = a.put(b"abc", datetime(2026, 3, 2, tzinfo=UTC))
    a.path(key).write_bytes(b"abd")
    with pytest.raises(ValueError, match="SHA-256"):
        a.get(key)


def test_retention_is_by_event_time(tmp_path):
    a = FrameArchive(tmp_path, retention_days=365)
    now = datetime(2027, 3, 10, tzinfo=UTC)
    old = a.put(b"old", now - timedelta(days=366))
    young = a.put(b"young", now - timedelta(days=364))
    assert a.purge(now) == 1
    assert not a.path(old).exists() and a.path(young).exists()
    with pytest.raises(FileNotFoundError):
        a.get(old)
