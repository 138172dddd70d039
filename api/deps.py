"""Dependencies shared by the routes: settings, SQL session, the site, InfluxDB, broker client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal, get_args

import paho.mqtt.client as mqtt
from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import Site
from landfill.contract import utcnow
from landfill.influx import InfluxStore
from landfill.settings import ApiSettings


def get_settings(request: Request) -> ApiSettings:
    """The API's settings."""
    settings: ApiSettings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One SQL session per request."""
    with request.app.state.sessions() as session:
        yield session


def get_influx(request: Request) -> InfluxStore:
    """The InfluxDB query store."""
    store: InfluxStore = request.app.state.influx
    return store


def get_mqtt(request: Request) -> mqtt.Client:
    """The API's broker connection (health, ticket publishing)."""
    client: mqtt.Client = request.app.state.mqtt
    return client


def get_now(request: Request) -> datetime:
    """The current time from the app's clock (tests replace ``app.state.clock``)."""
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", utcnow)
    return clock()


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
InfluxDep = Annotated[InfluxStore, Depends(get_influx)]
MqttDep = Annotated[mqtt.Client, Depends(get_mqtt)]
NowDep = Annotated[datetime, Depends(get_now)]


def get_site(session: SessionDep, settings: SettingsDep) -> Site:
    """The configured site's row (the request's session); 404 when the registry lacks it."""
    site = session.scalar(select(Site).where(Site.code == settings.site))
    if site is None:
        raise HTTPException(404, "site not found")
    return site


SiteDep = Annotated[Site, Depends(get_site)]


Role = Literal["operator", "supervisor", "admin", "billing", "auditor"]
SUPERVISING: frozenset[str] = frozenset({"supervisor", "admin"})


@dataclass(frozen=True)
class Actor:
    """Who makes a request and in which role."""

    name: str
    role: Role

    @property
    def supervises(self) -> bool:
        """May key a weight by hand and void a ticket."""
        return self.role in SUPERVISING


def get_actor(
    x_actor: Annotated[str | None, Header(max_length=100)] = None,
    x_actor_role: Annotated[str | None, Header(max_length=32)] = None,
) -> Actor:
    """The person behind the request.

    The one place that says who acts: until log-in exists it trusts the X-Actor and
    X-Actor-Role headers (the tests set them); the access-control change replaces this body
    with the session's user.
    """
    role = (x_actor_role or "operator").strip().lower()
    if role not in get_args(Role):
        raise HTTPException(422, f"unknown role; known: {', '.join(get_args(Role))}")
    return Actor(name=(x_actor or "").strip() or role, role=role)  # type: ignore[arg-type]


ActorDep = Annotated[Actor, Depends(get_actor)]
