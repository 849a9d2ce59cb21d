"""Gate decision panels (issue 5: barrier decisions), shown on the gate board once ``gate_decisions`` exists.

The decisions flow is built on another branch; its table is not in the migrations yet. These panels are
added to the gate operations board only when a migration file named ``*gate_decisions*`` is present in
``connectors/warehouse/migrations/`` (:func:`available`), so merging that branch and running
``quaywatch dashboards build`` turns them on.

Assumed columns of ``gate_decisions`` (the contract given to the decisions engineer):
``passage_id`` String, ``lane_id`` String, ``ts`` DateTime64 (decision emitted), ``decision``
(``open`` | ``divert`` | ``manual_review``), ``reasons`` Array(String) (codes, ``degraded_mode`` for a passage
admitted while the pre-gate feed was down), ``notice_id`` String or Nullable(String) (empty/NULL: no notice
matched yet), ``latency_ms`` number (LPR frame time → decision emitted). The queries do not use ``FINAL``:
the latest row of a passage is taken with ``argMax(…, ts)``, so they work whether the table is a
ReplacingMergeTree or a plain MergeTree that appends re-decisions (a regularised degraded passage).
"""

from __future__ import annotations

from pathlib import Path

from dashboards.spec import GREEN, ORANGE, RED, YELLOW, Panel

#: Where the warehouse migrations live.
MIGRATIONS = Path(__file__).resolve().parents[2] / "connectors" / "warehouse" / "migrations"
DECISION_COLORS = (("open", GREEN), ("divert", ORANGE), ("manual_review", YELLOW))
#: Latest decision of each passage (a re-decision after regularisation replaces the earlier one).
LATEST = ("SELECT passage_id, argMax(lane_id, ts) AS last_lane, max(ts) AS decided_at,\n"
          "       argMax(decision, ts) AS last_decision, argMax(reasons, ts) AS last_reasons,\n"
          "       argMax(ifNull(notice_id, ''), ts) AS last_notice,\n"
          "       minIf(ts, has(reasons, 'degraded_mode')) AS degraded_at,\n"
          "       countIf(has(reasons, 'degraded_mode')) > 0 AS degraded\n"
          "FROM gate_decisions WHERE $__conditionalAll(lane_id IN ($lane), $lane)\nGROUP BY passage_id")


def available(migrations: Path | None = None) -> bool:
    """Whether the ``gate_decisions`` table is in the migrations (a ``*gate_decisions*`` file).

    Args:
        migrations: Migrations folder (default :data:`MIGRATIONS`, read at call time).
    """
    return any((migrations or MIGRATIONS).glob("*gate_decisions*"))


def panels() -> tuple[Panel, ...]:
    """The decision panels (they read ``gate_decisions``; see the module docstring for its columns)."""
    return (
        Panel("Passages per hour by decision", "timeseries",
              "SELECT toStartOfHour(decided_at) AS time, last_decision AS decision, count() AS passages\n"
              "FROM (" + LATEST + ")\nWHERE $__timeFilter(decided_at)\nGROUP BY time, decision ORDER BY time",
              ("time", "decision", "passages"), w=12, h=7, name_colors=DECISION_COLORS,
              description="The latest decision of each passage: open = green, divert = orange, "
                          "manual review = yellow."),
        Panel("Divert reasons", "barchart",
              "SELECT arrayJoin(last_reasons) AS reason, count() AS passages\n"
              "FROM (" + LATEST + ")\nWHERE last_decision = 'divert' AND $__timeFilter(decided_at)\n"
              "GROUP BY reason ORDER BY passages DESC, reason",
              ("reason", "passages"), w=12, h=7,
              description="Diverted passages per reason code (a passage with two reasons counts under both)."),
        Panel("Decision latency", "timeseries",
              "SELECT $__timeInterval(ts) AS time, quantile(0.5)(latency_ms) AS `median ms`,\n"
              "       quantile(0.99)(latency_ms) AS `p99 ms`, max(latency_ms) AS `max ms`\n"
              "FROM gate_decisions FINAL WHERE $__timeFilter(ts) AND $__conditionalAll(lane_id IN ($lane), $lane)\n"
              "GROUP BY time ORDER BY time",
              ("time", "median ms", "p99 ms", "max ms"), w=12, h=7, unit="ms",
              description="LPR frame time → decision, each passage's latest decision (G3: about one second)."),
        Panel("Degraded passages awaiting regularisation", "table",
              "SELECT degraded_at, passage_id, last_lane AS lane_id, last_decision AS decision,\n"
              "       last_reasons AS reasons,\n"
              "       dateDiff('minute', degraded_at, $__toTime) / 60 AS hours_open,\n"
              "       if(dateDiff('second', degraded_at, $__toTime) > 86400, 'OVERDUE', 'within 24 h') AS deadline\n"
              "FROM (" + LATEST + ")\nWHERE degraded AND last_notice = '' AND degraded_at <= $__toTime\n"
              "ORDER BY degraded_at",
              ("degraded_at", "passage_id", "lane_id", "decision", "reasons", "hours_open", "deadline"),
              w=12, h=7, decimals=1, text_colors=(("OVERDUE", RED), ("within 24 h", YELLOW)),
              description="Passages admitted in degraded mode (pre-gate feed down, G8) with no notice matched "
                          "since; G8 lists those not regularised within 24 hours."),
    )
