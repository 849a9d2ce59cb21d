"""Gate operations (G1, G4): passages, OCR read rate and confidence, manual review, archived frames, decisions.

Passages per hour, read rate and confidence per field and camera, manual review, the latest passages and
their archived frames; the barrier-decision panels once ``gate_decisions`` exists.

Frame links: the archive stores a frame under its SHA-256 as ``<root>/ab/cd/<sha256>.jpg``
(``connectors/archive.py``); the ``archive_url`` text box holds the base URL under which a site serves that
folder (a static file server or an object store), and the key columns link to
``<archive_url>/ab/cd/<key>.jpg``.
"""

from __future__ import annotations

from dashboards.boards import gate_decisions
from dashboards.spec import GREEN, YELLOW, Board, Panel, Variable

UID = "quaywatch-gate-operations"
#: Base URL of the frame archive when none is set on the dashboard (a placeholder a site replaces).
DEFAULT_ARCHIVE_URL = "http://localhost:8088/archive"
LANE = "$__conditionalAll(lane_id IN ($lane), $lane)"
#: Fields read per frame: (name, read flag, confidence) over ``gate_reads`` / ``gate_passages`` columns.
FIELDS = (
    ("plate", "plate IS NOT NULL", "plate_confidence"),
    ("trailer_plate", "trailer_plate IS NOT NULL", "trailer_plate_confidence"),
    ("container", "notEmpty(containers)", "container_confidence"),
    ("size_type", "size_type IS NOT NULL", "size_type_confidence"),
    ("seal", "seal IS NOT NULL", "seal_confidence"),
)
FIELD_JOIN = ("ARRAY JOIN [" + ", ".join(f"'{n}'" for n, _r, _c in FIELDS) + "] AS field,\n"
              "           [" + ", ".join(r for _n, r, _c in FIELDS) + "] AS is_read,\n"
              "           [" + ", ".join(c for _n, _r, c in FIELDS) + "] AS confidence\n")


def frame_url(key: str) -> str:
    """SQL for the archive URL of the frame whose key is the SQL expression ``key``."""
    return (f"concat('${{archive_url}}/', substring({key}, 1, 2), '/', substring({key}, 3, 2), '/', {key}, '.jpg')")


