-- quaywatch warehouse schema, version 4: container and port tracking (G7, G10; circular 2017/3 A.1–A.6, B.3).
-- container_events: every accepted port/customs event (one row per container of a fanned-out decision);
-- container_state: the latest state per container, with the gate's "may it leave?" answer;
-- discharge_reconciliation: per vessel call, summary declaration and B/L, declared vs discharged.

CREATE TABLE IF NOT EXISTS {database}.container_events
(
    event_id String,
    ts DateTime64(3, 'UTC'),
    container_no String,
    event LowCardinality(String),
    stream LowCardinality(String),
    vessel_call_id String,
    summary_declaration_no String,
    bl_no String,
    declaration_no String,
    fields String,
    source_position String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (container_no, ts, event_id, event)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {database}.container_state
(
    container_no String,
    ts DateTime64(3, 'UTC'),
    status LowCardinality(String),
    customs_status LowCardinality(String),
    vessel_call_id String,
    summary_declaration_no String,
    bl_no String,
    declaration_no String,
    load_status LowCardinality(String),
    foreign Bool,
    seal_no String,
    holds Array(String),
    discharged_at Nullable(DateTime64(3, 'UTC')),
    storage_entered_at Nullable(DateTime64(3, 'UTC')),
    storage_exited_at Nullable(DateTime64(3, 'UTC')),
    tracking_form_no String,
    tracking_form_status LowCardinality(String),
    declaration_completed Bool,
    exited_at Nullable(DateTime64(3, 'UTC')),
    may_exit Bool,
    exit_codes Array(String),
    hold_reason String,
    events UInt32,
    revision UInt64
)
ENGINE = ReplacingMergeTree(revision)
ORDER BY container_no
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {database}.discharge_reconciliation
(
    vessel_call_id String,
    summary_declaration_no String,
    bl_no String,
    level LowCardinality(String),
    declared UInt32,
    discharged UInt32,
    missing_count UInt32,
    surplus_count UInt32,
    missing Array(String),
    surplus Array(String),
    status LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    revision UInt64
)
ENGINE = ReplacingMergeTree(revision)
ORDER BY (vessel_call_id, summary_declaration_no, bl_no)
SETTINGS non_replicated_deduplication_window = 1000;
