"""A small offline rendering of ``infra/k8s/kustomization.yaml`` for the tests (no kustomize binary here).

It does what our kustomization uses and nothing more: ``resources`` (multi-document YAML files),
``namespace`` (set on every namespaced object) and ``configMapGenerator`` with ``files`` (data keyed by file
name). kustomize also suffixes generated ConfigMap names with a content hash and rewrites the references;
that is left out, so references are checked against the generator names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: Kinds that are not namespaced among those we ship.
CLUSTER_SCOPED = {"Namespace"}


def render(kustomization_dir: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl kustomize`` would output (generated ConfigMaps last), without name hashes."""
    kust = yaml.safe_load((kustomization_dir / "kustomization.yaml").read_text())
    unsupported = set(kust) - {"apiVersion", "kind", "namespace", "resources", "configMapGenerator"}
    if unsupported:
        raise ValueError(f"k8s_render does not implement {sorted(unsupported)}")
    docs: list[dict[str, Any]] = []
    for res in kust.get("resources", []):
        docs += [d for d in yaml.safe_load_all((kustomization_dir / res).read_text()) if d]
    for gen in kust.get("configMapGenerator", []):
        data = {Path(f).name: (kustomization_dir / f).read_text() for f in gen["files"]}
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": gen["name"]}, "data": data})
    ns = kust.get("namespace")
    if ns:
        for d in docs:
            if d["kind"] not in CLUSTER_SCOPED:
                d["metadata"]["namespace"] = ns
    return docs


def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The pod template's spec of a workload (StatefulSet, Deployment, Job), else ``None``."""
    spec: dict[str, Any] | None = doc.get("spec", {}).get("template", {}).get("spec")
    return spec
