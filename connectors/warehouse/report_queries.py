"""Warehouse queries behind the reports: plain rows (dicts), nothing computed that SQL cannot show.

Every query reads deduplicated rows (``SETTINGS final = 1``) and is written so an auditor can run it with
``quaywatch sql``: time windows are half-open ``(start, end]`` on ``ts``, the state at a moment T is the last
row with ``ts <= T`` (``argMax(..., ts)``). Timestamps come back timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from operators.vcf import AIR_BUOYANCY_KGM3

Row = dict[str, Any]

READING_COLUMNS = ("ts", "gov_total_m3", "flow_m3h", "temp_c", "pressure_kpa", "density_obs_kgm3",
                   "density_15c_kgm3", "density_source", "delta_gov_m3", "delta_gsv_15c_m3",
                   "delta_mass_vacuum_kg", "status")
TANK_COLUMNS = ("ts", "level_mm", "temp_c", "tov_m3", "gov_m3", "gsv_15c_m3", "mass_air_kg", "state")


def sql_str(value: str) -> str:
    """A ClickHouse string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_ts(ts: datetime) -> str:
    """A ``DateTime64(3, 'UTC')`` literal for a timezone-aware time."""
    if ts.tzinfo is None:
        raise ValueError("report times must be timezone-aware")
    return f"toDateTime64({sql_str(ts.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S.%f')[:-3])}, 3, 'UTC')"


def sql_list(values: Sequence[str]) -> str:
    """A ClickHouse array/tuple body of string literals."""
    return ", ".join(sql_str(v) for v in values)


