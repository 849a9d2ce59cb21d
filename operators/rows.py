"""Columnar row batches: the unit a flow hands to the warehouse sink."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from operators.events import DeadLetter


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows for one warehouse table, either column by column or as records.

    Columnar batches (``columns``) suit many rows built with NumPy; record batches (``records``) suit a
    few rows built one at a time. Columns are equal-length numpy arrays or lists; timestamps are
    ``datetime64[ms]`` arrays (UTC) or aware datetimes.

    Attributes:
        table: Target table name (without database).
        columns: Column name → values (empty for a record batch).
        records: Row dictionaries sharing the same keys (empty for a columnar batch).
    """

    table: str
    columns: Mapping[str, Sequence[Any] | np.ndarray] = field(default_factory=dict)
    records: Sequence[Mapping[str, Any]] = ()

    def __len__(self) -> int:
        if self.records:
            return len(self.records)
        for values in self.columns.values():
            return len(values)
        return 0

    @property
    def names(self) -> list[str]:
        """Column names of the batch."""
        return list(self.records[0]) if self.records else list(self.columns)

    @classmethod
    def from_dicts(cls, table: str, records: Iterable[Mapping[str, Any]]) -> Rows:
        """A record batch.

        Args:
            table: Target table.
            records: Rows that all share the first row's keys.

        Returns:
            The batch.

        Raises:
            ValueError: When a row's keys differ from the first row's.
        """
        recs = list(records)
        if recs:
            keys = recs[0].keys()
            for rec in recs[1:]:
                if rec.keys() != keys:
                    raise ValueError(f"{table}: row keys {sorted(rec)} differ from {sorted(keys)}")
        return cls(table, records=recs)


def dead_letter_rows(d: DeadLetter) -> Rows:
    """The ``dead_letters`` table row of a rejected record."""
    return Rows.from_dicts("dead_letters", [{
        "dead_letter_id": d.dead_letter_id, "flow": d.flow, "stream": d.stream, "source_position": d.position,
        "event_ts": d.event_ts, "reason": d.reason, "raw": d.raw,
    }])
