"""Build the FastAPI app: settings, SQL (migrated at start-up), InfluxDB, broker, routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select

from api import db
from api.container_registry import publish_registry, seed_demo
from api.routes import captures, containers, dispatch, health, pages, registry, tickets, weighbridge
from api.weighbridge.pdf import FontMissing
from api.weighbridge.publish import Republisher
from api.weighbridge.refusals import Refusal, refusal_response
from landfill import __version__
from landfill.contract import Topics
from landfill.influx import InfluxStore, QueryError
from landfill.mqtt import announce, connect_async, make_client
from landfill.settings import ApiSettings

log = logging.getLogger("landfill.api")
STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Create the app; dependencies are connected in the lifespan, not at import."""
    settings = settings or ApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = db.make_engine(settings.database_url)
        db.migrate(engine)
        app.state.sessions = db.session_factory(engine)
        _seed_site(app, settings)
        if settings.seed_demo:
            with app.state.sessions() as session:
                site = session.scalar(select(db.Site).where(db.Site.code == settings.site))
                log.info("demo containers loaded: %d", seed_demo(session, site))
        app.state.influx = InfluxStore(
            settings.influx_url,
            settings.influx_db,
            settings.influx_username,
            settings.influx_password,
        )
        topics = Topics(settings.site)
        node = f"api-{settings.api_port}"
        client = make_client(settings.mqtt_url, node, will=(topics, node))
        republish = Republisher(app.state.sessions, settings.site)

        def on_connect(c: mqtt.Client, *_: object) -> None:
            announce(c, topics, node)
            # retained, so edge and ingest get it on (re)start; a replay is harmless
            with app.state.sessions() as session:
                publish_registry(c, session, settings.site)
            republish(c)  # tickets the broker has not acknowledged yet

        client.on_connect = on_connect
        connect_async(client, settings.mqtt_url)
        app.state.mqtt = client
        try:
            yield
        finally:
            client.disconnect()
            client.loop_stop()
            app.state.influx.close()
            engine.dispose()

    app = FastAPI(title="Landfill telemetry", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.add_exception_handler(QueryError, _influx_unavailable)
    app.add_exception_handler(Refusal, refusal_response)
    app.add_exception_handler(FontMissing, _font_missing)
    app.include_router(health.router)
    app.include_router(captures.router)
    app.include_router(registry.router)
    app.include_router(containers.router)
    app.include_router(dispatch.router)
    app.include_router(weighbridge.router)
    app.include_router(tickets.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


async def _influx_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """Any route: an InfluxDB query that fails is 503, the data is out of reach for now."""
    return JSONResponse({"detail": f"InfluxDB query failed: {exc}"}, status_code=503)


async def _font_missing(_request: Request, exc: Exception) -> JSONResponse:
    """The PDF font is not installed: the server's setup is incomplete, say what to install."""
    return JSONResponse({"detail": str(exc)}, status_code=503)


def _seed_site(app: FastAPI, settings: ApiSettings) -> None:
    """Make sure the configured site exists in the registry."""
    with app.state.sessions() as session:
        if session.scalar(select(db.Site).where(db.Site.code == settings.site)) is None:
            session.add(db.Site(code=settings.site, name=settings.site, timezone=settings.timezone))
            session.commit()


def main(settings: ApiSettings) -> int:
    """Serve the API with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
    )
    return 0
