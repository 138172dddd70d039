"""Fixtures for the registry and dispatcher tests: the API on this test's broker and database."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

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
def database_url(tmp_path) -> str:
    """The API's SQL database: SQLite in tmp_path (a module may override this fixture)."""
    return f"sqlite:///{tmp_path}/api.sqlite"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_url(request, tmp_path) -> Iterator[str]:
    """SQLite, then a fresh PostgreSQL database: for tests of the SQL store on both."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/api.sqlite"
        return
    server = request.getfixturevalue("postgres")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield server.url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def make_api(broker, influx, site, database_url) -> Callable[..., TestClient]:
    """Start the API (migrated database of `database_url`) with settings overrides."""
    clients: list[TestClient] = []

    def make(clock: Clock | None = None, **overrides) -> TestClient:
        values = {
            "site": site,
            "mqtt_url": broker.url,
            "influx_url": influx.url,
            "influx_db": influx.database,
            "database_url": database_url,
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