def _utc(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
    if isinstance(v, list):
        return [_utc(x) for x in v]
    return v


def sequential_sum(column: str, nullable: bool = False) -> str:
    """SQL: Σ ``column`` added one reading after another in time order (NULLs skipped).

    ClickHouse's ``sum`` adds in the order of the table's parts and threads, which depends on how the rows were
    inserted (the sink's batches) and merged, so a float total could differ in the last bits between two
    warehouses holding the same rows. Folding in ``ts`` order (value order for equal times) gives the same bits
    whatever the layout, as the flow adds a meter operation's readings. Over no value: ``NULL`` for a nullable
    column, else 0 (as ``sum``).
    """
    values = f"arrayMap(p -> p.2, arraySort(groupArrayIf((ts, assumeNotNull({column})), isNotNull({column}))))"
    fold = f"arrayFold((acc, x) -> acc + x, {values}, toFloat64(0))"
    return f"if(count({column}) = 0, NULL, {fold})" if nullable else fold


#: The readings' interval quantities summed in time order (see :func:`sequential_sum`).
READING_SUMS = (
    f"{sequential_sum('delta_gov_m3')} AS gov_m3, {sequential_sum('delta_gsv_15c_m3', True)} AS gsv_15c_m3, "
    f"{sequential_sum('delta_mass_vacuum_kg', True)} AS mass_vacuum_kg, "
    f"mass_vacuum_kg - {AIR_BUOYANCY_KGM3} * gsv_15c_m3 AS mass_air_kg")


class ReportQueries:
    """The report queries against one warehouse database.

    Args:
        client: A clickhouse-connect client (chDB or server).
        database: The quaywatch database.
    """

    def __init__(self, client: Any, database: str) -> None:
        self.client = client
        self.db = database

    def rows(self, query: str) -> list[Row]:
        """Run a query with ``final = 1``; rows as dicts with UTC-aware timestamps."""
        res = self.client.query(query, settings={"final": 1})
        names = list(res.column_names)
        return [{n: _utc(v) for n, v in zip(names, r, strict=True)} for r in res.result_rows]

    # ------------------------------------------------------------------ one operation
    def operation(self, operation_id: str) -> Row | None:
        """The ``meter_operations`` row of an operation."""
        r = self.rows(f"SELECT * FROM {self.db}.meter_operations WHERE operation_id = {sql_str(operation_id)}")
        return r[0] if r else None

    def transfer(self, transfer_id: str) -> Row | None:
        """The latest ``transfers`` event of a transfer (the documents as last received)."""
        r = self.rows(f"SELECT * FROM {self.db}.transfers WHERE transfer_id = {sql_str(transfer_id)} "
                      "ORDER BY ts DESC LIMIT 1")
        return r[0] if r else None

    def transfer_span(self, transfer_id: str) -> Row | None:
        """First event time, meters and tanks of a transfer (None when unknown)."""
        r = self.rows(f"SELECT min(ts) AS started_at, argMax(meter_ids, ts) AS meter_ids, "
                      f"argMax(tank_ids, ts) AS tank_ids, count() AS events FROM {self.db}.transfers "
                      f"WHERE transfer_id = {sql_str(transfer_id)}")
        return r[0] if r and r[0]["events"] else None

    def lab_densities(self, transfer_id: str) -> list[Row]:
        """Officer density entries for a transfer, oldest first."""
        return self.rows(f"SELECT * FROM {self.db}.lab_densities WHERE transfer_id = {sql_str(transfer_id)} "
                         "ORDER BY ts, officer_id")

    def reconciliation(self, transfer_id: str) -> Row | None:
        """The reconciliation row of a transfer, if the reconciliation has written one."""
        r = self.rows(f"SELECT * FROM {self.db}.reconciliations WHERE transfer_id = {sql_str(transfer_id)}")
        return r[0] if r else None

    def operation_alerts(self, operation_id: str, meter_id: str, start: datetime, end: datetime) -> list[Row]:
        """Alerts about an operation: on the operation itself, or on its meter with a window overlapping it."""
        return self.rows(
            f"SELECT alert_id, ts, kind, severity, entity_type, entity_id, window_start, window_end, message, "
            f"status FROM {self.db}.alerts WHERE entity_id = {sql_str(operation_id)} OR "
            f"(entity_id = {sql_str(meter_id)} AND window_start <= {sql_ts(end)} AND window_end >= {sql_ts(start)}) "
            "ORDER BY ts, alert_id")

    def operation_readings(self, operation_id: str) -> list[Row]:
        """The meter readings of an operation in time order."""
        return self.rows(f"SELECT {', '.join(READING_COLUMNS)} FROM {self.db}.meter_readings "
                         f"WHERE operation_id = {sql_str(operation_id)} ORDER BY ts")

    def operation_reading_sums(self, operation_id: str) -> Row:
        """Σ of the readings' interval quantities of an operation (the cross-check of its totals)."""
        return self.rows(
            f"SELECT count() AS readings, {READING_SUMS} "
            f"FROM {self.db}.meter_readings WHERE operation_id = {sql_str(operation_id)}")[0]

    # ------------------------------------------------------------------ periods
    def meter_ids(self) -> list[str]:
        """Every meter with readings."""
        return [r["meter_id"] for r in self.rows(
            f"SELECT DISTINCT meter_id FROM {self.db}.meter_readings ORDER BY meter_id")]

    def tank_ids(self) -> list[str]:
        """Every tank with gauge readings."""
        return [r["tank_id"] for r in self.rows(
            f"SELECT DISTINCT tank_id FROM {self.db}.tank_readings ORDER BY tank_id")]

    def meter_bucket_sums(self, meter_ids: Sequence[str], bounds: Sequence[datetime]) -> list[Row]:
        """Per meter and bucket ``(bounds[k], bounds[k+1]]``: Σ interval quantities of operation readings.

        Only readings that belong to an operation (``operation_id != ''``) count; ``bucket`` is the 0-based
        bucket index. An auditor reproduces one bucket with ``WHERE ts > start AND ts <= end``.
        """
        if len(bounds) < 2 or not meter_ids:
            return []
        ends = ", ".join(sql_ts(b) for b in bounds[1:])
        return self.rows(
            f"SELECT meter_id, toUInt32(arrayFirstIndex(b -> ts <= b, [{ends}]) - 1) AS bucket, "
            f"count() AS readings, {READING_SUMS} "
            f"FROM {self.db}.meter_readings WHERE meter_id IN ({sql_list(meter_ids)}) AND operation_id != '' "
            f"AND ts > {sql_ts(bounds[0])} AND ts <= {sql_ts(bounds[-1])} GROUP BY meter_id, bucket "
            "ORDER BY meter_id, bucket")

    def meter_index_at(self, meter_ids: Sequence[str], at: datetime) -> dict[str, Row]:
        """Totalizer (GOV) index of each meter at a moment: its last reading with ``ts <= at``."""
        if not meter_ids:
            return {}
        rows = self.rows(
            f"SELECT meter_id, max(ts) AS reading_ts, argMax(gov_total_m3, ts) AS index_m3 "
            f"FROM {self.db}.meter_readings "
            f"WHERE meter_id IN ({sql_list(meter_ids)}) AND ts <= {sql_ts(at)} GROUP BY meter_id")
        return {r["meter_id"]: r for r in rows}

    def operations_overlapping(self, meter_ids: Sequence[str], start: datetime, end: datetime) -> list[Row]:
        """Operations (not creep) of the meters that overlap ``[start, end]``."""
        if not meter_ids:
            return []
        return self.rows(
            f"SELECT operation_id, meter_id, transfer_id, status, started_at, ended_at, gov_m3, gsv_15c_m3 "
            f"FROM {self.db}.meter_operations WHERE meter_id IN ({sql_list(meter_ids)}) AND status != 'creep' "
            f"AND started_at <= {sql_ts(end)} AND (ended_at IS NULL OR ended_at >= {sql_ts(start)}) "
            "ORDER BY started_at, meter_id")

    def tank_state_at(self, tank_ids: Sequence[str], at: datetime) -> dict[str, Row]:
        """Each tank's last gauge reading with ``ts <= at`` (the stock at that moment)."""
        if not tank_ids:
            return {}
        cols = ", ".join(f"argMax({c}, ts) AS last_{c}" for c in TANK_COLUMNS if c != "ts")
        rows = self.rows(f"SELECT tank_id, max(ts) AS last_ts, {cols} FROM {self.db}.tank_readings "
                         f"WHERE tank_id IN ({sql_list(tank_ids)}) AND ts <= {sql_ts(at)} GROUP BY tank_id")
        return {r["tank_id"]: {k.removeprefix("last_"): v for k, v in r.items()} for r in rows}

    def tank_readings(self, tank_id: str, start: datetime, end: datetime) -> list[Row]:
        """A tank's gauge readings with ``start < ts <= end`` in time order."""
        return self.rows(f"SELECT {', '.join(TANK_COLUMNS)} FROM {self.db}.tank_readings "
                         f"WHERE tank_id = {sql_str(tank_id)} AND ts > {sql_ts(start)} AND ts <= {sql_ts(end)} "
                         "ORDER BY ts")

    def meters_feeding_tank(self, tank_id: str) -> list[str]:
        """Meters named together with the tank on any transfer (empty when no transfer names it)."""
        return [r["meter_id"] for r in self.rows(
            f"SELECT DISTINCT arrayJoin(meter_ids) AS meter_id FROM {self.db}.transfers "
            f"WHERE has(tank_ids, {sql_str(tank_id)}) ORDER BY meter_id")]
