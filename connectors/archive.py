"""Content-addressed frame archive with a retention policy (G4; Ek-80 III: one year per camera).

A frame is stored once under its SHA-256: ``<root>/ab/cd/<sha256>.jpg``; the key (the hex digest) is stored
with every read, so an auditor opens the exact bytes behind a decision and can verify them by hashing.
Writes are atomic (temporary file + rename) and idempotent. The file's modification time is set to the
frame's event time, so retention is by event time: :meth:`FrameArchive.purge` removes frames older than
``retention_days`` before a given instant.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path


def frame_key(data: bytes) -> str:
    """The archive key of a frame: the SHA-256 hex digest of its bytes."""
    return hashlib.sha256(data).hexdigest()


class FrameArchive:
    """A directory of frames addressed by content.

    Args:
        root: Archive directory (created on first write).
        retention_days: How long frames are kept, by event time.
    """

    def __init__(self, root: Path, retention_days: int = 365) -> None:
        self.root = Path(root)
        self.retention = timedelta(days=retention_days)

    def path(self, key: str) -> Path:
        """Where the frame with this key lives."""
        return self.root / key[:2] / key[2:4] / f"{key}.jpg"

    def put(self, data: bytes, event_ts: datetime) -> str:
        """Store a frame (no-op when present); returns its key."""
        key = frame_key(data)
        dest = self.path(key)
        ts = event_ts.timestamp()
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, dest)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            os.utime(dest, (ts, ts))
        elif dest.stat().st_mtime < ts:  # a frame seen again later is kept from its latest event time
            os.utime(dest, (ts, ts))
        return key

    def get(self, key: str) -> bytes:
        """The frame's bytes, verified against the key.

        Raises:
            FileNotFoundError: When the frame is not (or no longer) archived.
            ValueError: When the stored bytes do not hash to the key (tampering or corruption).
        """
        data = self.path(key).read_bytes()
        if frame_key(data) != key:
            raise ValueError(f"archived frame {key} does not match its SHA-256")
        return data

    def purge(self, now: datetime) -> int:
        """Delete frames whose event time is more than the retention before ``now``; returns the count."""
        cutoff = (now - self.retention).timestamp()
        removed = 0
        if not self.root.exists():
            return 0
        for p in self.root.glob("*/*/*.jpg"):
            if p.stat().st_mtime < cutoff:
                p.unlink()
                removed += 1
        return removed
