"""The provisioning files hold what Grafana requires (keys of its provisioning file formats, v1)."""

from __future__ import annotations

from pathlib import Path

import yaml

from dashboards.clickhouse import DATASOURCE_UID, PLUGIN

PROV = Path(__file__).resolve().parents[2] / "dashboards" / "provisioning"


def load(rel: str) -> dict:
    return yaml.safe_load((PROV / rel).read_text())


def test_datasource():
    doc = load("datasources/clickhouse.yaml")
    assert doc["apiVersion"] == 1
    (ds,) = doc["datasources"]
    assert {"name", "type", "uid", "access", "jsonData"} <= set(ds)
    assert ds["type"] == PLUGIN and ds["uid"] == DATASOURCE_UID and ds["access"] == "proxy"
    jd = ds["jsonData"]
    assert {"host", "port", "protocol", "username", "defaultDatabase"} <= set(jd)  # v4 names ("host", not "server")
    assert jd["protocol"] in ("http", "native") and isinstance(jd["port"], int)
    assert jd["username"] == "grafana"  # the read-only user of infra/clickhouse/users.sql
    assert "password" in ds["secureJsonData"] and "$" in ds["secureJsonData"]["password"]  # never in git


def test_dashboard_provider():
    doc = load("dashboards/quaywatch.yaml")
    assert doc["apiVersion"] == 1
    (p,) = doc["providers"]
    assert {"name", "type", "options", "folder"} <= set(p) and p["type"] == "file"
    assert p["options"]["path"].startswith("/")


def test_alert_rules_and_contact_point():
    doc = load("alerting/quaywatch.yaml")
    assert doc["apiVersion"] == 1
    receivers = {cp["name"] for cp in doc["contactPoints"]}
    for cp in doc["contactPoints"]:
        assert cp["orgId"] == 1 and cp["receivers"]
        for r in cp["receivers"]:
            assert {"uid", "type", "settings"} <= set(r)
    titles = set()
    for group in doc["groups"]:
        assert {"orgId", "name", "folder", "interval", "rules"} <= set(group)
        for rule in group["rules"]:
            assert {"uid", "title", "condition", "data", "noDataState", "execErrState", "for"} <= set(rule)
            refs = [d["refId"] for d in rule["data"]]
            assert rule["condition"] in refs and len(set(refs)) == len(refs)
            for d in rule["data"]:
                assert {"refId", "datasourceUid", "model"} <= set(d) and d["model"]["refId"] == d["refId"]
                if d["datasourceUid"] == "__expr__":
                    assert d["model"]["expression"] in refs
                else:
                    assert d["datasourceUid"] == DATASOURCE_UID and "relativeTimeRange" in d
                    assert d["model"]["rawSql"].strip() and d["model"]["format"] == 1
            assert rule["notification_settings"]["receiver"] in receivers
            assert rule["noDataState"] == "OK"  # no open alert = no rows = nothing to notify
            titles.add(rule["title"])
    assert titles == {"Meter failure during a transfer", "Reconciliation outside tolerance", "Camera tamper"}
