"""VGM (SOLAS): DBA certificates, violations of the checks, the block list."""

from __future__ import annotations

from dashboards.spec import RED, Board, Panel

UID = "quaywatch-vgm"


def board() -> Board:
    """The VGM board."""
    return Board(
        uid=UID,
        title="VGM (SOLAS verified gross mass)",
        description="Certificates issued per instrument, violations of the VGM checks, containers blocked.",
        tags=("quaywatch", "vgm"),
        time_from="now-7d",
        panels=(
            Panel("Certificates and blocked containers", "stat",
                  "SELECT (SELECT count() FROM vgm_certificates FINAL WHERE $__timeFilter(ts)) AS certificates,\n"
                  "       (SELECT count() FROM vgm_violations FINAL WHERE $__timeFilter(ts)) AS violations,\n"
                  "       (SELECT count() FROM vgm_status FINAL WHERE NOT loadable) AS blocked",
                  ("certificates", "violations", "blocked"), w=8, h=6, name_colors=(("blocked", RED),)),
            Panel("Certificates issued", "timeseries",
                  "SELECT $__timeInterval(ts) AS time, instrument_no, count() AS certificates\n"
                  "FROM vgm_certificates FINAL WHERE $__timeFilter(ts)\nGROUP BY time, instrument_no ORDER BY time",
                  ("time", "instrument_no", "certificates"), w=16, h=6),
            Panel("Certificates per instrument", "table",
                  "SELECT instrument_no, year, count() AS certificates, max(seq) AS last_seq, sum(fee) AS fees,\n"
                  "       any(currency) AS currency\n"
                  "FROM vgm_certificates FINAL WHERE $__timeFilter(ts)\nGROUP BY instrument_no, year"
                  " ORDER BY instrument_no, year",
                  ("instrument_no", "year", "certificates", "last_seq", "fees", "currency"), w=10, h=7),
            Panel("Violations by kind", "table",
                  "SELECT kind, count() AS violations, uniqExact(container_number) AS containers\n"
                  "FROM vgm_violations FINAL WHERE $__timeFilter(ts)\nGROUP BY kind ORDER BY violations DESC",
                  ("kind", "violations", "containers"), w=14, h=7),
            Panel("Block list", "table",
                  "SELECT container_number, ts AS since, reason, vgm_kg, vgm_source\n"
                  "FROM vgm_status FINAL WHERE NOT loadable\nORDER BY since DESC",
                  ("container_number", "since", "reason", "vgm_kg", "vgm_source"), w=24, h=8),
            Panel("Latest certificates", "table",
                  "SELECT certificate_no, container_number, vgm_kg, method, derivation, weighed_at, instrument_no,\n"
                  "       shipper, fee, currency\n"
                  "FROM vgm_certificates FINAL WHERE $__timeFilter(ts)\nORDER BY ts DESC LIMIT 200",
                  ("certificate_no", "container_number", "vgm_kg", "method", "derivation", "weighed_at",
                   "instrument_no", "shipper", "fee", "currency"), w=24, h=8),
            Panel("Violations", "table",
                  "SELECT ts, kind, container_number, entity_id, message\n"
                  "FROM vgm_violations FINAL WHERE $__timeFilter(ts)\nORDER BY ts DESC LIMIT 500",
                  ("ts", "kind", "container_number", "entity_id", "message"), w=24, h=8),
        ),
    )
