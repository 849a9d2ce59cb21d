-- quaywatch warehouse schema, version 6: camera health (Ek-80 III, C1/C3/C4).

-- Per camera and event-time window: measured recording quality against the camera role's minimum
-- (C1), mean frame metrics and the tamper state (C3). Keyed by (camera_id, window_start): a replay
-- rewrites the same row.
CREATE TABLE IF NOT EXISTS {database}.camera_health
(
    camera_id LowCardinality(String),
    window_start DateTime64(3, 'UTC'),
    window_end DateTime64(3, 'UTC'),
    role LowCardinality(String),
    frames UInt32,
    width UInt32,
    height UInt32,
    fps Float64,
    max_gap_s Float64,
    min_height UInt32,
    min_fps Float64,
    compliant Bool,
    reasons Array(String),
    state LowCardinality(String),
    worst_state LowCardinality(String),
    sharpness Float64,
    brightness Float64,
    contrast Float64,
    entropy Float64,
    inliers Float64,
    max_shift_px Float64
)
ENGINE = ReplacingMergeTree
ORDER BY (camera_id, window_start)
SETTINGS non_replicated_deduplication_window = 1000;

-- Every change of a camera's state (learning, ok, defocused, blocked, moved, frozen) with the frame that
-- caused it (its SHA-256 = the frame archive key, and source position) and the frame's metrics (C4).
CREATE TABLE IF NOT EXISTS {database}.camera_state_changes
(
    camera_id LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    from_state LowCardinality(String),
    to_state LowCardinality(String),
    frame_key String,
    source_position String,
    metrics String
)
ENGINE = ReplacingMergeTree
ORDER BY (camera_id, ts, to_state)
SETTINGS non_replicated_deduplication_window = 1000;
