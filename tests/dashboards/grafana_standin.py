"""A small stand-in for Grafana's HTTP API, on a loopback port, that records every request.

Grafana cannot be installed here, so this answers the endpoints `landfill dashboards push`
uses as Grafana 11's documented API does: Bearer tokens (401 "invalid API key"), 404 with a
message for what does not exist, 409 for a second create, dashboards stored with an id and a
version that grows on each save, `meta.folderUid`, datasources read back without their
`secureJsonData` (only `secureJsonFields`), rule groups read back with the fields Grafana adds
(`id`, `updated`, `provenance`, and the query defaults `intervalMs`/`maxDataPoints`).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from deploy import stack


@dataclass
class Request:
    method: str
    path: str
    body: Any


@dataclass
class State:
    token: str
    requests: list[Request] = field(default_factory=list)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    rule_groups: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method != "GET"]

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


def _datasource_get(state: State, uid: str) -> tuple[int, Any]:
    if uid not in state.datasources:
        return 404, {"message": "Data source not found"}
    stored = copy.deepcopy(state.datasources[uid])
    secure = stored.pop("secureJsonData", {})
    stored["secureJsonFields"] = dict.fromkeys(secure, True)
    return 200, stored


def _datasource_write(state: State, uid: str | None, body: Any) -> tuple[int, Any]:
    if uid is None:  # POST
        if body.get("uid") in state.datasources:
            return 409, {"message": "data source with the same uid already exists"}
        uid = body["uid"]
        state.datasources[uid] = {**body, "id": state.new_id(), "orgId": 1, "readOnly": False}
        return 200, {"id": state.datasources[uid]["id"], "message": "Datasource added"}
    if uid not in state.datasources:
        return 404, {"message": "Data source not found"}
    state.datasources[uid] = {**body, "id": state.datasources[uid]["id"], "orgId": 1}
    return 200, {"message": "Datasource updated"}


def _folder(state: State, method: str, uid: str | None, body: Any) -> tuple[int, Any]:
    if method == "GET":
        if uid not in state.folders:
            return 404, {"message": "folder not found", "status": "not-found"}
        return 200, state.folders[uid]
    if method == "POST":
        if body["uid"] in state.folders:
            return 409, {"message": "a folder with the same uid already exists"}
        state.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"],
                                      "id": state.new_id(), "version": 1}  # fmt: skip
        return 200, state.folders[body["uid"]]
    if uid not in state.folders:
        return 404, {"message": "folder not found"}
    folder = state.folders[uid]
    folder.update(title=body["title"], version=folder["version"] + 1)
    return 200, folder


def _dashboard_get(state: State, uid: str) -> tuple[int, Any]:
    if uid not in state.dashboards:
        return 404, {"message": "Dashboard not found"}
    stored = state.dashboards[uid]
    meta = {"folderUid": stored["folderUid"], "version": stored["dashboard"]["version"]}
    return 200, {"dashboard": copy.deepcopy(stored["dashboard"]), "meta": meta}


def _dashboard_save(state: State, body: Any) -> tuple[int, Any]:
    board = copy.deepcopy(body["dashboard"])
    uid = board["uid"]
    old = state.dashboards.get(uid)
    if old is not None and not body.get("overwrite"):
        return 412, {
            "message": "A dashboard with the same uid already exists",
            "status": "name-exists",
        }
    if body.get("folderUid") and body["folderUid"] not in state.folders:
        return 400, {"message": "folder not found"}
    board["id"] = old["dashboard"]["id"] if old else state.new_id()
    board["version"] = old["dashboard"]["version"] + 1 if old else 1
    state.dashboards[uid] = {"dashboard": board, "folderUid": body.get("folderUid", "")}
    return 200, {"id": board["id"], "uid": uid, "status": "success", "version": board["version"],
                 "url": f"/d/{uid}/x"}  # fmt: skip


def _rule_group(state: State, method: str, key: tuple[str, str], body: Any) -> tuple[int, Any]:
    if method == "GET":
        if key not in state.rule_groups:
            return 404, {"message": "rule group does not exist"}
        return 200, copy.deepcopy(state.rule_groups[key])
    if key[0] not in state.folders:
        return 404, {"message": "folder does not exist"}
    group = copy.deepcopy(body)
    for rule in group["rules"]:
        rule.update(id=state.new_id(), updated="2025-01-01T00:00:00Z", provenance="api")
        for query in rule["data"]:
            query["model"].setdefault("intervalMs", 1000)
            query["model"].setdefault("maxDataPoints", 43200)
    state.rule_groups[key] = group
    return 200, group


ROUTES = [
    (r"^/api/datasources/uid/([^/]+)$", "datasource"),
    (r"^/api/datasources$", "datasources"),
    (r"^/api/folders/([^/]+)$", "folder"),
    (r"^/api/folders$", "folders"),
    (r"^/api/dashboards/uid/([^/]+)$", "dashboard"),
    (r"^/api/dashboards/db$", "save"),
    (r"^/api/v1/provisioning/folder/([^/]+)/rule-groups/([^/]+)$", "rule_group"),
]


def answer(state: State, method: str, path: str, body: Any) -> tuple[int, Any]:
    for pattern, name in ROUTES:
        match = re.match(pattern, path)
        if match is None:
            continue
        if name == "datasource":
            if method == "GET":
                return _datasource_get(state, match[1])
            return _datasource_write(state, match[1], body)
        if name == "datasources" and method == "POST":
            return _datasource_write(state, None, body)
        if name in ("folder", "folders"):
            return _folder(state, method, match[1] if name == "folder" else None, body)
        if name == "dashboard" and method == "GET":
            return _dashboard_get(state, match[1])
        if name == "save" and method == "POST":
            return _dashboard_save(state, body)
        if name == "rule_group":
            return _rule_group(state, method, (match[1], match[2]), body)
    return 404, {"message": "Not found"}


class Handler(BaseHTTPRequestHandler):
    state: State

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        path = self.path.split("?")[0]
        self.state.requests.append(Request(self.command, path, body))
        if path == "/api/health":
            status, reply = 200, {"commit": "standin", "database": "ok", "version": "11.3.0"}
        elif self.headers.get("Authorization") != f"Bearer {self.state.token}":
            status, reply = 401, {"message": "invalid API key", "traceID": ""}
        elif path == "/api/org":
            status, reply = 200, {"id": 1, "name": "Main Org.", "address": {}}
        else:
            status, reply = answer(self.state, self.command, path, body)
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class GrafanaStandIn:
    """The stand-in served from a thread; ``url`` and ``state`` for the test."""

    def __init__(self, token: str = "glsa_test") -> None:
        self.state = State(token)
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", stack.free_port()), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
