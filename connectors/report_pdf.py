"""PDF rendering of reports with matplotlib (Agg backend, ``PdfPages``): field tables, wide tables, plots.

The content is what the report model gives; the only wall-clock value is the ``generated at`` line in the
page footer. PDF metadata dates are fixed so the same report gives the same bytes apart from that line.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from operators.reports.fields import ReportField, fmt

A4_PORTRAIT = (8.27, 11.69)
A4_LANDSCAPE = (11.69, 8.27)
FIELD_ROWS_PER_PAGE = 50
VALUE_WIDTH = 58
TABLE_ROWS_PER_PAGE = 34
MAX_PLOT_POINTS = 4000


@dataclass(frozen=True)
class Plot:
    """One panel of the plot page: a y series against time.

    Attributes:
        title: Panel title (with unit).
        series: Label → (times, values); None values are gaps.
    """

    title: str
    series: Mapping[str, tuple[Sequence[datetime], Sequence[float | None]]]


@dataclass(frozen=True)
class Table:
    """A wide table (periodic reports)."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass
class PdfReport:
    """What goes into one PDF.

    Attributes:
        title: Title on every page.
        fields: Field pages (section headings, ``field  value  unit``).
        tables: Wide table pages (landscape).
        plots: Panels of the plot page (none: no plot page).
        footer: Extra footer text (e.g. how to reproduce the numbers).
    """

    title: str
    fields: Sequence[ReportField] = ()
    tables: Sequence[Table] = ()
    plots: Sequence[Plot] = ()
    footer: str = ""


def render_pdf(report: PdfReport, path: Path, generated_at: datetime | None = None) -> int:
    """Write the report as a multi-page PDF.

    Args:
        report: What to render.
        path: Output file.
        generated_at: Shown in the footer (default: now, UTC).

    Returns:
        The number of pages written.
    """
    stamp = fmt(generated_at or datetime.now(UTC))
    pages = 0
    fixed = datetime(2000, 1, 1, tzinfo=UTC)
    with PdfPages(path, metadata={"Title": report.title, "Creator": "quaywatch", "CreationDate": fixed,
                                  "ModDate": fixed}) as pdf:
        chunks = _field_chunks(report.fields)
        for i, chunk in enumerate(chunks):
            fig = _field_page(report.title, chunk, f"{i + 1}/{len(chunks)}")
            _footer(fig, report.footer, stamp)
            pdf.savefig(fig)
            plt.close(fig)
            pages += 1
        for table in report.tables:
            for start in range(0, max(len(table.rows), 1), TABLE_ROWS_PER_PAGE):
                fig = _table_page(report.title, table, table.rows[start : start + TABLE_ROWS_PER_PAGE])
                _footer(fig, report.footer, stamp)
                pdf.savefig(fig)
                plt.close(fig)
                pages += 1
        if report.plots:
            fig = plot_figure(report.title, report.plots)
            _footer(fig, report.footer, stamp)
            pdf.savefig(fig)
            plt.close(fig)
            pages += 1
    return pages


def _field_chunks(fields: Sequence[ReportField]) -> list[list[tuple[str, str, str, bool]]]:
    """Lines ``(name, value, unit, is_heading)`` cut into pages."""
    lines: list[tuple[str, str, str, bool]] = []
    section = None
    for f in fields:
        if f.section != section:
            section = f.section
            lines.append((section, "", "", True))
        text = fmt(f.value, f.unit) or "-"
        parts = textwrap.wrap(text, VALUE_WIDTH) or [text]
        lines.append((f.field, parts[0], f.unit, False))
        lines.extend(("", more, "", False) for more in parts[1:])
    return [lines[i : i + FIELD_ROWS_PER_PAGE] for i in range(0, len(lines), FIELD_ROWS_PER_PAGE)]


def _field_page(title: str, lines: Sequence[tuple[str, str, str, bool]], page: str) -> Figure:
    fig = plt.figure(figsize=A4_PORTRAIT)
    fig.text(0.06, 0.965, title, fontsize=12, weight="bold", va="top")
    fig.text(0.94, 0.965, page, fontsize=8, ha="right", va="top")
    y, step = 0.93, 0.0165
    for name, value, unit, heading in lines:
        if heading:
            y -= step * 0.4
            fig.text(0.06, y, name, fontsize=9, weight="bold", va="top", color="#1f3b73")
        else:
            fig.text(0.08, y, name, fontsize=8, va="top", family="monospace")
            fig.text(0.45, y, value, fontsize=8, va="top", family="monospace")
            fig.text(0.92, y, unit, fontsize=8, va="top", ha="right", family="monospace", color="#555555")
        y -= step
    return fig


