"""Dependencies shared by the routes: settings, SQL session, the site, InfluxDB, broker client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

import paho.mqtt.client as mqtt
from fastapi import Cookie, Depends, Header, HTTPException, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import Site
from api.i18n import pick_language
from landfill.contract import utcnow
from landfill.influx import InfluxStore
from landfill.language import Language
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


def get_language(
    request: Request,
    lang: Annotated[str | None, Query(max_length=8, description="ky, ru or en")] = None,
    lang_cookie: Annotated[str | None, Cookie(alias="lang")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Language:
    """The language of an answer: ?lang=, the lang cookie, Accept-Language, the default."""
    default = get_settings(request).default_language
    return pick_language(lang, lang_cookie, accept_language, default)


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
InfluxDep = Annotated[InfluxStore, Depends(get_influx)]
MqttDep = Annotated[mqtt.Client, Depends(get_mqtt)]
NowDep = Annotated[datetime, Depends(get_now)]
LanguageDep = Annotated[Language, Depends(get_language)]


def get_site(session: SessionDep, settings: SettingsDep) -> Site:
    """The configured site's row (the request's session); 404 when the registry lacks it."""
    site = session.scalar(select(Site).where(Site.code == settings.site))
    if site is None:
        raise HTTPException(404, "site not found")
    return site


SiteDep = Annotated[Site, Depends(get_site)]
