"""The API served by uvicorn in a thread, with the dispatcher scenario, for browser tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from api.main import create_app
from deploy import stack
from landfill.influx import InfluxStore
from landfill.settings import ApiSettings
from tests.api.conftest import Clock, add_token, add_user
from tests.api.seed import seed_scenario
from tests.conftest import wait_for


@dataclass(frozen=True)
class Served:
    """The API's base URL and the headers of an admin's token."""

    url: str
    admin: dict[str, str]


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
        admin = {"Authorization": f"Bearer {add_token(app, 'admin')}"}
        add_user(app, "aigul", "dispatcher", full_name="Aigul")
        add_user(app, "ainura", "auditor", full_name="Ainura")
        with httpx.Client(base_url=base, headers=admin) as client:
            seed_scenario(client, influx, site, clock.now)
        yield Served(base, admin)
    finally:
        srv.should_exit = True
        thread.join(10)
