"""Fast JSON Lines output: vectorised timestamps and hand-formatted lines.

Building a million lines with :func:`json.dumps` per line is several times slower than string formatting,
so the simulator formats numbers with fixed decimals itself (the instrument's resolution) and only uses
:mod:`json` for the rare, irregular events (transfers, the truth file).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

MS_PER_S = 1000


def epoch_ms(ts: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return round(ts.timestamp() * MS_PER_S)


def iso_ms_one(ms: int) -> str:
    """ISO 8601 UTC with milliseconds and ``Z`` for one epoch-millisecond instant."""
    ts = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % MS_PER_S:03d}Z"


def iso_ms(ms: NDArray[np.int64]) -> list[str]:
    """ISO 8601 UTC strings with milliseconds and ``Z`` for epoch-millisecond instants (vectorised).

    Args:
        ms: Epoch milliseconds.

    Returns:
        One string per instant, e.g. ``2026-03-01T06:00:01.000Z``.
    """
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms")
    return [f"{s}Z" for s in text.tolist()]


def fixed(values: NDArray[np.float64], decimals: int) -> list[str]:
    """Format numbers with a fixed number of decimals, without a negative zero.

    Args:
        values: The numbers (finite).
        decimals: Decimals to show (the instrument's resolution).

    Returns:
        One string per value.
    """
    rounded = np.round(values, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    fmt = f"{{:.{decimals}f}}"
    return [fmt.format(v) for v in rounded.tolist()]


def dumps(obj: Mapping[str, Any]) -> str:
    """One JSON object on one line (key order kept, UTF-8 text)."""
    return json.dumps(obj, ensure_ascii=False)


def write_lines(path: Path, lines: Iterable[str], append: bool = False) -> None:
    """Write lines (given without line ends) to a UTF-8 file, one per line, Unix line ends."""
    text = "".join(f"{line}\n" for line in lines)
    with path.open("a" if append else "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
