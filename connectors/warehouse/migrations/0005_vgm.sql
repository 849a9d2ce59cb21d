-- quaywatch warehouse schema, version 5: verified gross mass (SOLAS VGM, vgm-yonergesi.txt).

-- Every weighbridge reading with its instrument, the instrument's last inspection, and whether it could be
-- used (accepted) or why not (reason; on an accepted weighing a remark such as the pairing).
CREATE TABLE IF NOT EXISTS {database}.vgm_weighings
(
    weighing_id String,
    ts DateTime64(3, 'UTC'),
    instrument_id LowCardinality(String),
    instrument_no String,
    instrument_inspected_on String,
    reading_kg Float64,
    vehicle_plate String,
    container_numbers Array(String),
    kind LowCardinality(String),
    operator_id String,
    accepted Bool,
    reason String,
    source_position String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY weighing_id
SETTINGS non_replicated_deduplication_window = 1000;

-- Shippers' declarations; accepted = its VGM may be used (a Method 2 declaration of an unauthorised
-- shipper or of excluded cargo, or one without a VGM, is not).
CREATE TABLE IF NOT EXISTS {database}.vgm_declarations
(
    declaration_id String,
    container_number String,
    ts DateTime64(3, 'UTC'),
    vgm_kg Nullable(Float64),
    method UInt8,
    shipper String,
    authorization_no String,
    signer String,
    max_payload_kg Nullable(Float64),
    tare_kg Nullable(Float64),
    max_gross_kg Nullable(Float64),
    cargo_kind LowCardinality(String),
    load_status LowCardinality(String),
    accepted Bool,
    reason String,
    source_position String
)
ENGINE = ReplacingMergeTree
ORDER BY declaration_id
SETTINGS non_replicated_deduplication_window = 1000;

-- DBA certificates (Art. 5(5), 14): append-only, each one also an entry of the `vgm` audit chain whose
-- payload is exactly this row (the columns below and nothing else), so an edit here breaks the chain.
-- certificate_no = instrument_no-year-sequence within the year on that instrument.
CREATE TABLE IF NOT EXISTS {database}.vgm_certificates
(
    certificate_no String,
    container_number String,
    max_payload_kg Float64,
    max_gross_kg Float64,
    vgm_kg Float64,
    unit LowCardinality(String),
    weighed_at DateTime64(3, 'UTC'),
    weighed_on String,
    instrument_id LowCardinality(String),
    instrument_no String,
    instrument_inspected_on String,
    method UInt8,
    derivation LowCardinality(String),
    weighing_ids Array(String),
    gross_reading_kg Float64,
    deduction_kg Float64,
    operator_name String,
    operator_no String,
    authorization_no String,
    signer_name String,
    signer_title String,
    signer_national_id String,
    shipper String,
    year UInt16,
    seq UInt32,
    fee Float64,
    currency LowCardinality(String),
    request_id String,
    ts DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY certificate_no
SETTINGS non_replicated_deduplication_window = 1000;

-- Loadable or blocked, per container (the block list: WHERE NOT loadable); the latest version wins.
CREATE TABLE IF NOT EXISTS {database}.vgm_status
(
    container_number String,
    ts DateTime64(3, 'UTC'),
    loadable Bool,
    reason String,
    vgm_kg Nullable(Float64),
    vgm_source String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY container_number
SETTINGS non_replicated_deduplication_window = 1000;

-- Findings of the checks (kinds: tolerance, payload_exceeded, missing_vgm, multiple_containers,
-- instrument_overdue, method2_not_allowed); violation_id = the id of the alert it raised.
CREATE TABLE IF NOT EXISTS {database}.vgm_violations
(
    violation_id String,
    ts DateTime64(3, 'UTC'),
    kind LowCardinality(String),
    container_number String,
    weighing_id String,
    entity_id String,
    message String,
    details String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY violation_id
SETTINGS non_replicated_deduplication_window = 1000;
