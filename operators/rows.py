"""Columnar row batches: the unit a flow hands to the warehouse sink."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows for one warehouse table, stored column by column.

    Columns are equal-length numpy arrays or Python lists. Timestamps are ``datetime64[ms]`` arrays
    (UTC) or lists of aware datetimes.

    Attributes:
        table: Target table name (without database).
        columns: Column name → values.
    """

    table: str
    columns: Mapping[str, Sequence[Any] | np.ndarray]

    def __len__(self) -> int:
        for values in self.columns.values():
            return len(values)
        return 0

    @classmethod
    def from_dicts(cls, table: str, records: Iterable[Mapping[str, Any]]) -> Rows:
        """Build a batch from row dictionaries that all share the same keys.

        Args:
            table: Target table.
            records: Rows; the first one's keys name the columns.

        Returns:
            The columnar batch.

        Raises:
            ValueError: When a row's keys differ from the first row's.
        """
        recs = list(records)
        if not recs:
            return cls(table, {})
        names = list(recs[0])
        cols: dict[str, list[Any]] = {n: [] for n in names}
        for rec in recs:
            if len(rec) != len(names):
                raise ValueError(f"{table}: row keys {sorted(rec)} differ from {sorted(names)}")
            for n in names:
                cols[n].append(rec[n])
        return cls(table, cols)
