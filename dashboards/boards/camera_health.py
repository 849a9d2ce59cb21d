"""Camera health (C1–C4): state now, frame metrics, recording compliance, tamper alerts and outages.

Per camera: its state now, its frame metrics over time, its recording compliance against its role's minimum,
its tamper alerts and its outages.

State now: ``outage`` while a ``camera_outage`` alert is open, else the latest tamper state (the latest
``camera_state_changes`` row up to the end of the time range, else the latest window's state).
"""

from __future__ import annotations

from dashboards.spec import BLUE, GREEN, ORANGE, PURPLE, RED, YELLOW, Board, Panel, Variable

UID = "quaywatch-camera-health"
CAMERA = "$__conditionalAll(camera_id IN ($camera), $camera)"
#: State → colour: ok green, defocused yellow, moved orange, blocked red, frozen purple, outage red.
STATE_COLORS = (("ok", GREEN), ("learning", BLUE), ("defocused", YELLOW), ("moved", ORANGE), ("blocked", RED),
                ("frozen", PURPLE), ("outage", RED))
TAMPER_KINDS = "('camera_defocused', 'camera_blocked', 'camera_moved', 'camera_frozen')"
STATE_NOW = (
    "SELECT h.camera_id AS camera, h.role AS role,\n"
    "       multiIf(o.open, 'outage', s.state != '', s.state, h.state) AS state,\n"
    "       if(s.since > h.first_window, s.since, h.first_window) AS since, h.last_window AS last_window\n"
    "FROM (SELECT camera_id, argMax(role, window_start) AS role, argMax(state, window_start) AS state,\n"
    "             min(window_start) AS first_window, max(window_end) AS last_window\n"
    "      FROM camera_health FINAL WHERE window_start <= $__toTime AND " + CAMERA + "\n"
    "      GROUP BY camera_id) AS h\n"
    "LEFT JOIN (SELECT camera_id, argMax(to_state, ts) AS state, max(ts) AS since\n"
    "           FROM camera_state_changes FINAL WHERE ts <= $__toTime GROUP BY camera_id) AS s\n"
    "  ON s.camera_id = h.camera_id\n"
    "LEFT JOIN (SELECT entity_id, 1 AS open FROM alerts FINAL\n"
    "           WHERE kind = 'camera_outage' AND status = 'open' GROUP BY entity_id) AS o\n"
    "  ON o.entity_id = h.camera_id"
)


def _metric(title: str, column: str, unit: str = "", description: str = "") -> Panel:
    return Panel(title, "timeseries",
                 f"SELECT $__timeInterval(window_start) AS time, camera_id, avg({column}) AS {column}\n"
                 f"FROM camera_health FINAL WHERE $__timeFilter(window_start) AND {CAMERA}\n"
                 "GROUP BY time, camera_id ORDER BY time",
                 ("time", "camera_id", column), w=8, h=7, unit=unit, description=description)


