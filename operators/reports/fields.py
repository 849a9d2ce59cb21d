"""Report building blocks: a named field with value and unit, value formatting, CSV rows and text tables.

Numbers are formatted with a fixed number of decimals per unit (litre resolution for m³, 0.1 kg for
masses), so a report's content is deterministic and reads like the meter ticket it replaces.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

#: Decimals shown per unit.
DECIMALS: dict[str, int] = {
    "m3": 3, "kg": 1, "degC": 2, "kPa": 1, "kg/m3": 2, "mm": 1, "m3/h": 1, "s": 0, "%": 3, "m3/mm": 4,
}
FIELD_HEADERS = ("field", "value", "unit")
NONE_TEXT = "none"


@dataclass(frozen=True)
class ReportField:
    """One line of a report.

    Attributes:
        section: Heading the field is listed under (PDF and text table only).
        field: Unique machine-readable name (the CSV ``field`` column).
        value: The value: number, text, time, list, or ``None`` when unknown.
        unit: Unit of a number (``m3``, ``kg``, ``degC`` ...), empty otherwise.
    """

    section: str
    field: str
    value: Any
    unit: str = ""


def iso(ts: datetime) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``."""
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def fmt(value: Any, unit: str = "") -> str:
    """Format a value for a report cell (empty string for ``None`` / NaN).

    Args:
        value: Number, text, datetime, bool, list or None.
        unit: Unit of a number; chooses the decimals (:data:`DECIMALS`, 6 when the unit is unknown).

    Returns:
        The text.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        text = f"{value:.{DECIMALS.get(unit, 6)}f}"
        return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text
    if isinstance(value, list | tuple):
        return "; ".join(fmt(v, unit) for v in value)
    return str(value)


def field_rows(fields: Iterable[ReportField]) -> list[list[str]]:
    """``field, value, unit`` rows (the CSV form of a report)."""
    return [[f.field, fmt(f.value, f.unit), f.unit] for f in fields]


def write_csv(out: TextIO, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Write a header and rows as CSV."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(headers)
    w.writerows(rows)


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An aligned plain-text table (``(no rows)`` when empty)."""
    if not rows:
        return "(no rows)\n"
    cells = [list(headers), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for k, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def sections_text(fields: Sequence[ReportField]) -> str:
    """The fields as a text table with a heading line per section."""
    out: list[str] = []
    current = None
    rows: list[list[str]] = []

    def flush() -> None:
        if current is not None:
            out.append(f"== {current}\n" + text_table(FIELD_HEADERS, rows))

    for f in fields:
        if f.section != current:
            flush()
            current, rows = f.section, []
        rows.append([f.field, fmt(f.value, f.unit) or "-", f.unit])
    flush()
    return "\n".join(out)