def _table_page(title: str, table: Table, rows: Sequence[Sequence[str]]) -> Figure:
    fig = plt.figure(figsize=A4_LANDSCAPE)
    fig.text(0.03, 0.965, title, fontsize=12, weight="bold", va="top")
    fig.text(0.03, 0.93, table.title, fontsize=10, va="top", color="#1f3b73")
    ax = fig.add_axes((0.02, 0.08, 0.96, 0.82))
    ax.axis("off")
    cells = [[_compact(c) for c in r] for r in rows] or [["(no rows)"] + [""] * (len(table.headers) - 1)]
    heads = [_two_lines(h) for h in table.headers]
    chars = [max(*(len(p) for p in h.split("\n")), *(len(r[i]) for r in cells)) + 1 for i, h in enumerate(heads)]
    widths = [c / sum(chars) for c in chars]
    t = ax.table(cellText=cells, colLabels=heads, colWidths=widths, loc="upper center", cellLoc="right")
    t.auto_set_font_size(False)
    t.set_fontsize(5.5 if len(table.headers) > 12 else 6.5)
    t.scale(1.0, 1.3)
    for (r, _c), cell in t.get_celld().items():
        if r == 0:
            cell.set_height(cell.get_height() * 2)
            cell.set_text_props(weight="bold")
            cell.set_facecolor("#e6ecf5")
    return fig


def _two_lines(header: str) -> str:
    """A long ``snake_case`` header broken at the underscore nearest its middle."""
    if len(header) <= 10 or "_" not in header:
        return header
    cuts = [i for i, ch in enumerate(header) if ch == "_"]
    cut = min(cuts, key=lambda i: abs(i - len(header) / 2))
    return header[:cut] + "\n" + header[cut + 1 :]


def _compact(cell: str) -> str:
    """Shorter cells for wide tables: ISO times without milliseconds, long texts cut."""
    if len(cell) == 24 and cell.endswith(".000Z") and cell[10] == "T":
        cell = cell[:10] + " " + cell[11:16]
    return cell if len(cell) <= 24 else cell[:21] + "..."


def plot_figure(title: str, plots: Sequence[Plot]) -> Figure:
    """The plot page: one panel per :class:`Plot`, shared time axis (UTC)."""
    fig, axes = plt.subplots(len(plots), 1, figsize=A4_PORTRAIT, sharex=True, squeeze=False)
    fig.suptitle(title, fontsize=11, weight="bold")
    for ax, p in zip(axes[:, 0], plots, strict=True):
        for label, (times, values) in p.series.items():
            t, v = _thin(times, values)
            ax.plot(t, [float("nan") if x is None else x for x in v], linewidth=0.8, label=label)
        ax.set_title(p.title, fontsize=9, loc="left")
        ax.grid(True, linewidth=0.3)
        ax.tick_params(labelsize=7)
        if len(p.series) > 1:
            ax.legend(fontsize=7, loc="best")
    last = axes[-1, 0]
    last.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M", tz=UTC))
    last.set_xlabel("time (UTC)", fontsize=8)
    fig.tight_layout(rect=(0.0, 0.04, 1.0, 0.97))
    return fig


def _thin(times: Sequence[datetime], values: Sequence[Any]) -> tuple[list[datetime], list[Any]]:
    """Every k-th point so a plot stays light (deterministic)."""
    step = max(1, -(-len(times) // MAX_PLOT_POINTS))
    return list(times[::step]), list(values[::step])


def _footer(fig: Figure, text: str, stamp: str) -> None:
    fig.text(0.06, 0.02, text, fontsize=6, color="#555555", va="bottom")
    fig.text(0.94, 0.02, f"generated at {stamp}", fontsize=6, color="#555555", ha="right", va="bottom")


def meter_operation_plots(readings: Sequence[Mapping[str, Any]]) -> list[Plot]:
    """Flow rate, temperature and density (observed and at 15 °C) over an operation, from its readings."""
    ts = [r["ts"] for r in readings]

    def col(name: str) -> list[float | None]:
        out: list[float | None] = []
        for r in readings:
            v = r.get(name)
            out.append(None if v is None else float(v))
        return out

    return [
        Plot("Flow rate (m3/h)", {"flow": (ts, col("flow_m3h"))}),
        Plot("Temperature (degC)", {"line temperature": (ts, col("temp_c"))}),
        Plot("Density (kg/m3)",
             {"observed": (ts, col("density_obs_kgm3")), "at 15 degC": (ts, col("density_15c_kgm3"))}),
    ]
