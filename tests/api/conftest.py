"""Fixtures for the registry and dispatcher tests: the API on this test's broker and database.

Every client made by `make_api` carries an admin's API token unless told otherwise;
`add_user`, `add_token` and `login` make the accounts, tokens and sessions a test needs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from api.auth.tokens import create_token
from api.auth.users import create_user
from api.main import create_app
from landfill.contract import utcnow
from landfill.settings import ApiSettings
from tests.conftest import wait_for

PASSWORD = "correct horse battery"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def add_token(app: FastAPI, role: str, name: str | None = None, client: str | None = None) -> str:
    """Create an API token for a role straight in the app's database; return its secret."""
    with app.state.sessions() as session:
        _, secret = create_token(
            session, name or f"test-{role}", role, "tests", utcnow(), client_code=client
        )
        session.commit()
    return secret


def add_user(
    app: FastAPI,
    username: str,
    role: str,
    *,
    password: str = PASSWORD,
    full_name: str = "",
    client: str | None = None,
) -> None:
    """Create an account straight in the app's database."""
    with app.state.sessions() as session:
        create_user(
            session, username, role, password, utcnow(), full_name=full_name, client_code=client
        )
        session.commit()


def csrf_of(html: str) -> str:
    """The CSRF token of a page's form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


def login(client, username: str, password: str = PASSWORD, **extra):
    """Log in through the login form (TestClient or httpx.Client); return the POST's answer.

    On success the client keeps the session cookie and sends the session's CSRF token with
    every request from then on, as the page's script does.
    """
    form = client.get("/login")
    assert form.status_code == 200, form.text
    data = {"username": username, "password": password, "csrf_token": csrf_of(form.text)}
    resp = client.post("/login", data=data | extra, follow_redirects=False)
    if resp.status_code == 303:
        home = client.get("/")
        assert home.status_code == 200, home.text
        client.headers["X-CSRF-Token"] = csrf_of(home.text)
    return resp


def client_for(app: FastAPI, token: str | None = None) -> TestClient:
    """Another client of a running app (its lifespan is run by the first client)."""
    client = TestClient(app)
    if token is not None:
        client.headers["Authorization"] = f"Bearer {token}"
    return client


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
    """Start the API (migrated database of `database_url`) with settings overrides.

    The client sends an admin token unless ``as_admin=False``.
    """
    clients: list[TestClient] = []

    def make(clock: Clock | None = None, as_admin: bool = True, **overrides) -> TestClient:
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
        if as_admin:
            client.headers["Authorization"] = f"Bearer {add_token(app, 'admin')}"
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def clock() -> Clock:
    """Tuesday 2026-11-24 10:00 in Bishkek (04:00 UTC)."""
    return Clock(datetime(2026, 11, 24, 4, 0, tzinfo=UTC))