def board() -> Board:
    """The gate operations board (with the decision panels when ``gate_decisions`` is in the migrations)."""
    decisions = gate_decisions.panels() if gate_decisions.available() else ()
    return Board(
        uid=UID,
        title="Gate operations",
        description="Truck passages at the gate: OCR read rate and confidence, manual review, archived frames"
                    + (", barrier decisions" if decisions else "") + ".",
        tags=("quaywatch", "gate"),
        time_from="now-24h",
        variables=(
            Variable("lane", "Lane", "SELECT DISTINCT lane_id FROM gate_passages ORDER BY lane_id",
                     multi=True, include_all=True),
            Variable("archive_url", "Frame archive URL", DEFAULT_ARCHIVE_URL, kind="textbox",
                     description="Base URL under which the frame archive folder (<root>/ab/cd/<sha256>.jpg) "
                                 "is served."),
        ),
        panels=(
            Panel("Passages", "stat",
                  "SELECT count() AS passages, countIf(review) AS `manual review`,\n"
                  "       round(100 * countIf(NOT review) / greatest(count(), 1), 1) AS `read complete %`\n"
                  f"FROM gate_passages FINAL WHERE $__timeFilter(started_at) AND {LANE}",
                  ("passages", "manual review", "read complete %"), w=8, h=6,
                  name_colors=(("manual review", YELLOW), ("read complete %", GREEN))),
            Panel("Passages per hour", "timeseries",
                  "SELECT toStartOfHour(started_at) AS time, lane_id, count() AS passages\n"
                  f"FROM gate_passages FINAL WHERE $__timeFilter(started_at) AND {LANE}\n"
                  "GROUP BY time, lane_id ORDER BY time",
                  ("time", "lane_id", "passages"), w=16, h=6),
            Panel("Read rate and confidence per camera and field", "table",
                  "SELECT camera_id, field, count() AS frames, countIf(is_read) AS read,\n"
                  "       round(100 * read / frames, 1) AS read_rate_pct,\n"
                  "       avgIf(confidence, is_read) AS avg_confidence,\n"
                  "       minIf(confidence, is_read) AS min_confidence\n"
                  "FROM gate_reads FINAL\n" + FIELD_JOIN +
                  f"WHERE $__timeFilter(ts) AND {LANE}\n"
                  "GROUP BY camera_id, field HAVING read > 0 OR field IN ('plate', 'container')\n"
                  "ORDER BY camera_id, field",
                  ("camera_id", "field", "frames", "read", "read_rate_pct", "avg_confidence", "min_confidence"),
                  w=14, h=9, decimals=3,
                  description="Per frame: the share of a camera's frames in which the field was read (a "
                              "container only with a valid ISO 6346 check digit) and the engine's confidence "
                              "of those reads. Fields a camera never reads are left out, except plate and "
                              "container."),
            Panel("Read rate per field (passages)", "table",
                  "SELECT field, count() AS passages, countIf(is_read) AS read,\n"
                  "       round(100 * read / passages, 1) AS read_rate_pct, avgIf(confidence, is_read) AS"
                  " avg_confidence\n"
                  "FROM gate_passages FINAL\n" + FIELD_JOIN +
                  f"WHERE $__timeFilter(started_at) AND {LANE}\nGROUP BY field ORDER BY field",
                  ("field", "passages", "read", "read_rate_pct", "avg_confidence"), w=10, h=9, decimals=3,
                  description="After fusing the frames of a passage: the share of passages with the field "
                              "accepted (validated, or two frames agree)."),
            Panel("Manual review reasons", "barchart",
                  "SELECT arrayJoin(review_reasons) AS reason, count() AS passages\n"
                  f"FROM gate_passages FINAL WHERE review AND $__timeFilter(started_at) AND {LANE}\n"
                  "GROUP BY reason ORDER BY passages DESC, reason",
                  ("reason", "passages"), w=8, h=8),
            Panel("Manual-review passages", "table",
                  "SELECT started_at, lane_id, passage_id, plate, containers, size_type, review_reasons,\n"
                  "       frame_keys[1] AS frame_key, " + frame_url("frame_keys[1]") + " AS frame_url\n"
                  f"FROM gate_passages FINAL WHERE review AND $__timeFilter(started_at) AND {LANE}\n"
                  "ORDER BY started_at DESC LIMIT 500",
                  ("started_at", "lane_id", "passage_id", "plate", "containers", "size_type", "review_reasons",
                   "frame_key", "frame_url"), w=16, h=8,
                  links=(("frame_key", "${__data.fields.frame_url}"),), hidden=("frame_url",),
                  description="Passages an officer must check: a field missing, unreadable or in conflict."),
            Panel("Latest passages", "table",
                  "SELECT started_at, ended_at, lane_id, passage_id, plate, trailer_plate, containers, size_type,\n"
                  "       hazard_placard, seal, if(review, 'REVIEW', 'ok') AS status, frame_count,\n"
                  "       if(notEmpty(plate_frames), plate_frames[1], frame_keys[1]) AS frame_key,\n"
                  "       " + frame_url("frame_key") + " AS frame_url\n"
                  f"FROM gate_passages FINAL WHERE $__timeFilter(started_at) AND {LANE}\n"
                  "ORDER BY started_at DESC LIMIT 200",
                  ("started_at", "ended_at", "lane_id", "passage_id", "plate", "trailer_plate", "containers",
                   "size_type", "hazard_placard", "seal", "status", "frame_count", "frame_key", "frame_url"),
                  w=24, h=9, text_colors=(("REVIEW", YELLOW), ("ok", GREEN)),
                  links=(("frame_key", "${__data.fields.frame_url}"),), hidden=("frame_url",),
                  description="frame_key: the frame the plate was read from (else the passage's first frame), "
                              "linked to the archive; every frame is in 'Archived frames'."),
            Panel("Archived frames", "table",
                  "SELECT ts, lane_id, passage_id, camera_id, checkpoint, plate, containers, engine,\n"
                  "       frame_sha256 AS frame_key, " + frame_url("frame_sha256") + " AS frame_url\n"
                  f"FROM gate_reads FINAL WHERE $__timeFilter(ts) AND {LANE}\n"
                  "ORDER BY ts DESC LIMIT 1000",
                  ("ts", "lane_id", "passage_id", "camera_id", "checkpoint", "plate", "containers", "engine",
                   "frame_key", "frame_url"), w=24, h=9,
                  links=(("frame_key", "${__data.fields.frame_url}"),), hidden=("frame_url",),
                  description="Every frame read, newest first, with its archive key (SHA-256 of the JPEG bytes: "
                              "hash the downloaded file to verify it)."),
            *decisions,
        ),
    )
