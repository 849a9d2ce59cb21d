-- quaywatch warehouse schema, version 2: alerts, fuel reconciliations, the hash-chained audit log.

-- Alerts of every flow (fuel checks, gate, VGM, cameras). One row per alert and lifecycle state; the
-- latest state wins: revision = state rank (open 0 < acknowledged 1 < resolved 2) * 2^43 + state time in
-- epoch ms, so a replay re-raising an alert never reopens one an officer acknowledged or the flow resolved.
CREATE TABLE IF NOT EXISTS {database}.alerts
(
    alert_id String,
    ts DateTime64(3, 'UTC'),
    kind LowCardinality(String),
    severity LowCardinality(String),
    entity_type LowCardinality(String),
    entity_id String,
    window_start DateTime64(3, 'UTC'),
    window_end DateTime64(3, 'UTC'),
    message String,
    details String,
    flow LowCardinality(String),
    status LowCardinality(String),
    status_ts DateTime64(3, 'UTC'),
    status_by String,
    status_note String,
    revision UInt64
)
ENGINE = ReplacingMergeTree(revision)
ORDER BY alert_id
SETTINGS non_replicated_deduplication_window = 1000;

-- Meter vs documents vs ship and shore tanks per transfer (M9), rewritten as the transfer progresses
-- (revision = event time in ms); the row at close is the reconciliation record.
CREATE TABLE IF NOT EXISTS {database}.reconciliations
(
    transfer_id String,
    ts DateTime64(3, 'UTC'),
    status LowCardinality(String),
    ship_name String,
    product String,
    product_group LowCardinality(String),
    tariff_code String,
    transport_mode LowCardinality(String),
    meter_ids Array(String),
    tank_ids Array(String),
    meter_gsv_15c_m3 Float64,
    meter_mass_air_kg Float64,
    meter_mass_vacuum_kg Float64,
    bl_no String,
    bl_quantity_kg_air Nullable(Float64),
    bl_quantity_m3_15c Nullable(Float64),
    declaration_no String,
    declaration_quantity_kg Nullable(Float64),
    ship_tank_opening_m3_15c Nullable(Float64),
    ship_tank_closing_m3_15c Nullable(Float64),
    ship_delivered_m3_15c Nullable(Float64),
    shore_tank_delta_m3_15c Nullable(Float64),
    shore_tank_delta_mass_air_kg Nullable(Float64),
    tolerance_pct Float64,
    tolerance_source String,
    diff_bl_kg Nullable(Float64),
    diff_bl_pct Nullable(Float64),
    diff_bl_m3 Nullable(Float64),
    diff_bl_m3_pct Nullable(Float64),
    diff_declaration_kg Nullable(Float64),
    diff_declaration_pct Nullable(Float64),
    diff_tank_m3 Nullable(Float64),
    diff_tank_pct Nullable(Float64),
    diff_ship_m3 Nullable(Float64),
    diff_ship_pct Nullable(Float64),
    tank_tolerance_m3 Nullable(Float64),
    within_tolerance Nullable(UInt8),
    decisive_figure LowCardinality(String),
    details String,
    revision UInt64
)
ENGINE = ReplacingMergeTree(revision)
ORDER BY transfer_id
SETTINGS non_replicated_deduplication_window = 1000;

-- Tamper evidence (M4, V8): append-only, hash-chained entries per chain (one writer per chain).
-- hash = sha256(prev_hash | chain | seq | entry_type | subject_table | subject_key | payload_sha256);
-- payload is the canonical JSON of the audited row, so `quaywatch audit verify` can recompute it from the
-- table and find an edit made behind the system's back.
CREATE TABLE IF NOT EXISTS {database}.audit_log
(
    chain LowCardinality(String),
    seq UInt64,
    ts DateTime64(3, 'UTC'),
    entry_type LowCardinality(String),
    subject_table LowCardinality(String),
    subject_key String,
    payload String,
    payload_sha256 String,
    prev_hash String,
    hash String,
    recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (chain, seq)
SETTINGS non_replicated_deduplication_window = 1000;
