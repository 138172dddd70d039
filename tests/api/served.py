"""The API served by uvicorn in a thread, for browser tests; `serve_dispatch` adds the scenario."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from api.main import create_app
from deploy import stack
from landfill.influx import InfluxStore
from landfill.settings import ApiSettings
from tests.api.conftest import Clock, add_token, add_user
from tests.api.seed import seed_scenario
from tests.conftest import wait_for


@dataclass(frozen=True)
class Served:
    """The API's base URL, the headers of an admin's token, and the app (for its database)."""

    url: str
    admin: dict[str, str]
    app: FastAPI = field(repr=False)


@contextmanager
def serve_api(
    broker: stack.Server,
    influx: InfluxStore,
    site: str,
    tmp_path: Path,
    clock: Clock | None = None,
    **overrides: Any,
) -> Iterator[Served]:
    """The API on this test's broker, InfluxDB and SQLite, served on a free port once healthy.

    ``overrides`` are ApiSettings values (the depot's place, say); ``clock``, when given, is the
    app's clock.
    """
    port = stack.free_port()
    settings = ApiSettings(
        site=site,
        mqtt_url=broker.url,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=f"sqlite:///{tmp_path}/api.sqlite",
        api_port=port,
        **overrides,
    )
    app = create_app(settings)
    if clock is not None:
        app.state.clock = clock
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{base}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, what="uvicorn serving the API")
        yield Served(base, {"Authorization": f"Bearer {add_token(app, 'admin')}"}, app)
    finally:
        srv.should_exit = True
        thread.join(10)


@contextmanager
def serve_dispatch(
    broker: stack.Server,
    influx: InfluxStore,
    site: str,
    tmp_path: Path,
    clock: Clock,
    **overrides: Any,
) -> Iterator[Served]:
    """The API with the seeded scenario; accounts aigul (dispatcher "Aigul") and ainura (auditor).

    ``overrides`` are ApiSettings values (the depot's place, say).
    """
    with serve_api(broker, influx, site, tmp_path, clock, **overrides) as served:
        add_user(served.app, "aigul", "dispatcher", full_name="Aigul")
        add_user(served.app, "ainura", "auditor", full_name="Ainura")
        with httpx.Client(base_url=served.url, headers=served.admin) as client:
            seed_scenario(client, influx, site, clock.now)
        yield served
