#!/bin/bash
# Create the quaywatch roles and users (users.sql) with passwords from the environment.
# Runs in the official clickhouse/clickhouse-server image (/docker-entrypoint-initdb.d) or as a k8s Job.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sql="${QUAYWATCH_USERS_SQL:-$here/users.sql}"
for v in QUAYWATCH_WRITER_PASSWORD QUAYWATCH_GRAFANA_CH_PASSWORD QUAYWATCH_AUDITOR_PASSWORD; do
  if [ -z "${!v:-}" ]; then echo "init-users: $v is not set" >&2; exit 1; fi
done
sed -e "s|\${QUAYWATCH_WRITER_PASSWORD}|${QUAYWATCH_WRITER_PASSWORD}|" \
    -e "s|\${QUAYWATCH_GRAFANA_CH_PASSWORD}|${QUAYWATCH_GRAFANA_CH_PASSWORD}|" \
    -e "s|\${QUAYWATCH_AUDITOR_PASSWORD}|${QUAYWATCH_AUDITOR_PASSWORD}|" "$sql" \
  | clickhouse client ${CLICKHOUSE_HOST:+--host "$CLICKHOUSE_HOST"} \
      --user "${CLICKHOUSE_ADMIN_USER:-default}" --password "${CLICKHOUSE_ADMIN_PASSWORD:-${CLICKHOUSE_PASSWORD:-}}" \
      --multiquery
