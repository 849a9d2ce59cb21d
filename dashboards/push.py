"""``quaywatch dashboards push``: the folder, the datasource and every dashboard into a Grafana over its HTTP API.

For teams that do not use file provisioning. Idempotent: everything is addressed by uid, so a second push
updates in place (folder kept, datasource updated, dashboards saved with ``overwrite``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError

from dashboards.build import JSON_DIR

FOLDER_UID, FOLDER_TITLE = "quaywatch", "quaywatch"
DATASOURCE_YAML = Path(__file__).resolve().parent / "provisioning" / "datasources" / "clickhouse.yaml"


@dataclass
class PushResult:
    """What a push did."""

    folder: str = ""
    datasource: str = ""
    dashboards: list[str] = field(default_factory=list)


def datasource_payload(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The datasource of the provisioning file, with ``${VAR}`` taken from the environment (as Grafana does)."""
    env = os.environ if environ is None else environ
    text = DATASOURCE_YAML.read_text(encoding="utf-8")

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name not in env:
            raise KeyError(f"datasource needs ${name} in the environment")
        return env[name]

    text = re.sub(r"\$\{(\w+)\}|\$(\w+)", sub, "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")))
    ds: dict[str, Any] = yaml.safe_load(text)["datasources"][0]
    ds.pop("editable", None)
    return ds


def push(url: str, token: str, json_dir: Path = JSON_DIR, with_datasource: bool = False,
         environ: dict[str, str] | None = None) -> PushResult:
    """Create or update the folder, optionally the datasource, and every generated dashboard.

    Args:
        url: Grafana base URL.
        token: Service-account token (sent as a Bearer token).
        json_dir: Generated dashboards.
        with_datasource: Also create/update the ClickHouse datasource of the provisioning file.
        environ: Environment for the datasource's ``${VAR}`` values (default: the process environment).

    Returns:
        What was created or updated.
    """
    api = GrafanaApi.from_url(url, credential=token)
    out = PushResult()
    try:
        api.folder.get_folder(FOLDER_UID)
        out.folder = "kept"
    except GrafanaClientError as e:
        if e.status_code != 404:
            raise
        api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
        out.folder = "created"
    if with_datasource:
        ds = datasource_payload(environ)
        try:
            api.datasource.get_datasource_by_uid(ds["uid"])
            api.datasource.update_datasource_by_uid(ds["uid"], ds)
            out.datasource = "updated"
        except GrafanaClientError as e:
            if e.status_code != 404:
                raise
            api.datasource.create_datasource(ds)
            out.datasource = "created"
    for path in sorted(json_dir.glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        api.dashboard.update_dashboard({"dashboard": board, "folderUid": FOLDER_UID, "overwrite": True,
                                        "message": "quaywatch dashboards push"})
        out.dashboards.append(str(board["uid"]))
    return out
