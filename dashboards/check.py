"""Run a board's queries against a warehouse as Grafana would: variables first, then every panel.

Used by the tests (on chDB) and by ``quaywatch dashboards check --warehouse DSN`` (on a real server).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from dashboards.macros import ALL, QueryContext, expand, template
from dashboards.spec import Board, Panel


@dataclass(frozen=True)
class PanelResult:
    """What a panel's query returned.

    Attributes:
        title: Panel title.
        sql: The expanded SQL that ran.
        columns: Result column names.
        types: ClickHouse type names of the columns.
        rows: Result rows.
        expected: The columns the panel is built for (variables expanded).
    """

    title: str
    sql: str
    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]
    expected: list[str]

    @property
    def problems(self) -> list[str]:
        """Why the result does not fit the panel (empty when it does)."""
        out = []
        if self.columns != self.expected:
            out.append(f"columns {self.columns} != expected {self.expected}")
        if self.expected and self.expected[0] == "time" and not (self.types and "DateTime" in self.types[0]):
            out.append(f"time series without a DateTime first column: {self.types[:1]}")
        return out


def context(client: Any, board: Board, time_from: datetime, time_to: datetime, interval_s: float = 60.0,
            chosen: dict[str, Any] | None = None) -> QueryContext:
    """Fill the board's variables in order, as Grafana does on load.

    Each variable's query runs with the variables before it; a single-value variable takes ``chosen[name]`` or
    its first option, a multi-value one ``chosen[name]`` or "All" when offered (else its first option); a text
    box ``chosen[name]`` or its default text.
    """
    ctx = QueryContext(time_from, time_to, interval_s)
    chosen = chosen or {}
    for var in board.variables:
        if var.kind == "textbox":
            opts = [str(chosen.get(var.name, var.sql))]
        else:
            opts = [str(r[0]) for r in client.query(expand(var.sql, ctx)).result_rows]
        if var.name in chosen:
            value = chosen[var.name]
        elif var.multi:
            value = ALL if var.include_all else opts[:1]
        else:
            value = opts[0] if opts else ""
        ctx = replace(ctx, variables={**ctx.variables, var.name: value}, options={**ctx.options, var.name: opts})
    return ctx


def run_panel(client: Any, panel: Panel, ctx: QueryContext) -> PanelResult:
    """Expand and run one panel's query."""
    sql = expand(panel.sql, ctx)
    res = client.query(sql)
    types = [t.name for t in res.column_types]
    return PanelResult(panel.title, sql, list(res.column_names), types, list(res.result_rows),
                       [template(c, ctx) for c in panel.columns])


def run_board(client: Any, board: Board, ctx: QueryContext) -> dict[str, PanelResult]:
    """Every panel of a board, by title."""
    return {p.title: run_panel(client, p, ctx) for p in board.panels}
