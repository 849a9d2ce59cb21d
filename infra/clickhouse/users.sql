-- quaywatch ClickHouse access: a writer role for the flows, a read-only role for Grafana and auditors.
-- Applied by infra/clickhouse/init-users.sh (compose: /docker-entrypoint-initdb.d; k8s: an init Job), which
-- substitutes the three ${..._PASSWORD} values from the environment (Kubernetes/compose secrets).
-- The schema itself comes from connectors/warehouse/migrations via `quaywatch migrate`, never from here.

CREATE DATABASE IF NOT EXISTS quaywatch;

CREATE ROLE IF NOT EXISTS quaywatch_writer;
GRANT SELECT, INSERT, CREATE TABLE, CREATE VIEW, CREATE DATABASE, ALTER TABLE, ALTER UPDATE, OPTIMIZE
    ON quaywatch.* TO quaywatch_writer;

CREATE ROLE IF NOT EXISTS quaywatch_reader;
GRANT SELECT ON quaywatch.* TO quaywatch_reader;

-- Read-only profile; Grafana's datasource may still lower/raise max_execution_time per query.
CREATE SETTINGS PROFILE IF NOT EXISTS quaywatch_readonly
    SETTINGS readonly = 2, max_execution_time = 60 CHANGEABLE_IN_READONLY, max_result_rows = 1000000;

CREATE USER IF NOT EXISTS quaywatch_writer_user IDENTIFIED WITH sha256_password BY '${QUAYWATCH_WRITER_PASSWORD}'
    DEFAULT ROLE quaywatch_writer DEFAULT DATABASE quaywatch;
GRANT quaywatch_writer TO quaywatch_writer_user;

CREATE USER IF NOT EXISTS grafana IDENTIFIED WITH sha256_password BY '${QUAYWATCH_GRAFANA_CH_PASSWORD}'
    DEFAULT ROLE quaywatch_reader DEFAULT DATABASE quaywatch SETTINGS PROFILE quaywatch_readonly;
GRANT quaywatch_reader TO grafana;

CREATE USER IF NOT EXISTS auditor IDENTIFIED WITH sha256_password BY '${QUAYWATCH_AUDITOR_PASSWORD}'
    DEFAULT ROLE quaywatch_reader DEFAULT DATABASE quaywatch SETTINGS PROFILE quaywatch_readonly;
GRANT quaywatch_reader TO auditor;
