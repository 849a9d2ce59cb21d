-- quaywatch warehouse schema, version 3: gate OCR (G1) and the frame archive keys (G4).
-- (Version 2 is the alerts/audit migration.) `{database}` is replaced by the configured database name.
-- ReplacingMergeTree keyed by deterministic ids: a replay or restart rewrites the same rows.

-- One row per camera frame read: what the engine read and the archive key of the exact image.
CREATE TABLE IF NOT EXISTS {database}.gate_reads
(
    read_id String,
    frame_sha256 String,
    gate_id LowCardinality(String),
    lane_id LowCardinality(String),
    checkpoint UInt8,
    camera_id LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    passage_id String,
    engine LowCardinality(String),
    plate Nullable(String),
    plate_confidence Nullable(Float64),
    trailer_plate Nullable(String),
    trailer_plate_confidence Nullable(Float64),
    containers Array(String),
    container_confidence Nullable(Float64),
    rejected_codes Array(String),
    size_type Nullable(String),
    size_type_confidence Nullable(Float64),
    hazard_placard Bool,
    hazard_confidence Float64,
    seal Nullable(Bool),
    seal_confidence Nullable(Float64),
    texts Array(String),
    ms Float64,
    source_position String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (gate_id, lane_id, ts, read_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- One row per truck passage: the fused fields, their confidence and the frames (archive keys) behind each.
-- A late frame re-fuses its passage into a higher edition; FINAL keeps the latest.
CREATE TABLE IF NOT EXISTS {database}.gate_passages
(
    passage_id String,
    edition UInt32,
    gate_id LowCardinality(String),
    lane_id LowCardinality(String),
    started_at DateTime64(3, 'UTC'),
    ended_at DateTime64(3, 'UTC'),
    frame_count UInt32,
    frame_keys Array(String),
    plate Nullable(String),
    plate_confidence Nullable(Float64),
    plate_frames Array(String),
    trailer_plate Nullable(String),
    trailer_plate_confidence Nullable(Float64),
    trailer_plate_frames Array(String),
    containers Array(String),
    container_confidence Nullable(Float64),
    container_frames Array(String),
    size_type Nullable(String),
    length_ft Nullable(UInt16),
    type_group Nullable(String),
    size_type_confidence Nullable(Float64),
    size_type_frames Array(String),
    hazard_placard Nullable(Bool),
    hazard_confidence Nullable(Float64),
    hazard_frames Array(String),
    seal Nullable(Bool),
    seal_confidence Nullable(Float64),
    seal_frames Array(String),
    review Bool,
    review_reasons Array(String)
)
ENGINE = ReplacingMergeTree(edition)
PARTITION BY toYYYYMM(started_at)
ORDER BY (gate_id, lane_id, passage_id)
SETTINGS non_replicated_deduplication_window = 1000;
