"""``[exit_balance]``: the one balance rule's settings (B.3.2.5(c) warning band, B.3.2.6–7 10 % block)."""

import pytest

from flows.config import ConfigError, ExitBalanceConfig, load_config


def test_demo_site_follows_the_circular_and_the_environment_overrides_it():
    cfg = load_config(environ={})
    # B.3.2.5(c): any kg difference warns; B.3.2.7: above 10 % loading/exit is refused
    assert (cfg.exit_balance.warn_pct, cfg.exit_balance.block_pct) == (0.0, 10.0)
    assert cfg.kafka.topic("containers.exit_status") == "quaywatch.containers.exit_status"
    cfg = load_config(environ={"QUAYWATCH__EXIT_BALANCE__WARN_PCT": "2", "QUAYWATCH__EXIT_BALANCE__BLOCK_PCT": "5"})
    assert (cfg.exit_balance.warn_pct, cfg.exit_balance.block_pct) == (2, 5)


def test_a_warning_band_wider_than_the_block_is_refused():
    with pytest.raises(ValueError):
        ExitBalanceConfig(warn_pct=12.0, block_pct=10.0)
    with pytest.raises(ConfigError):
        load_config(environ={"QUAYWATCH__EXIT_BALANCE__BLOCK_PCT": "-1"})
