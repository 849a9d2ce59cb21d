-- quaywatch warehouse schema, version 1: meters, tanks, transfers, dead letters.
-- One source of truth: applied by `quaywatch migrate` / every flow on start, and by infra/ unchanged.
-- `{database}` is replaced by the configured database name.
-- Every table is a ReplacingMergeTree keyed by a deterministic id, so a replay or a restart that writes a
-- row again does not change any total (query with FINAL, or SETTINGS final = 1, as `quaywatch sql` does).

CREATE TABLE IF NOT EXISTS {database}.dead_letters
(
    dead_letter_id String,
    flow LowCardinality(String),
    stream LowCardinality(String),
    source_position String,
    event_ts Nullable(DateTime64(3, 'UTC')),
    reason String,
    raw String,
    recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY dead_letter_id
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {database}.meter_readings
(
    meter_id LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    gov_total_m3 Float64,
    flow_m3h Float64,
    temp_c Float64,
    pressure_kpa Float64,
    density_obs_kgm3 Nullable(Float64),
    density_15c_kgm3 Nullable(Float64),
    density_source LowCardinality(String),
    ctl Nullable(Float64),
    cpl Nullable(Float64),
    ctpl Nullable(Float64),
    delta_gov_m3 Float64,
    delta_gsv_15c_m3 Nullable(Float64),
    delta_mass_vacuum_kg Nullable(Float64),
    delta_source LowCardinality(String),
    status LowCardinality(String),
    operation_id String,
    source_position String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (meter_id, ts)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {database}.meter_operations
(
    operation_id String,
    transfer_id String,
    meter_id LowCardinality(String),
    meter_serial String,
    ship_name String,
    product String,
    product_group LowCardinality(String),
    direction LowCardinality(String),
    started_at DateTime64(3, 'UTC'),
    ended_at Nullable(DateTime64(3, 'UTC')),
    opening_index_m3 Float64,
    closing_index_m3 Float64,
    gov_m3 Float64,
    gsv_15c_m3 Float64,
    mass_vacuum_kg Float64,
    mass_air_kg Float64,
    avg_temp_c Nullable(Float64),
    avg_pressure_kpa Nullable(Float64),
    avg_density_obs_kgm3 Nullable(Float64),
    density_15c_kgm3 Nullable(Float64),
    density_source String,
    flow_integrated_gov_m3 Float64,
    reading_count UInt64,
    bl_no String,
    bl_date String,
    bl_quantity_kg_air Nullable(Float64),
    summary_declaration_no String,
    summary_declaration_date String,
    declaration_no String,
    declaration_date String,
    edition String,
    status LowCardinality(String),
    flags Array(String),
    cumulative_gov_m3 Float64,
    cumulative_gsv_15c_m3 Float64,
    cumulative_mass_vacuum_kg Float64,
    cumulative_mass_air_kg Float64,
    revision UInt64
)
ENGINE = ReplacingMergeTree(revision)
ORDER BY operation_id
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {database}.tank_readings
(
    tank_id LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    level_mm Float64,
    water_mm Float64,
    temp_c Float64,
    density_obs_kgm3 Nullable(Float64),
    density_15c_kgm3 Float64,
    density_source LowCardinality(String),
    tov_m3 Float64,
    fw_m3 Float64,
    gov_m3 Float64,
    ctl Float64,
    gsv_15c_m3 Float64,
    mass_vacuum_kg Float64,
    mass_air_kg Float64,
    fill_pct Float64,
    state LowCardinality(String),
    product String,
    transfer_id String,
    edition String,
    source_position String,
    capacity_m3 Float64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (tank_id, ts)
SETTINGS non_replicated_deduplication_window = 1000;

-- The latest reading of every tank: the stock list of M12 ("what is in every tank now"), kept by a
-- materialized view so the flow writes each reading once. The stock at any past moment T comes from
-- tank_readings: argMax(gsv_15c_m3, ts) WHERE ts <= T.
CREATE TABLE IF NOT EXISTS {database}.tank_inventory AS {database}.tank_readings
ENGINE = ReplacingMergeTree(ts)
ORDER BY tank_id
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.tank_inventory_mv TO {database}.tank_inventory
AS SELECT * FROM {database}.tank_readings;

CREATE TABLE IF NOT EXISTS {database}.transfers
(
    transfer_id String,
    event LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    direction LowCardinality(String),
    ship_name String,
    product String,
    product_group LowCardinality(String),
    meter_ids Array(String),
    tank_ids Array(String),
    bl_no String,
    bl_date String,
    bl_quantity_kg_air Nullable(Float64),
    bl_quantity_m3_15c Nullable(Float64),
    summary_declaration_no String,
    summary_declaration_date String,
    declaration_no String,
    declaration_date String,
    declaration_quantity_kg Nullable(Float64),
    ship_tank_opening_m3_15c Nullable(Float64),
    ship_tank_closing_m3_15c Nullable(Float64),
    document String,
    source_position String
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (transfer_id, ts, event)
SETTINGS non_replicated_deduplication_window = 1000;

-- Densities entered by customs officers (M1, Ek-80 IV.C): every entry kept, with who and when.
CREATE TABLE IF NOT EXISTS {database}.lab_densities
(
    transfer_id String,
    ts DateTime64(3, 'UTC'),
    officer_id String,
    density_15c_kgm3 Float64,
    source LowCardinality(String),
    note String,
    source_position String
)
ENGINE = ReplacingMergeTree
ORDER BY (transfer_id, ts, officer_id)
SETTINGS non_replicated_deduplication_window = 1000;
