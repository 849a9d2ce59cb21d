"""Fuel transfer screen (M2): one meter's operation with its documents, live measurements and shore tanks.

Select a meter, then one of its operations (newest first) and, optionally, some tanks. Colours follow the
requirement: meter idle = yellow, active = navy (with the flow direction); shore tank receiving = yellow,
delivering = navy, idle = green.
"""

from __future__ import annotations

from dashboards.spec import GREEN, NAVY, RED, YELLOW, Board, Panel, Variable

UID = "quaywatch-fuel-transfer"

#: The selected operation (one row), as a CTE every panel starts from.
OP = "WITH op AS (SELECT * FROM meter_operations FINAL WHERE operation_id = '${operation}')\n"
#: The latest reading of the selected meter up to the end of the time range.
LIVE = ("SELECT * FROM meter_readings FINAL WHERE meter_id = '${meter}' AND ts <= $__toTime "
        "ORDER BY ts DESC LIMIT 1")
#: Tanks of the operation's transfer (as its documents list them), narrowed by the tank selector.
OP_TANKS = ("tank_id IN (SELECT arrayJoin(tank_ids) FROM transfers FINAL "
            "WHERE transfer_id IN (SELECT transfer_id FROM op))\n"
            "  AND $__conditionalAll(tank_id IN ($tank), $tank)")
TANK_LATEST = (OP + "SELECT tank_id, argMax(state, ts) AS state, argMax(fill_pct, ts) AS fill_pct,\n"
               "       argMax(gsv_15c_m3, ts) AS gsv_15c_m3, max(ts) AS at\n"
               "FROM tank_readings FINAL\n"
               "WHERE " + OP_TANKS + " AND ts <= $__toTime\nGROUP BY tank_id")
TANK_COLORS = ((".*receiving", YELLOW), (".*delivering", NAVY), (".*idle", GREEN))


