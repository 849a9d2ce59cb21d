"""Dashboards described as data: a board is variables and panels, each panel one SQL query.

A flow's dashboard is one small module in ``dashboards/boards/`` that returns a :class:`Board`;
:mod:`dashboards.render` turns it into Grafana JSON with grafana-foundation-sdk, and the tests run every
panel's SQL on chDB with the plugin's macros expanded and check it returns the panel's ``columns``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Viz = Literal["stat", "gauge", "table", "timeseries", "barchart"]
VariableKind = Literal["query", "textbox"]

#: Colours of the M2 screen (Grafana accepts palette names and CSS colours).
NAVY, YELLOW, GREEN, RED, ORANGE = "#000080", "yellow", "green", "red", "orange"
BLUE, PURPLE, GREY = "blue", "purple", "#808080"


@dataclass(frozen=True)
class Variable:
    """A dashboard template variable: filled by a query on the datasource, or a text box.

    Attributes:
        name: Name used in SQL as ``${name}`` (single value, inserted as is) or ``($name)`` (multi).
        label: Label shown above the selector.
        sql: Query whose first column gives the options (macros allowed; refreshed on time change); for a
            text box, its default text.
        multi: Several values may be selected (expanded as ``'a','b'``).
        include_all: Offer "All" (expanded by ``$__conditionalAll(cond, $name)`` to ``1=1``).
        kind: ``query`` (options from ``sql``) or ``textbox`` (free text, default ``sql``).
        description: Help text of the variable.
    """

    name: str
    label: str
    sql: str
    multi: bool = False
    include_all: bool = False
    kind: VariableKind = "query"
    description: str = ""


@dataclass(frozen=True)
class Panel:
    """One panel and the one query behind it.

    Attributes:
        title: Panel title (unique within a board).
        viz: Visualisation.
        sql: Raw SQL for the ClickHouse plugin (macros and ``${var}`` allowed).
        columns: Result columns the panel is built for, in order (checked by the tests).
        w: Width in grid columns (of 24).
        h: Height in grid rows.
        unit: Grafana unit id of the values.
        description: Panel help text.
        text_colors: Value (regex, whole match) → colour, for state columns (stat/table cells).
        name_colors: Field name (regex) → fixed colour, for series named after a state.
        rows_to_fields: ``(name column, value column)``: each row becomes one field (one gauge/number each).
        min: Lower bound of gauges.
        max: Upper bound of gauges.
        decimals: Decimals shown.
        links: ``(column, URL template)``: the column's cells link to the URL (Grafana data-link syntax,
            e.g. ``${__data.fields.frame_url}`` for another column of the same row).
        hidden: Columns the table does not show (still usable by links).
    """

    title: str
    viz: Viz
    sql: str
    columns: tuple[str, ...]
    w: int = 8
    h: int = 6
    unit: str = ""
    description: str = ""
    text_colors: tuple[tuple[str, str], ...] = ()
    name_colors: tuple[tuple[str, str], ...] = ()
    rows_to_fields: tuple[str, str] | None = None
    min: float | None = None
    max: float | None = None
    decimals: int | None = None
    links: tuple[tuple[str, str], ...] = ()
    hidden: tuple[str, ...] = ()

    @property
    def query_type(self) -> Literal["table", "timeSeries"]:
        """The plugin's query type: time series for a time-series panel (first column ``time``)."""
        return "timeSeries" if self.viz == "timeseries" else "table"


@dataclass(frozen=True)
class Board:
    """A dashboard.

    Attributes:
        uid: Stable uid (the key for provisioning and ``dashboards push``).
        title: Title.
        description: What the board is for.
        tags: Tags.
        panels: Panels, laid out left to right, wrapping at 24 columns.
        variables: Template variables, in dependency order.
        time_from: Default time range start (relative).
        refresh: Auto-refresh interval.
    """

    uid: str
    title: str
    description: str
    tags: tuple[str, ...]
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...] = ()
    time_from: str = "now-24h"
    refresh: str = "30s"
