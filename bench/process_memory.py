"""Resident memory of a process, for the load benches (Linux ``/proc``)."""

from __future__ import annotations

from pathlib import Path


def rss_mb(pid: int) -> float | None:
    """Resident set size of a process from /proc (MB), ``None`` once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
