"""A :class:`~dashboards.spec.Board` to Grafana dashboard JSON with grafana-foundation-sdk (Grafana 11.6 build)."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import barchart, gauge, stat, table, timeseries
from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model

from dashboards.clickhouse import DATASOURCE, ClickHouseQueryBuilder
from dashboards.spec import Board, Panel, Variable

_GRID = 24


def render(board: Board) -> dict[str, Any]:
    """The dashboard as Grafana stores it (the bare dashboard object provisioning files hold).

    Panels are placed left to right and wrap at 24 columns; ``id``s follow the panel order, so the
    output depends on the board only.
    """
    builder = (
        dash.Dashboard(board.title)
        .uid(board.uid)
        .description(board.description)
        .tags(list(board.tags))
        .time(board.time_from, "now")
        .timezone("utc")
        .refresh(board.refresh)
        .editable()
    )
    for var in board.variables:
        builder = builder.with_variable(_variable(var))
    x = y = row_h = 0
    for n, p in enumerate(board.panels, start=1):
        if x + p.w > _GRID:
            x, y, row_h = 0, y + row_h, 0
        builder = builder.with_panel(_panel(p).id(n).grid_pos(model.GridPos(h=p.h, w=p.w, x=x, y=y)))
        x += p.w
        row_h = max(row_h, p.h)
    out: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    out.pop("id", None)
    return out


def _variable(v: Variable) -> dash.QueryVariable | dash.TextBoxVariable:
    if v.kind == "textbox":
        tb = dash.TextBoxVariable(v.name).label(v.label).default_value(v.sql)
        return tb.description(v.description) if v.description else tb
    qv = (
        dash.QueryVariable(v.name)
        .label(v.label)
        .datasource(DATASOURCE)
        .query(v.sql)
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .multi(v.multi)
        .include_all(v.include_all)
    )
    if v.include_all:
        text: str | list[str] = ["All"] if v.multi else "All"
        value: str | list[str] = ["$__all"] if v.multi else "$__all"
        qv = qv.current(model.VariableOption(selected=True, text=text, value=value))
    return qv.description(v.description) if v.description else qv


def _panel(p: Panel) -> Any:
    target = ClickHouseQueryBuilder("A", p.sql, p.query_type)
    builder: Any
    if p.viz == "stat":
        builder = stat.Panel().reduce_options(_reduce(p)).text_mode(common_b_text_mode())
    elif p.viz == "gauge":
        builder = gauge.Panel().reduce_options(_reduce(p)).show_threshold_markers(False)
    elif p.viz == "table":
        builder = table.Panel()
    elif p.viz == "barchart":
        builder = barchart.Panel()
    else:
        builder = timeseries.Panel()
    builder = builder.title(p.title).datasource(DATASOURCE).with_target(target)
    if p.description:
        builder = builder.description(p.description)
    if p.unit:
        builder = builder.unit(p.unit)
    if p.decimals is not None:
        builder = builder.decimals(p.decimals)
    if p.min is not None:
        builder = builder.min(p.min)
    if p.max is not None:
        builder = builder.max(p.max)
    if p.text_colors:
        builder = builder.mappings([_regex_map(pattern, color, i) for i, (pattern, color) in enumerate(p.text_colors)])
    if p.rows_to_fields:
        name_col, value_col = p.rows_to_fields
        builder = builder.with_transformation(model.DataTransformerConfig(id_val="rowsToFields", options={
            "mappings": [{"fieldName": name_col, "handlerKey": "field.name"},
                         {"fieldName": value_col, "handlerKey": "field.value"}]}))
    for column, url in p.links:
        builder = builder.override_by_name(column, [model.DynamicConfigValue(
            id_val="links", value=[{"title": f"open {column}", "url": url, "targetBlank": True}])])
    for column in p.hidden:
        builder = builder.override_by_name(column, [model.DynamicConfigValue(id_val="custom.hidden", value=True)])
    for pattern, color in p.name_colors:
        builder = builder.override_by_regexp(pattern, [model.DynamicConfigValue(
            id_val="color", value={"mode": "fixed", "fixedColor": color})])
    if p.viz in ("stat", "gauge") and (p.text_colors or p.name_colors):
        builder = builder.color_scheme(dash.FieldColor().mode(model.FieldColorModeId.FIXED))
    return builder


def _reduce(p: Panel) -> cogbuilder.Builder[Any]:
    # every column of the (single-row or rows-to-fields) result is shown, strings included
    return common_b.ReduceDataOptions().calcs(["lastNotNull"]).values(False).fields("/.*/")


def common_b_text_mode() -> Any:
    """Stat panels show the field name with its value (several fields per panel)."""
    from grafana_foundation_sdk.models import common

    return common.BigValueTextMode.VALUE_AND_NAME


def _regex_map(pattern: str, color: str, index: int) -> model.RegexMap:
    return model.RegexMap(options=model.DashboardRegexMapOptions(
        pattern=f"^(?:{pattern})$", result=model.ValueMappingResult(color=color, index=index)))
