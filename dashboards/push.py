"""`landfill dashboards push`: create or update the datasource, folder, dashboards and alert rules
in a Grafana over its HTTP API (grafana-client), changing only what differs.

Each object is read first and written only when it is missing or differs from what the code
renders, so a second push writes nothing and a changed panel updates only its dashboard.
`--dry-run` lists what would change (for a dashboard, the panels that differ) and writes
nothing. The datasource's password cannot be read back from Grafana, so a changed InfluxDB
password needs `--force`, which writes everything.

| object | read | written with |
|---|---|---|
| datasource | GET /api/datasources/uid/{uid} | POST /api/datasources, PUT (same GET path) |
| folder | GET /api/folders/{uid} | POST /api/folders, PUT /api/folders/{uid} |
| dashboard | GET /api/dashboards/uid/{uid} | POST /api/dashboards/db |
| alert rules | GET /api/v1/provisioning/folder/{uid}/rule-groups/{group} | PUT the same |
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaTimeoutError
from niquests.exceptions import RequestException
from sqlalchemy.exc import SQLAlchemyError

from dashboards.alerts import FOLDER_UID, INTERVAL, RULE_GROUP, rules
from dashboards.provisioning import datasource
from dashboards.registry import Place, demo_places, sql_places
from dashboards.render import all_dashboards
from dashboards.templating import parse_duration_ms
from dashboards.texts import title
from landfill.options import add_options, build, command_parser
from landfill.settings import GrafanaSettings

__all__ = ["Change", "Desired", "PushError", "Pusher", "connect", "desired", "main"]

MESSAGE = "landfill dashboards push"


class PushError(Exception):
    """Grafana could not be reached or refused us; the message says what to check."""


@dataclass(frozen=True)
class Change:
    """What a push does (or would do) to one object."""

    kind: str
    uid: str
    action: Literal["create", "update", "unchanged"]
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.action} {self.kind} {self.uid}" + (f": {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class Desired:
    """Everything a push puts into Grafana."""

    datasource: dict[str, Any]
    folder_title: str
    dashboards: list[dict[str, Any]]
    rule_group: dict[str, Any]


def desired(settings: GrafanaSettings, places: Sequence[Place]) -> Desired:
    """What the code renders for these settings (language, InfluxDB as Grafana reaches it)."""
    language = settings.grafana_language
    source = datasource(
        settings.grafana_influx_url or settings.influx_url,
        settings.influx_db,
        settings.influx_username,
        settings.influx_password,
    )
    group = {
        "title": RULE_GROUP,
        "folderUid": FOLDER_UID,
        "interval": parse_duration_ms(INTERVAL) // 1000,
        "rules": rules(language),
    }
    boards = all_dashboards(language, places, settings.timezone)
    return Desired(source, title("folder", language), boards, group)


def contains(current: Any, wanted: Any) -> bool:
    """Whether ``current`` holds everything ``wanted`` says (Grafana adds fields of its own)."""
    if isinstance(wanted, dict):
        return isinstance(current, dict) and all(
            k in current and contains(current[k], v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(current, list)
            and len(current) == len(wanted)
            and all(contains(c, w) for c, w in zip(current, wanted, strict=True))
        )
    return bool(current == wanted)


def changed_panels(current: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Titles of the panels that differ, were added or were removed."""
    old = {p.get("id"): p for p in current.get("panels", [])}
    new = {p.get("id"): p for p in wanted.get("panels", [])}
    titles = [p["title"] for i, p in new.items() if old.get(i) != p]
    titles += [f"{p.get('title', i)} (removed)" for i, p in old.items() if i not in new]
    return titles


