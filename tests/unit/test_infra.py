"""infra/ references what exists: flow names in FLOWS, the migrations built into the image, the provisioning
and dashboard files mounted from their one source, the same users everywhere. (Docker, Kubernetes, a
ClickHouse server and Grafana cannot run here: these are static checks.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from flows.run import FLOWS

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"


def compose() -> dict:
    return yaml.safe_load((INFRA / "compose/docker-compose.yml").read_text())


def test_compose_services_run_existing_flows_with_recovery_volumes():
    doc = compose()
    services = doc["services"]
    assert {"kafka", "clickhouse", "grafana", "migrate"} <= set(services)
    flows = {name: s for name, s in services.items() if s.get("command", [None])[0] == "run"}
    assert set(flows) == set(FLOWS)  # one service per registered flow, no more
    for name, s in flows.items():
        cmd = s["command"]
        assert cmd[1] == name and cmd[cmd.index("--source") + 1] == "kafka://kafka:9092"
        assert cmd[cmd.index("--warehouse") + 1].startswith("http://") and "--recovery" in cmd
        data_dir = cmd[cmd.index("--data-dir") + 1]
        vol, target = s["volumes"][0].split(":")[:2]
        assert target == data_dir and vol in doc["volumes"]
        assert s["build"]["dockerfile"] == "infra/Dockerfile"
        assert "healthcheck" in services["kafka"] and "healthcheck" in services["clickhouse"]
    assert services["migrate"]["command"][0] == "migrate"


def test_compose_bind_mounts_exist_and_are_the_repo_files():
    doc = compose()
    base = INFRA / "compose"
    mounted = {}
    for s in doc["services"].values():
        for v in s.get("volumes", []):
            src, target = v.split(":")[:2]
            if src.startswith("."):
                path = (base / src).resolve()
                assert path.exists(), f"{src} does not exist"
                mounted[target] = path
    assert mounted["/etc/grafana/provisioning/datasources"] == REPO / "dashboards/provisioning/datasources"
    assert mounted["/etc/grafana/provisioning/alerting"] == REPO / "dashboards/provisioning/alerting"
    provider = yaml.safe_load((REPO / "dashboards/provisioning/dashboards/quaywatch.yaml").read_text())
    assert mounted[provider["providers"][0]["options"]["path"]] == REPO / "dashboards/json"
    build = doc["services"]["meters"]["build"]
    assert (base / build["context"] / build["dockerfile"]).resolve() == INFRA / "Dockerfile"


def test_dockerfile_copies_the_packages_and_runs_the_cli():
    text = (INFRA / "Dockerfile").read_text()
    copies = re.findall(r"^COPY (\S+)", text, flags=re.M)
    for src in copies:
        assert (REPO / src).exists(), src
    assert {"flows", "operators", "connectors", "dashboards"} <= set(copies)  # migrations ship in connectors
    assert (REPO / "connectors/warehouse/migrations/0001_foundation.sql").exists()
    assert re.search(r'^ENTRYPOINT \["quaywatch"\]', text, flags=re.M)
    assert re.search(r"^USER ", text, flags=re.M)  # not root


def test_k8s_manifests_and_generated_configmaps():
    kust = yaml.safe_load((INFRA / "k8s/kustomization.yaml").read_text())
    for res in kust["resources"]:
        assert (INFRA / "k8s" / res).exists()
    for gen in kust["configMapGenerator"]:
        for f in gen["files"]:
            assert (INFRA / "k8s" / f).resolve().exists(), f
    generated = {p.name for p in (REPO / "dashboards/json").glob("*.json")}
    cm = next(g for g in kust["configMapGenerator"] if g["name"] == "grafana-dashboards")
    assert {Path(f).name for f in cm["files"]} == generated  # every dashboard is shipped
    docs = [d for res in kust["resources"] for d in yaml.safe_load_all((INFRA / "k8s" / res).read_text()) if d]
    for d in docs:
        assert {"apiVersion", "kind", "metadata"} <= set(d)
    sets = [d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"].startswith("flow-")]
    assert {s["spec"]["template"]["spec"]["containers"][0]["args"][1] for s in sets} == set(FLOWS)
    for s in sets:
        spec = s["spec"]
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
        mount = spec["template"]["spec"]["containers"][0]["volumeMounts"][0]
        assert mount["name"] == spec["volumeClaimTemplates"][0]["metadata"]["name"]
        assert mount["mountPath"] in spec["template"]["spec"]["containers"][0]["args"]
    configmaps = {g["name"] for g in kust["configMapGenerator"]}
    for d in docs:
        for v in d.get("spec", {}).get("template", {}).get("spec", {}).get("volumes", []):
            if "configMap" in v:
                assert v["configMap"]["name"] in configmaps


def test_users_sql_matches_the_datasource_and_the_flows():
    sql = (INFRA / "clickhouse/users.sql").read_text()
    users = set(re.findall(r"CREATE USER IF NOT EXISTS (\w+)", sql))
    ds = yaml.safe_load((REPO / "dashboards/provisioning/datasources/clickhouse.yaml").read_text())
    assert ds["datasources"][0]["jsonData"]["username"] in users
    assert re.search(r"GRANT SELECT ON quaywatch\.\* TO quaywatch_reader;", sql)
    assert not re.search(r"GRANT [^;]*INSERT[^;]*TO quaywatch_reader", sql)  # readers only read
    writer = re.search(r"http://(\w+):", " ".join(compose()["services"]["meters"]["command"])).group(1)
    assert writer in users
    script = (INFRA / "clickhouse/init-users.sh").read_text()
    for placeholder in set(re.findall(r"\$\{(\w+_PASSWORD)\}", sql)):
        assert placeholder in script
