"""The committed dashboard JSON is what the code generates, and it is well formed for Grafana 11.6."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from dashboards.boards import all_boards
from dashboards.build import JSON_DIR, generated, stale, write
from dashboards.clickhouse import DATASOURCE_UID, PLUGIN

REPO = Path(__file__).resolve().parents[2]


def test_committed_json_is_current():
    assert stale() == [], "run `quaywatch dashboards build` and commit dashboards/json/"


def test_stale_detects_an_edit_and_a_missing_and_an_extra_file(tmp_path):
    write(tmp_path)
    assert stale(tmp_path) == []
    first = sorted(tmp_path.glob("*.json"))[0]
    first.write_text(first.read_text().replace('"refresh"', '"refreshh"'))
    (tmp_path / "old.json").write_text("{}")
    sorted(tmp_path.glob("*.json"))[-1].unlink()
    assert len(stale(tmp_path)) == 3


def test_structure_of_every_dashboard():
    uids = set()
    for name, text in generated().items():
        d = json.loads(text)
        assert name == f"{d['uid']}.json" and d["uid"] not in uids and len(d["uid"]) <= 40
        uids.add(d["uid"])
        assert d["schemaVersion"] == 41 and "id" not in d  # Grafana 11.6 build of the SDK
        cells: set[tuple[int, int]] = set()
        ids = [p["id"] for p in d["panels"]]
        assert len(set(ids)) == len(ids)
        titles = [p["title"] for p in d["panels"]]
        assert len(set(titles)) == len(titles)
        for p in d["panels"]:
            g = p["gridPos"]
            assert all(isinstance(g[k], int) for k in "hwxy") and g["x"] >= 0 and g["x"] + g["w"] <= 24
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    assert (x, y) not in cells, f"{d['uid']}: {p['title']} overlaps"
                    cells.add((x, y))
            assert p["datasource"] == {"type": PLUGIN, "uid": DATASOURCE_UID}
            for t in p["targets"]:
                assert t["editorType"] == "sql" and t["rawSql"].strip()
                assert (t["queryType"], t["format"]) in (("table", 1), ("timeSeries", 0))
                assert (t["queryType"] == "timeSeries") == (p["type"] == "timeseries")
        for v in d["templating"].get("list", []):
            if v["type"] == "textbox":  # free text: its default is the query field
                assert v["query"] and "datasource" not in v
            else:
                assert v["type"] == "query" and v["datasource"]["uid"] == DATASOURCE_UID and v["query"]


def test_every_table_a_panel_reads_exists_in_the_migrations():
    sql = "\n".join(p.read_text() for p in (REPO / "connectors/warehouse/migrations").glob("*.sql"))
    tables = set(re.findall(r"CREATE TABLE IF NOT EXISTS \{database\}\.(\w+)", sql))
    for board in all_boards():
        for text in [p.sql for p in board.panels] + [v.sql for v in board.variables]:
            for used in re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", text):
                assert used in tables or used in {"op"}, f"{board.uid}: unknown table {used}"


def test_provider_points_at_the_generated_folder():
    provider = yaml.safe_load((REPO / "dashboards/provisioning/dashboards/quaywatch.yaml").read_text())
    assert JSON_DIR.name == "json"
    assert provider["providers"][0]["options"]["path"].endswith("/quaywatch")


def test_frame_links_and_hidden_url_columns_are_rendered():
    gate = json.loads(generated()["quaywatch-gate-operations.json"])
    panel = next(p for p in gate["panels"] if p["title"] == "Latest passages")
    props = {o["matcher"]["options"]: o["properties"] for o in panel["fieldConfig"]["overrides"]}
    assert props["frame_key"] == [{"id": "links", "value": [
        {"title": "open frame_key", "url": "${__data.fields.frame_url}", "targetBlank": True}]}]
    assert props["frame_url"] == [{"id": "custom.hidden", "value": True}]
    archive = next(v for v in gate["templating"]["list"] if v["name"] == "archive_url")
    assert archive["type"] == "textbox" and archive["query"].startswith("http")


def test_decision_panels_read_only_the_assumed_columns():
    from dashboards.boards import gate_decisions

    assumed = {"passage_id", "lane_id", "ts", "decision", "reasons", "notice_id", "latency_ms"}
    derived = {"last_lane", "decided_at", "last_decision", "last_reasons", "last_notice", "degraded_at", "degraded",
               "time", "reason", "passages", "hours_open", "deadline"}
    for panel in gate_decisions.panels():
        assert re.findall(r"\bFROM\s+(\w+)", panel.sql) == ["gate_decisions"] * len(re.findall(r"\bFROM\s+\w",
                                                                                               panel.sql))
        sql = re.sub(r"'[^']*'|`[^`]*`|\$__\w+|\$\w+", "", panel.sql)
        words = set(re.findall(r"\b([a-z_]+)\b(?!\s*\()", sql))
        keywords = {"select", "as", "from", "where", "group", "by", "order", "and", "desc", "ms", "open", "in",
                    "gate_decisions", "not", "final"}
        assert words - keywords - derived <= assumed, panel.title
    # the committed gate board has the decision panels exactly when the decisions migration is in the tree
    committed = json.dumps(json.loads(generated()["quaywatch-gate-operations.json"]))
    assert ("gate_decisions" in committed) == gate_decisions.available()