class Pusher:
    """Pushes ``Desired`` into one Grafana, or only says what it would do (``dry_run``)."""

    def __init__(self, api: GrafanaApi, dry_run: bool = False, force: bool = False) -> None:
        self.api = api
        self.dry_run = dry_run
        self.force = force

    def push(self, want: Desired) -> list[Change]:
        """Bring Grafana to ``want``; return what changed, in the order it was done."""
        changes = [self._datasource(want.datasource), self._folder(want.folder_title)]
        changes += [self._dashboard(board) for board in want.dashboards]
        changes.append(self._rule_group(want.rule_group))
        return changes

    def _read(self, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except GrafanaClientError as exc:
            if exc.status_code == 404:
                return None
            raise

    def _write(self, change: Change, write: Callable[[], Any]) -> Change:
        if change.action != "unchanged" and not self.dry_run:
            write()
        return change

    def _action(self, current: Any, same: bool) -> Literal["create", "update", "unchanged"]:
        if current is None:
            return "create"
        return "unchanged" if same and not self.force else "update"

    def _datasource(self, wanted: dict[str, Any]) -> Change:
        uid = wanted["uid"]
        ds = self.api.datasource
        current = self._read(lambda: ds.get_datasource_by_uid(uid))
        public = {k: v for k, v in wanted.items() if k != "secureJsonData"}
        change = Change("datasource", uid, self._action(current, contains(current, public)))
        if current is None:
            return self._write(change, lambda: ds.create_datasource(wanted))
        return self._write(change, lambda: ds.update_datasource_by_uid(uid, wanted))

    def _folder(self, folder_title: str) -> Change:
        folders = self.api.folder
        current = self._read(lambda: folders.get_folder(FOLDER_UID))
        same = current is not None and current.get("title") == folder_title
        change = Change("folder", FOLDER_UID, self._action(current, same), folder_title)
        if current is None:
            return self._write(change, lambda: folders.create_folder(folder_title, FOLDER_UID))
        return self._write(
            change, lambda: folders.update_folder(FOLDER_UID, folder_title, overwrite=True)
        )

    def _dashboard(self, wanted: dict[str, Any]) -> Change:
        uid = wanted["uid"]
        current = self._read(lambda: self.api.dashboard.get_dashboard(uid))
        stored = {}
        if current is not None:
            stored = {k: v for k, v in current["dashboard"].items() if k not in ("id", "version")}
        in_folder = current is not None and current.get("meta", {}).get("folderUid") == FOLDER_UID
        action = self._action(current, stored == wanted and in_folder)
        detail = ", ".join(changed_panels(stored, wanted)) if action == "update" else ""
        body = {"dashboard": wanted, "folderUid": FOLDER_UID, "overwrite": True, "message": MESSAGE}
        change = Change("dashboard", uid, action, detail)
        return self._write(change, lambda: self.api.dashboard.update_dashboard(body))

    def _rule_group(self, wanted: dict[str, Any]) -> Change:
        provisioning = self.api.alertingprovisioning
        current = self._read(lambda: provisioning.get_rule_group(FOLDER_UID, RULE_GROUP))
        action = self._action(current, contains(current, wanted))
        change = Change("alert rules", f"{FOLDER_UID}/{RULE_GROUP}", action)
        return self._write(
            change, lambda: provisioning.update_rule_group(FOLDER_UID, RULE_GROUP, wanted)
        )


def registry(database_url: str) -> list[Place]:
    """The map's containers from the SQL registry, or a PushError that says what to do."""
    try:
        return sql_places(database_url)
    except SQLAlchemyError as exc:
        raise PushError(
            f"cannot read the container registry at {database_url} ({type(exc).__name__}): "
            "set LANDFILL_DATABASE_URL, or map the demo containers with --demo-registry"
        ) from None


def connect(url: str, token: str, timeout: float = 10.0) -> GrafanaApi:
    """A client of the Grafana at ``url``, once it answers and takes ``token``."""
    if not token:
        raise PushError(
            "set LANDFILL_GRAFANA_TOKEN to a service account token "
            "(Grafana: Administration > Users and access > Service accounts; role Editor)"
        )
    api: GrafanaApi = GrafanaApi.from_url(url, credential=token, timeout=timeout)
    try:
        health = api.client.GET("/health")  # open, documented: {"database": "ok", ...}
    except GrafanaTimeoutError:
        raise PushError(f"Grafana at {url} did not answer within {timeout:.0f} s") from None
    except RequestException as exc:  # refused, no route, bad name: not wrapped by the client
        raise PushError(
            f"cannot reach Grafana at {url} ({_reason(exc)}): check LANDFILL_GRAFANA_URL"
        ) from None
    except GrafanaException as exc:
        if exc.status_code == 0:
            raise PushError(
                f"cannot reach Grafana at {url} ({exc.message}): check LANDFILL_GRAFANA_URL"
            ) from None
        raise PushError(
            f"{url} does not look like Grafana: GET /api/health answered {exc.status_code}"
        ) from None
    if not isinstance(health, dict) or "database" not in health:
        raise PushError(f"{url} does not look like Grafana: /api/health said {health!r}")
    try:
        api.organization.get_current_organization()
    except GrafanaClientError as exc:
        raise PushError(_refused(url, exc.status_code)) from None
    return api


def _reason(exc: Exception) -> str:
    text = str(exc)
    for known in ("Connection refused", "Name or service not known", "No route to host"):
        if known in text:
            return known
    return type(exc).__name__


def _refused(url: str, status: int) -> str:
    if status == 401:
        return f"Grafana at {url} refused the token (401): check LANDFILL_GRAFANA_TOKEN"
    if status == 403:
        return f"the token may not change Grafana at {url} (403): give it the Editor role"
    return f"Grafana at {url} answered {status} to GET /api/org"


DESCRIPTION = """\
Create or update, in a Grafana, the InfluxDB datasource (InfluxQL), the landfill folder, the
five dashboards and the alert rules, in LANDFILL_GRAFANA_LANGUAGE. Only what differs is
written; --dry-run shows what would change. The map's containers come from the registry at
LANDFILL_DATABASE_URL (--demo-registry: the 33 demo containers). The token is read from
LANDFILL_GRAFANA_TOKEN only."""


def build_parser() -> argparse.ArgumentParser:
    """The arguments of `landfill dashboards push`."""
    parser = command_parser("dashboards push", DESCRIPTION)
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would change, write nothing"
    )
    parser.add_argument("--force", action="store_true", help="write everything, changed or not")
    parser.add_argument("--demo-registry", action="store_true", help="map the demo containers")
    add_options(parser, GrafanaSettings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`landfill dashboards push`."""
    args = build_parser().parse_args(argv)
    settings = build(GrafanaSettings, args)
    try:
        places = demo_places() if args.demo_registry else registry(settings.database_url)
        api = connect(settings.grafana_url, settings.grafana_token)
        changes = Pusher(api, dry_run=args.dry_run, force=args.force).push(
            desired(settings, places)
        )
    except PushError as exc:
        raise SystemExit(f"dashboards push: {exc}") from None
    except GrafanaException as exc:
        raise SystemExit(
            f"dashboards push: Grafana answered {exc.status_code}: {exc.message}"
        ) from None
    for change in changes:
        would = "would " if args.dry_run and change.action != "unchanged" else ""
        print(f"{would}{change}")  # noqa: T201 - the command's report
    return 0
