from pathlib import Path

import pytest

from flows.config import ConfigError, load_config


def test_demo_site_loads_with_meters_and_tanks():
    cfg = load_config(environ={})
    assert [m.meter_id for m in cfg.meters] == ["M-01", "M-02"]
    assert [t.tank_id for t in cfg.tanks] == ["T-101", "T-102", "T-103"]
    assert all(t.strapping_table.is_file() for t in cfg.tanks)
    assert cfg.kafka.topic("meter.readings") == "quaywatch.meter.readings"


def test_environment_overrides_nested_values_with_toml_typing():
    env = {
        "QUAYWATCH__WAREHOUSE__DSN": "http://default:secret@ch:8123",
        "QUAYWATCH__WAREHOUSE__BATCH_ROWS": "1234",
        "QUAYWATCH__KAFKA__BROKERS": "k1:9092,k2:9092",
        "QUAYWATCH__OPERATIONS__STOP_AFTER_S": "30.5",
        "UNRELATED": "x",
    }
    cfg = load_config(environ=env)
    assert cfg.warehouse.dsn == "http://default:secret@ch:8123"
    assert cfg.warehouse.batch_rows == 1234
    assert cfg.kafka.brokers == "k1:9092,k2:9092"
    assert cfg.operations.stop_after_s == 30.5


def test_config_file_from_environment_variable(tmp_path: Path):
    f = tmp_path / "site.toml"
    f.write_text('site = "x"\n[[meters]]\nmeter_id = "A"\nserial = "s"\nproduct_group = "crude"\n')
    cfg = load_config(environ={"QUAYWATCH_CONFIG": str(f)})
    assert cfg.site == "x" and cfg.meters[0].meter_id == "A" and cfg.tanks == ()


@pytest.mark.parametrize("text, match", [
    ("[[meters]]\nmeter_id = 'A'\n", "invalid configuration"),  # serial and product_group missing
    ("[warehouse]\nbogus = 1\n", "invalid configuration"),
    ("[[meters]]\nmeter_id='A'\nserial='1'\nproduct_group='crude'\n"
     "[[meters]]\nmeter_id='A'\nserial='2'\nproduct_group='crude'\n", "duplicate meter_id: A"),
    ("not toml = = 1", "cannot read configuration"),
])
def test_invalid_configuration_is_a_clear_error(tmp_path: Path, text: str, match: str):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_config(f, environ={})
