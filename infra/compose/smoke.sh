#!/usr/bin/env bash
# End-to-end smoke test of the compose stack: bring it up, wait for health, push the demo fuel discharge to
# Kafka, then check that the meters flow wrote rows to ClickHouse and that Grafana serves our datasource and
# dashboards. Needs Docker with the compose plugin (v2.20+ for `up --wait`) and a filled .env.
#
#   ./smoke.sh             run it (leaves the stack up; ./smoke.sh --down afterwards removes it)
#   ./smoke.sh --dry-run   print every command instead of running it (what CI here can check)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

DRY_RUN=0
DOWN=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    --down) DOWN=1 ;;
    *) echo "usage: $0 [--dry-run] [--down]" >&2; exit 2 ;;
  esac
done

TIMEOUT_S="${SMOKE_TIMEOUT_S:-300}"
GRAFANA_URL="${SMOKE_GRAFANA_URL:-http://localhost:3000}"
# Streams of the demo discharge (`quaywatch simulate meters`), each file to its topic quaywatch.<stream>.
STREAMS=(meter.readings tank.readings transfers)

run() {
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ %s\n' "$*"
  else
    "$@"
  fi
}

# Output of a command (in a dry run: the command, and a stand-in value for the checks).
capture() {
  local standin="$1"
  shift
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ %s\n' "$*" >&2
    printf '%s\n' "$standin"
  else
    "$@"
  fi
}

fail() {
  echo "smoke: FAILED: $*" >&2
  exit 1
}

if [ "$DOWN" = 1 ]; then
  run docker compose down --volumes
  exit 0
fi

if [ "$DRY_RUN" = 0 ]; then
  [ -f .env ] || fail "no .env here: cp .env.example .env and set the passwords"
  # shellcheck disable=SC1091
  set -a && . ./.env && set +a
fi

echo "smoke: 1/4 building and starting the stack (waiting for health checks, up to ${TIMEOUT_S} s)"
run docker compose up --detach --build --wait --wait-timeout "$TIMEOUT_S"

echo "smoke: 2/4 pushing the demo discharge to Kafka"
# dated six hours ago: recent enough for the broker's retention (it deletes records by their timestamps)
start=$(capture 2026-01-01T00:00:00Z docker compose run --rm --no-deps -T --entrypoint date migrate \
  -u -d "-6 hours" +%Y-%m-%dT%H:%M:%SZ)
work=/dev/null
[ "$DRY_RUN" = 1 ] || work=$(mktemp -d)
for stream in "${STREAMS[@]}"; do
  file="$work/${stream}.jsonl"
  [ "$DRY_RUN" = 0 ] || file=/dev/null
  # the flows image writes the replay to its tmpfs and prints one stream; Kafka's console producer sends it
  capture "" docker compose run --rm --no-deps -T --entrypoint sh migrate -c \
    "quaywatch simulate meters --start ${start} --out /tmp/replay >/dev/null && cat /tmp/replay/${stream}.jsonl" \
    > "$file"
  run docker compose exec -T kafka /opt/kafka/bin/kafka-console-producer.sh \
    --bootstrap-server localhost:9092 --topic "quaywatch.${stream}" < "$file"
done

echo "smoke: 3/4 waiting for the meters flow's rows in ClickHouse"
deadline=$((SECONDS + TIMEOUT_S))
while :; do
  rows=$(capture 1 docker compose exec -T clickhouse clickhouse-client --user admin \
    --password "${CLICKHOUSE_ADMIN_PASSWORD:-}" \
    --query "SELECT count() FROM quaywatch.meter_readings")
  if [ "${rows:-0}" -gt 0 ] 2>/dev/null; then
    echo "smoke: meter_readings has ${rows} rows"
    break
  fi
  [ "$SECONDS" -lt "$deadline" ] || fail "no meter_readings rows after ${TIMEOUT_S} s"
  sleep 5
done
ops=$(capture 1 docker compose exec -T clickhouse clickhouse-client --user admin \
  --password "${CLICKHOUSE_ADMIN_PASSWORD:-}" \
  --query "SELECT count() FROM quaywatch.meter_operations FINAL")
[ "${ops:-0}" -gt 0 ] || fail "no meter_operations rows"

echo "smoke: 4/4 checking Grafana's API"
health=$(capture '"database": "ok"' curl -fsS "${GRAFANA_URL}/api/health")
case "$health" in *'"database": "ok"'* | *'"database":"ok"'*) ;; *) fail "Grafana unhealthy: $health" ;; esac
sources=$(capture '"type":"grafana-clickhouse-datasource"' curl -fsS -u "admin:${GRAFANA_ADMIN_PASSWORD:-}" \
  "${GRAFANA_URL}/api/datasources")
case "$sources" in *grafana-clickhouse-datasource*) ;; *) fail "no ClickHouse datasource in Grafana" ;; esac
found=$(capture '"uid":"quaywatch-fuel-transfer"' curl -fsS -u "admin:${GRAFANA_ADMIN_PASSWORD:-}" \
  "${GRAFANA_URL}/api/search?type=dash-db&query=quaywatch")
case "$found" in *quaywatch*) ;; *) fail "quaywatch dashboards not provisioned" ;; esac

echo "smoke: OK"
