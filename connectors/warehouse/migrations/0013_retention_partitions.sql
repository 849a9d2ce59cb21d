-- quaywatch warehouse schema, version 13: partitions by the retention (TTL) column.
--
-- The retention periods themselves are set by `quaywatch migrate` from the site's [retention] section
-- (ALTER TABLE ... MODIFY TTL, connectors/warehouse/retention.py), so a site changes a period without a
-- migration. ClickHouse cannot change a table's PARTITION BY, so the four retained tables created without
-- one are recreated here partitioned by month of their TTL column. Their columns, key and engine are
-- unchanged, and the partition column never changes for a key, so ReplacingMergeTree still collapses the
-- versions of a row. Per table: copy into the new table, rename the old one aside and the new one in its
-- place, copy the old one again (rows a running flow wrote during the first copy; the copies collapse by
-- key), drop the old one. A writer that hits the instant between the two renames gets "unknown table" and
-- retries (the sink's backoff). Every step fails loudly rather than silently undoing the change when it is
-- run twice at once or after an interruption: a migrator that finds `<table>__pre0013` or `<table>__0013`
-- left behind stops with an error; finish by hand (the rows are in one of the two) before running again.
--
-- The other retained tables (gate_reads, gate_passages, gate_decisions, gate_registrations, vgm_weighings,
-- vgm_violations, meter_readings, tank_readings, container_events) are already partitioned by month of
-- their TTL column; vgm_status (one row per container, its latest version) stays unpartitioned: its
-- TTL column changes with each version, and rows of one key in different partitions would not collapse.

CREATE TABLE {database}.camera_health__0013 AS {database}.camera_health
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(window_start)
ORDER BY (camera_id, window_start)
SETTINGS non_replicated_deduplication_window = 1000;

INSERT INTO {database}.camera_health__0013 SELECT * FROM {database}.camera_health;

RENAME TABLE {database}.camera_health TO {database}.camera_health__pre0013;

RENAME TABLE {database}.camera_health__0013 TO {database}.camera_health;

INSERT INTO {database}.camera_health SELECT * FROM {database}.camera_health__pre0013;

DROP TABLE {database}.camera_health__pre0013;

CREATE TABLE {database}.camera_state_changes__0013 AS {database}.camera_state_changes
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (camera_id, ts, to_state)
SETTINGS non_replicated_deduplication_window = 1000;

INSERT INTO {database}.camera_state_changes__0013 SELECT * FROM {database}.camera_state_changes;

RENAME TABLE {database}.camera_state_changes TO {database}.camera_state_changes__pre0013;

RENAME TABLE {database}.camera_state_changes__0013 TO {database}.camera_state_changes;

INSERT INTO {database}.camera_state_changes SELECT * FROM {database}.camera_state_changes__pre0013;

DROP TABLE {database}.camera_state_changes__pre0013;

CREATE TABLE {database}.vgm_declarations__0013 AS {database}.vgm_declarations
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY declaration_id
SETTINGS non_replicated_deduplication_window = 1000;

INSERT INTO {database}.vgm_declarations__0013 SELECT * FROM {database}.vgm_declarations;

RENAME TABLE {database}.vgm_declarations TO {database}.vgm_declarations__pre0013;

RENAME TABLE {database}.vgm_declarations__0013 TO {database}.vgm_declarations;

INSERT INTO {database}.vgm_declarations SELECT * FROM {database}.vgm_declarations__pre0013;

DROP TABLE {database}.vgm_declarations__pre0013;

CREATE TABLE {database}.vgm_certificates__0013 AS {database}.vgm_certificates
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY certificate_no
SETTINGS non_replicated_deduplication_window = 1000;

INSERT INTO {database}.vgm_certificates__0013 SELECT * FROM {database}.vgm_certificates;

RENAME TABLE {database}.vgm_certificates TO {database}.vgm_certificates__pre0013;

RENAME TABLE {database}.vgm_certificates__0013 TO {database}.vgm_certificates;

INSERT INTO {database}.vgm_certificates SELECT * FROM {database}.vgm_certificates__pre0013;

DROP TABLE {database}.vgm_certificates__pre0013;
