"""Fixtures for the registry and dispatcher tests: the API on this test's broker and database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from landfill.settings import ApiSettings
from tests.conftest import wait_for


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def make_api(broker, influx, site, tmp_path) -> Callable[..., TestClient]:
    """Start the API (migrated SQLite in tmp_path) with settings overrides; closed at the end."""
    clients: list[TestClient] = []

    def make(clock: Clock | None = None, **overrides) -> TestClient:
        values = {
            "site": site,
            "mqtt_url": broker.url,
            "influx_url": influx.url,
            "influx_db": influx.database,
            "database_url": f"sqlite:///{tmp_path}/api.sqlite",
        }
        settings = ApiSettings(**(values | overrides))
        app = create_app(settings)
        if clock is not None:
            app.state.clock = clock
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        wait_for(lambda: client.get("/health").status_code == 200, what="healthy API")
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def clock() -> Clock:
    """Tuesday 2026-11-24 10:00 in Bishkek (04:00 UTC)."""
    return Clock(datetime(2026, 11, 24, 4, 0, tzinfo=UTC))