def board() -> Board:
    """The M2 fuel transfer screen."""
    return Board(
        uid=UID,
        title="Fuel transfer (M2)",
        description="One meter's transfer operation: documents, live meter, quantities, shore tanks, alerts.",
        tags=("quaywatch", "meters", "M2"),
        time_from="now-12h",
        refresh="10s",
        variables=(
            Variable("meter", "Meter", "SELECT DISTINCT meter_id FROM meter_readings ORDER BY meter_id"),
            Variable("operation", "Operation",
                     "SELECT operation_id FROM meter_operations FINAL WHERE meter_id = '${meter}' "
                     "AND status IN ('open', 'closed') AND started_at <= $__toTime ORDER BY started_at DESC"),
            Variable("tank", "Tanks", "SELECT DISTINCT tank_id FROM tank_readings ORDER BY tank_id",
                     multi=True, include_all=True),
        ),
        panels=(
            Panel("Ship and documents", "stat",
                  OP + "SELECT ship_name AS `Ship`, meter_serial AS `Meter serial`, product AS `Product`,\n"
                  "       bl_no AS `B/L no`, bl_date AS `B/L date`,\n"
                  "       concat(summary_declaration_no, ' / ', summary_declaration_date) AS `Summary declaration`,\n"
                  "       concat(declaration_no, ' / ', declaration_date) AS `Declaration`\nFROM op",
                  ("Ship", "Meter serial", "Product", "B/L no", "B/L date", "Summary declaration", "Declaration"),
                  w=24, h=4),
            Panel("B/L quantity", "stat", OP + "SELECT bl_quantity_kg_air AS `B/L quantity (kg in air)` FROM op",
                  ("B/L quantity (kg in air)",), w=4, h=5, unit="masskg"),
            Panel("Start and end", "stat",
                  OP + "SELECT formatDateTime(started_at, '%F %T', 'UTC') AS `Start (UTC)`,\n"
                  "       if(ended_at IS NULL, 'in progress', formatDateTime(assumeNotNull(ended_at), '%F %T', 'UTC'))"
                  " AS `End (UTC)`, status AS `Status`\nFROM op",
                  ("Start (UTC)", "End (UTC)", "Status"), w=8, h=5),
            Panel("Meter status", "stat",
                  OP + "SELECT multiIf(r.status != 'ok', concat('FAULT: ', r.status),\n"
                  "               r.flow_m3h > 0, concat('ACTIVE ', if((SELECT direction FROM op) = 'loading',\n"
                  "                                     'shore → ship (loading)', 'ship → shore (discharge)')),\n"
                  "               'IDLE') AS `Meter ${meter}`\n"
                  "FROM (" + LIVE + ") AS r",
                  ("Meter ${meter}",), w=12, h=5,
                  description="Idle = yellow, active = navy with the flow direction, fault = red.",
                  text_colors=(("IDLE", YELLOW), ("ACTIVE.*", NAVY), ("FAULT.*", RED))),
            Panel("Temperature and density (live)", "stat",
                  "SELECT temp_c AS `Temperature`, density_obs_kgm3 AS `Density observed (kg/m³)`,\n"
                  "       density_15c_kgm3 AS `Density at 15 °C (kg/m³)`\nFROM (" + LIVE + ")",
                  ("Temperature", "Density observed (kg/m³)", "Density at 15 °C (kg/m³)"), w=12, h=5,
                  decimals=2),
            Panel("Flow (live)", "stat",
                  "SELECT flow_m3h AS `Volume flow (m³/h)`, flow_m3h * density_obs_kgm3 AS `Mass flow (kg/h)`\n"
                  "FROM (" + LIVE + ")",
                  ("Volume flow (m³/h)", "Mass flow (kg/h)"), w=12, h=5, decimals=1,
                  description="Mass flow = volume flow × observed density at line conditions."),
            Panel("Quantities of the operation", "stat",
                  OP + "SELECT gov_m3 AS `Gross volume GOV (m³)`, gsv_15c_m3 AS `Net volume GSV 15 °C (m³)`,\n"
                  "       mass_vacuum_kg AS `Mass in vacuum (kg)`, mass_air_kg AS `Weight in air (kg)`,\n"
                  "       avg_temp_c AS `Avg temperature (°C)`, density_15c_kgm3 AS `Density 15 °C (kg/m³)`\n"
                  "FROM op",
                  ("Gross volume GOV (m³)", "Net volume GSV 15 °C (m³)", "Mass in vacuum (kg)",
                   "Weight in air (kg)", "Avg temperature (°C)", "Density 15 °C (kg/m³)"), w=24, h=5, decimals=3,
                  description="API MPMS 11.1-2004 corrections; the operation's closing − opening index = GOV."),
            Panel("Shore tanks: fill", "gauge",
                  "SELECT concat(tank_id, ' ', state) AS tank, fill_pct FROM (" + TANK_LATEST + ") ORDER BY tank_id",
                  ("tank", "fill_pct"), w=12, h=7, unit="percent", min=0, max=100, decimals=1,
                  rows_to_fields=("tank", "fill_pct"), name_colors=TANK_COLORS,
                  description="Each shore tank of the operation; receiving = yellow, delivering = navy, idle = green."),
            Panel("Shore tanks: stock at 15 °C", "stat",
                  "SELECT concat(tank_id, ' ', state) AS tank, gsv_15c_m3 FROM (" + TANK_LATEST + ") ORDER BY tank_id",
                  ("tank", "gsv_15c_m3"), w=12, h=7, unit="m³", decimals=1,
                  rows_to_fields=("tank", "gsv_15c_m3"), name_colors=TANK_COLORS),
            Panel("Flow", "timeseries",
                  "SELECT $__timeInterval(ts) AS time, avg(flow_m3h) AS `volume flow m³/h`,\n"
                  "       avg(flow_m3h * density_obs_kgm3) / 1000 AS `mass flow t/h`\n"
                  "FROM meter_readings FINAL\nWHERE meter_id = '${meter}' AND $__timeFilter(ts)\n"
                  "GROUP BY time ORDER BY time",
                  ("time", "volume flow m³/h", "mass flow t/h"), w=12, h=8),
            Panel("Temperature and density", "timeseries",
                  "SELECT $__timeInterval(ts) AS time, avg(temp_c) AS `temperature °C`,\n"
                  "       avg(density_15c_kgm3) AS `density 15 °C kg/m³`\n"
                  "FROM meter_readings FINAL\nWHERE meter_id = '${meter}' AND $__timeFilter(ts)\n"
                  "GROUP BY time ORDER BY time",
                  ("time", "temperature °C", "density 15 °C kg/m³"), w=12, h=8),
            Panel("Open alerts of the operation", "table",
                  OP + "SELECT window_start AS since, severity, kind, entity_type, entity_id, status, message\n"
                  "FROM alerts FINAL\nWHERE status != 'resolved' AND (\n"
                  "    entity_id IN (SELECT operation_id FROM op) OR entity_id IN (SELECT transfer_id FROM op)\n"
                  "    OR JSONExtractString(details, 'operation_id') IN (SELECT operation_id FROM op)\n"
                  "    OR (entity_id IN (SELECT meter_id FROM op)\n"
                  "        AND window_start >= (SELECT started_at FROM op)\n"
                  "        AND window_start <= coalesce((SELECT ended_at FROM op), now64(3))))\n"
                  "ORDER BY since DESC",
                  ("since", "severity", "kind", "entity_type", "entity_id", "status", "message"), w=24, h=8,
                  text_colors=(("critical", RED), ("warning", YELLOW))),
        ),
    )
