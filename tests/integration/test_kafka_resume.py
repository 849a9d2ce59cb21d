"""The resume-offset check against a real broker (tansu, whose high watermark is reported too low)."""

from __future__ import annotations

import uuid

import pytest

from connectors.kafka_resume import LogResetError, check_resume_offset
from tests.integration.faults_support import create_topics, produce

pytestmark = pytest.mark.integration


def test_resume_offsets_within_the_log_pass_and_past_its_end_fail(kafka_broker):
    topic = f"resume_{uuid.uuid4().hex[:8]}"
    create_topics(kafka_broker, [topic], 1)
    produce(kafka_broker, [("s", f'{{"i": {i}}}') for i in range(250)], {"s": topic})  # offsets 0..249
    config = {"bootstrap.servers": kafka_broker, "fetch.wait.max.ms": "10"}
    for offset in (0, 1, 125, 250):  # 250: everything read, the next record not written yet
        check_resume_offset(config, topic, 0, offset, probe_s=2.0)
    with pytest.raises(LogResetError, match=rf"{topic}/0: the recovery snapshot resumes at offset 251 but"):
        check_resume_offset(config, topic, 0, 251, probe_s=2.0)  # record 250 was never written