def board() -> Board:
    """The camera health board."""
    return Board(
        uid=UID,
        title="Camera health",
        description="Every camera's tamper state, frame metrics, recording quality against its role's minimum "
                    "(Ek-80 III.A), tamper alerts and outages.",
        tags=("quaywatch", "cameras"),
        time_from="now-24h",
        variables=(
            Variable("camera", "Camera", "SELECT DISTINCT camera_id FROM camera_health ORDER BY camera_id",
                     multi=True, include_all=True),
        ),
        panels=(
            Panel("Camera state now", "stat",
                  "SELECT camera, state FROM (" + STATE_NOW + ") ORDER BY camera",
                  ("camera", "state"), w=24, h=5, rows_to_fields=("camera", "state"), text_colors=STATE_COLORS,
                  description="ok = green, defocused = yellow, moved = orange, blocked = red, frozen = purple, "
                              "outage (no frames, alert open) = red."),
            Panel("Cameras", "table",
                  "SELECT camera, role, state, since, last_window FROM (" + STATE_NOW + ") ORDER BY camera",
                  ("camera", "role", "state", "since", "last_window"), w=10, h=8, text_colors=STATE_COLORS),
            Panel("Recording compliance (latest window)", "table",
                  "SELECT camera_id, argMax(role, window_start) AS role,\n"
                  "       concat(toString(argMax(width, window_start)), '×', toString(argMax(height, window_start)))"
                  " AS resolution,\n"
                  "       argMax(min_height, window_start) AS min_lines, argMax(fps, window_start) AS fps_measured,\n"
                  "       argMax(min_fps, window_start) AS min_fps,\n"
                  "       if(argMax(compliant, window_start), 'compliant', 'BELOW MINIMUM') AS compliance,\n"
                  "       argMax(reasons, window_start) AS reasons,\n"
                  "       round(100 * countIf(NOT compliant) / count(), 1) AS noncompliant_windows_pct\n"
                  f"FROM camera_health FINAL WHERE $__timeFilter(window_start) AND {CAMERA}\n"
                  "GROUP BY camera_id ORDER BY camera_id",
                  ("camera_id", "role", "resolution", "min_lines", "fps_measured", "min_fps", "compliance",
                   "reasons", "noncompliant_windows_pct"), w=14, h=8, decimals=2,
                  text_colors=(("compliant", GREEN), ("BELOW MINIMUM", RED)),
                  description="Measured resolution (smallest frame) and frame rate against the role's minimum: "
                              "entry/exit and handling ≥ 1080 lines at 15 fps, general ≥ 720 lines at 10 fps."),
            _metric("Sharpness", "sharpness",
                    description="Normalised Laplacian sharpness (mean per window); a drop means defocus or a "
                                "sprayed lens."),
            _metric("Brightness", "brightness", description="Mean grey level 0–255 per window."),
            _metric("Shift from the reference", "max_shift_px", unit="px",
                    description="Largest shift of the view against the camera's reference in the window "
                                "(moved camera)."),
            Panel("Tamper alerts", "table",
                  "SELECT window_start AS since, if(status = 'open', NULL, window_end) AS until, entity_id AS camera,\n"
                  "       replaceOne(kind, 'camera_', '') AS tamper, severity, status,\n"
                  "       JSONExtractString(details, 'evidence_frame') AS evidence_frame, message\n"
                  "FROM alerts FINAL\n"
                  f"WHERE kind IN {TAMPER_KINDS} AND $__timeFilter(window_start)"
                  " AND $__conditionalAll(entity_id IN ($camera), $camera)\n"
                  "ORDER BY status = 'open' DESC, since DESC LIMIT 500",
                  ("since", "until", "camera", "tamper", "severity", "status", "evidence_frame", "message"),
                  w=24, h=8, text_colors=(("open", RED), ("resolved", GREEN)),
                  description="Defocused, blocked (covered or sprayed), moved, frozen; evidence_frame is the "
                              "archive key (SHA-256) of the frame that raised it."),
            Panel("Outages", "table",
                  "SELECT window_start AS last_frame_before, if(status = 'open', NULL, window_end) AS resumed,\n"
                  "       entity_id AS camera, status,\n"
                  "       dateDiff('millisecond', window_start, if(status = 'open', $__toTime, window_end)) / 1000"
                  " AS gap_s\n"
                  "FROM alerts FINAL\n"
                  "WHERE kind = 'camera_outage' AND $__timeFilter(window_start)"
                  " AND $__conditionalAll(entity_id IN ($camera), $camera)\n"
                  "ORDER BY status = 'open' DESC, last_frame_before DESC LIMIT 500",
                  ("last_frame_before", "resumed", "camera", "status", "gap_s"), w=12, h=8, unit="s", decimals=1,
                  text_colors=(("open", RED), ("resolved", GREEN)),
                  description="Streams without frames for longer than [cameras] outage_gap_s; an open outage "
                              "lasts until the end of the time range."),
            Panel("State changes", "table",
                  "SELECT ts, camera_id, from_state, to_state, frame_key, source_position\n"
                  f"FROM camera_state_changes FINAL WHERE $__timeFilter(ts) AND {CAMERA}\n"
                  "ORDER BY ts DESC LIMIT 500",
                  ("ts", "camera_id", "from_state", "to_state", "frame_key", "source_position"), w=12, h=8,
                  text_colors=STATE_COLORS),
        ),
    )
