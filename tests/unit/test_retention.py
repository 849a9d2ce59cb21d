"""Retention periods: parsing, defaults from the regulations, TTL expressions as ClickHouse stores them."""

from __future__ import annotations

import pytest

from connectors.warehouse.retention import TABLES, Period, current_ttl, parse_period, retention_policy


def test_periods_parse_and_keep():
    assert parse_period("3 YEAR") == Period(3, "YEAR")
    assert parse_period(" 18 months ") == Period(18, "MONTH")
    assert parse_period("") is None and parse_period("keep") is None
    for bad in ("0 YEAR", "3 years ago", "1 WEEK", "-1 DAY", "1.5 YEAR"):
        with pytest.raises(ValueError):
            parse_period(bad)


def test_defaults_are_the_regulation_periods():
    ttls = retention_policy({}).table_ttls()
    # Ek-80 III.A(6): camera recordings one year; VGM directive: three years of archive
    assert ttls["camera_health"] == "toDateTime(window_start) + toIntervalYear(1)"
    assert ttls["vgm_certificates"] == "toDateTime(ts) + toIntervalYear(3)"
    assert ttls["meter_readings"] is None and ttls["gate_passages"] is None
    assert "audit_log" not in ttls


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown record kind"):
        retention_policy({"frames": "1 YEAR"})
    assert set(TABLES) == {"camera", "vgm", "meters", "gate", "containers"}


def test_current_ttl_from_create_query():
    q = ("CREATE TABLE d.t (`ts` DateTime64(3, 'UTC')) ENGINE = ReplacingMergeTree ORDER BY k "
         "TTL toDateTime(ts) + toIntervalYear(1) SETTINGS index_granularity = 8192")
    assert current_ttl(q) == "toDateTime(ts) + toIntervalYear(1)"
    assert current_ttl(q.replace(" TTL toDateTime(ts) + toIntervalYear(1)", "")) is None
