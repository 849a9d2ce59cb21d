"""Macro expansion against the plugin's own definitions (grafana/clickhouse-datasource pkg/macros/macros.go,
src/data/CHDatasource.ts applyConditionalAll): the expected strings are written out from those sources."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboards.macros import ALL, QueryContext, UnexpandedError, conditional_all, expand

F = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)  # 1772344800
T = datetime(2026, 3, 1, 7, 0, 0, 500000, tzinfo=UTC)  # 1772348400.5


def ctx(**variables) -> QueryContext:
    return QueryContext(F, T, interval_s=30, variables=variables, options={"tank": ["T-1", "T-2", "T-3"]})


def test_time_macros_as_the_backend_writes_them():
    assert F.timestamp() == 1772344800
    assert expand("WHERE $__timeFilter(ts)", ctx()) == \
        "WHERE ts >= toDateTime(1772344800) AND ts <= toDateTime(1772348400)"
    assert expand("$__timeFilter_ms(ts)", ctx()) == \
        "ts >= fromUnixTimestamp64Milli(1772344800000) AND ts <= fromUnixTimestamp64Milli(1772348400500)"
    assert expand("$__fromTime, $__toTime, $__fromTime_ms", ctx()) == \
        "toDateTime(1772344800), toDateTime(1772348400), fromUnixTimestamp64Milli(1772344800000)"
    assert expand("$__dateFilter(d)", ctx()) == "d >= toDate('2026-03-01') AND d <= toDate('2026-03-01')"
    assert expand("$__timeInterval(ts) / $__interval_s", ctx()) == \
        "toStartOfInterval(toDateTime(ts), INTERVAL 30 second) / 30"
    sub_second = QueryContext(F, T, interval_s=0.2)
    assert expand("$__timeInterval(ts) $__interval_s", sub_second) == \
        "toStartOfInterval(toDateTime(ts), INTERVAL 1 second) 1"  # math.Max(seconds, 1)


def test_conditional_all():
    sql = "WHERE $__conditionalAll(tank_id IN ($tank), $tank) AND x"
    assert conditional_all(sql, {"tank": ALL}) == "WHERE 1=1 AND x"
    assert conditional_all(sql, {"tank": [ALL]}) == "WHERE 1=1 AND x"
    assert conditional_all(sql, {"tank": ""}) == "WHERE 1=1 AND x"
    assert conditional_all(sql, {"tank": ["T-1"]}) == "WHERE tank_id IN ($tank) AND x"
    nested = "$__conditionalAll(f(a, b) IN ($tank), $tank)"
    assert conditional_all(nested, {"tank": ["T-1"]}) == "f(a, b) IN ($tank)"


def test_template_variables_single_multi_and_all():
    assert expand("m = '${meter}'", ctx(meter="M-01")) == "m = 'M-01'"
    assert expand("t IN ($tank)", ctx(tank=["T-1", "T-2"])) == "t IN ('T-1','T-2')"
    assert expand("t IN (${tank:singlequote})", ctx(tank=["T-1"])) == "t IN ('T-1')"
    assert expand("t IN ($tank)", ctx(tank=ALL)) == "t IN ('T-1','T-2','T-3')"
    both = "WHERE $__conditionalAll(t IN ($tank), $tank) AND $__timeFilter(ts)"
    assert expand(both, ctx(tank=["T-2"])) == \
        "WHERE t IN ('T-2') AND ts >= toDateTime(1772344800) AND ts <= toDateTime(1772348400)"


def test_anything_left_unexpanded_is_an_error():
    with pytest.raises(UnexpandedError):
        expand("WHERE m = '${meter}'", ctx())
    with pytest.raises(UnexpandedError):
        expand("WHERE $__timeFilterz(ts)", ctx())
    assert expand("SELECT '$ 5'", ctx()) == "SELECT '$ 5'"
