-- quaywatch warehouse schema, version 10: barrier decisions against pre-gate notices (G2, G3, G5, G8).
-- `{database}` is replaced by the configured database name. ReplacingMergeTree keyed by the passage id:
-- a replay or restart rewrites the same rows; a re-decision (a notice processed after its passage) is a
-- higher edition, FINAL keeps the latest.

-- One row per passage decision edition: what the barrier controller was told, why, and the evidence.
CREATE TABLE IF NOT EXISTS {database}.gate_decisions
(
    passage_id String,
    edition UInt32,
    gate_id LowCardinality(String),
    lane_id LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    decision LowCardinality(String),
    reasons Array(LowCardinality(String)),
    details Array(String),
    notice_id Nullable(String),
    plate Nullable(String),
    trailer_plate Nullable(String),
    containers Array(String),
    size_type Nullable(String),
    hazard_placard Nullable(Bool),
    seal Nullable(Bool),
    degraded Bool,
    risk_flags Array(LowCardinality(String)),
    evidence_frames Array(String),
    latency_ms Nullable(Float64),
    latency_event_ms Float64,
    decided_wall DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(edition)
PARTITION BY toYYYYMM(ts)
ORDER BY (gate_id, lane_id, passage_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- Checkpoint 3 (G3): the entry record customs would otherwise need an officer to type, linked to the notice
-- and the passage. status: registered (matched notice) | degraded (admitted in an outage, C.2.1) |
-- regularised (the late notice arrived within the deadline). The latest version wins.
CREATE TABLE IF NOT EXISTS {database}.gate_registrations
(
    registration_id String,
    passage_id String,
    gate_id LowCardinality(String),
    lane_id LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    status LowCardinality(String),
    version UInt64,
    notice_id Nullable(String),
    direction Nullable(String),
    plate String,
    trailer_plate Nullable(String),
    containers Array(String),
    declaration_type Nullable(String),
    declaration_no Nullable(String),
    regularised_at Nullable(DateTime64(3, 'UTC'))
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(ts)
ORDER BY (registration_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- Passages awaiting regularisation: admitted in degraded mode and not yet regularised, or sent to manual
-- review; `overdue` once 24 hours have passed (C.2.1).
CREATE VIEW IF NOT EXISTS {database}.gate_awaiting_regularisation AS
SELECT passage_id, gate_id, lane_id, ts, 'degraded' AS kind, plate, containers,
       now64(3) > ts + INTERVAL 24 HOUR AS overdue
FROM {database}.gate_registrations FINAL
WHERE status = 'degraded'
UNION ALL
SELECT passage_id, gate_id, lane_id, ts, 'manual_review' AS kind, ifNull(plate, '') AS plate, containers,
       now64(3) > ts + INTERVAL 24 HOUR AS overdue
FROM {database}.gate_decisions FINAL
WHERE decision = 'manual_review';
