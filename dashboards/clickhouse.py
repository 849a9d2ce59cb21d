"""The ClickHouse datasource as panels reference it, and its query model.

grafana-foundation-sdk has no ClickHouse query type, so this module supplies one with the fields of the
``grafana-clickhouse-datasource`` plugin (v4): ``editorType`` (``sql``), ``rawSql``, ``queryType``
(``table`` | ``timeSeries``) and ``format`` (the plugin SDK's integer: 0 time series, 1 table).
"""

from __future__ import annotations

from typing import Literal

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.dashboard import DataSourceRef

#: Plugin id of the official ClickHouse datasource.
PLUGIN = "grafana-clickhouse-datasource"
#: uid of the provisioned datasource (dashboards/provisioning/datasources/clickhouse.yaml).
DATASOURCE_UID = "quaywatch-clickhouse"
DATASOURCE = DataSourceRef(type_val=PLUGIN, uid=DATASOURCE_UID)

QueryType = Literal["table", "timeSeries"]
_FORMAT: dict[str, int] = {"timeSeries": 0, "table": 1}


class ClickHouseQuery(cogvariants.Dataquery):
    """One raw-SQL target of a panel."""

    def __init__(self, ref_id: str, sql: str, query_type: QueryType) -> None:
        self.ref_id = ref_id
        self.sql = sql
        self.query_type = query_type

    def to_json(self) -> dict[str, object]:
        """The target as the plugin stores it in a dashboard."""
        return {
            "refId": self.ref_id,
            "datasource": DATASOURCE.to_json(),
            "editorType": "sql",
            "rawSql": self.sql,
            "queryType": self.query_type,
            "format": _FORMAT[self.query_type],
            "pluginVersion": "4.0.0",
        }


class ClickHouseQueryBuilder(cogbuilder.Builder[ClickHouseQuery]):
    """Builder for :class:`ClickHouseQuery`, to pass to a panel's ``with_target``."""

    def __init__(self, ref_id: str, sql: str, query_type: QueryType = "table") -> None:
        self._query = ClickHouseQuery(ref_id, sql, query_type)

    def build(self) -> ClickHouseQuery:
        """The query."""
        return self._query
