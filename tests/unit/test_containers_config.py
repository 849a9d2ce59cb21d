from flows.config import ContainersConfig, load_config


def test_demo_site_containers_section_and_topics():
    cfg = load_config(environ={})
    # Customs Law 4458 Art. 48: 45 days of temporary storage for goods arriving by sea; B.3: 10 % weight block
    assert cfg.containers.storage_limit_days == 45.0 and cfg.containers.exit_notice_block_pct == 10.0
    assert cfg.kafka.topic("port.containers") == "quaywatch.port.containers"
    assert cfg.kafka.topic("port.customs") == "quaywatch.port.customs"


def test_containers_settings_are_overridden_from_the_environment():
    cfg = load_config(environ={"QUAYWATCH__CONTAINERS__STORAGE_LIMIT_DAYS": "30",
                               "QUAYWATCH__CONTAINERS__QUIET_PERIOD_H": "2.5"})
    assert cfg.containers.storage_limit_days == 30 and cfg.containers.quiet_period_h == 2.5
    assert cfg.containers.retention_after_exit_h == ContainersConfig().retention_after_exit_h
