"""The [gate_decisions] section: G8's 30 minutes and C.2.1's 24 hours by default, overrides, validation."""

from __future__ import annotations

import pytest

from flows.config import ConfigError, load_config


def test_demo_and_overrides():
    d = load_config(environ={}).gate_decisions
    assert (d.notice_validity_h, d.outage_after_min, d.regularise_within_h) == (24.0, 30.0, 24.0)
    e = load_config(environ={"QUAYWATCH__GATE_DECISIONS__OUTAGE_AFTER_MIN": "45"}).gate_decisions
    assert e.outage_after_min == 45


def test_invalid_limit_is_a_config_error():
    with pytest.raises(ConfigError, match="gate_decisions"):
        load_config(environ={"QUAYWATCH__GATE_DECISIONS__NOTICE_VALIDITY_H": "0"})
