"""Building port events for the container tests through the real decoder (so they satisfy the contracts)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from operators.events import RawEvent
from operators.port_events import KINDS, PortEvent, decode

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
# ISO 6346 numbers with correct check digits (computed in test_container_no.py independently)
C1, C2, C3 = "CSQU3054383", "MSCU1234566", "MAEU7654320"
_ids = itertools.count(1)


def ev(kind: str, at: datetime, event_id: str | None = None, **fields: Any) -> PortEvent:
    """One event of a kind at a time, decoded from its JSON."""
    obj = {"event": kind, "event_id": event_id or f"t{next(_ids)}", "ts": at.isoformat(), **fields}
    events = decode(RawEvent(KINDS[kind][0], json.dumps(obj), "test:1"))
    assert len(events) == 1
    return events[0]
