"""Grafana provisioning: the InfluxDB datasource (InfluxQL mode), the dashboard provider, and
the alerting files, for the production compose file's Grafana.

The datasource reads InfluxDB over the v1 HTTP API, which InfluxDB 1.x serves, 2.x serves for
a bucket mapped with DBRP (`influx v1 dbrp create`), and 3.x serves as its v1 compatibility
API. `datasource()` is also what `landfill dashboards push` creates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dashboards import alerts
from dashboards.influxql import DATASOURCE_UID
from dashboards.texts import title
from landfill.language import Language

__all__ = [
    "DASHBOARDS_PATH",
    "DATASOURCE_NAME",
    "datasource",
    "files",
    "language_files",
]

DATASOURCE_NAME = "Landfill InfluxDB"
DASHBOARDS_PATH = "/var/lib/grafana/dashboards/landfill"  # where compose mounts the JSON files
PROVISIONING = Path("deploy/grafana/provisioning")
EXAMPLES = Path("deploy/grafana/examples")

DATASOURCE_NOTE = """\
InfluxDB for Grafana in InfluxQL mode; `landfill dashboards push` creates the same datasource.
Grafana replaces $INFLUX_PASSWORD from its environment (deploy/compose.yaml passes it).
InfluxDB 2.x: map the bucket to a database first (influx v1 dbrp create --db landfill
  --rp autogen --bucket-id ID --default), then keep version InfluxQL, set dbName to that
  database, drop user/password and add an Authorization header instead:
  jsonData.httpHeaderName1: Authorization; secureJsonData.httpHeaderValue1: Token $INFLUX_TOKEN
InfluxDB 3.x: the same, with the database name and a token (docs/operations.md)."""


def datasource(url: str, database: str, user: str = "", password: str = "") -> dict[str, Any]:
    """The InfluxDB datasource as Grafana's HTTP API and provisioning files take it."""
    source: dict[str, Any] = {
        "name": DATASOURCE_NAME,
        "uid": DATASOURCE_UID,
        "type": "influxdb",
        "access": "proxy",
        "url": url,
        "isDefault": True,
        "jsonData": {
            "version": "InfluxQL",
            "dbName": database,
            "httpMode": "POST",
            "timeInterval": "10s",  # ingest_stats' period: no finer interval shows anything
        },
    }
    if user:
        source["user"] = user
        source["secureJsonData"] = {"password": password}
    return source


def files() -> dict[Path, tuple[dict[str, Any], str]]:
    """The files that are the same in every language, with their header notes."""
    source = datasource("http://influxdb:8086", "landfill", "landfill", "$INFLUX_PASSWORD")
    source["editable"] = False
    contact_points = {
        "apiVersion": 1,
        "contactPoints": [
            {
                "orgId": 1,
                "name": "landfill-telegram",
                "receivers": [
                    {
                        "uid": "landfill-telegram",
                        "type": "telegram",
                        "settings": {
                            "bottoken": "$GRAFANA_TELEGRAM_BOT_TOKEN",
                            "chatid": "$GRAFANA_TELEGRAM_CHAT_ID",
                        },
                    }
                ],
            },
            {
                "orgId": 1,
                "name": "landfill-webhook",
                "receivers": [
                    {
                        "uid": "landfill-webhook",
                        "type": "webhook",
                        "settings": {"url": "$GRAFANA_ALERT_WEBHOOK_URL", "httpMethod": "POST"},
                    }
                ],
            },
        ],
    }
    example_note = (
        "Example contact points (not mounted). To use one: copy this file to the alerting\n"
        "# provisioning folder, set the variables in Grafana's environment, and name the\n"
        "# contact point as the receiver in policies.yaml (docs/operations.md)."
    )
    return {
        PROVISIONING / "datasources" / "landfill.yaml": (
            {"apiVersion": 1, "datasources": [source]},
            DATASOURCE_NOTE.replace("\n", "\n# "),
        ),
        EXAMPLES / "contact-points.yaml": (contact_points, example_note),
    }


def language_files(language: Language) -> dict[Path, tuple[dict[str, Any], str]]:
    """The provisioning files of one language, relative to its `provisioning/` folder."""
    provider = {
        "name": "landfill",
        "orgId": 1,
        "folder": title("folder", language),
        "folderUid": alerts.FOLDER_UID,
        "type": "file",
        "disableDeletion": True,
        "allowUiUpdates": False,
        "updateIntervalSeconds": 60,
        "options": {"path": DASHBOARDS_PATH, "foldersFromFilesStructure": False},
    }
    return {
        Path("dashboards/landfill.yaml"): (
            {"apiVersion": 1, "providers": [provider]},
            f"Dashboard provider: the JSON files in {DASHBOARDS_PATH}",
        ),
        Path("alerting/rules.yaml"): (
            alerts.rules_file(language),
            "Alert rules (Grafana unified alerting file provisioning)",
        ),
        Path("alerting/policies.yaml"): (
            alerts.policies_file(),
            "Notification policy, and the mute timing that keeps 'scale silent' to working hours",
        ),
    }
