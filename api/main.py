"""Build the FastAPI app: settings, SQL (migrated at start-up), InfluxDB, broker, routers."""

from __future__ import annotations

import argparse
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType

import paho.mqtt.client as mqtt
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select

from api import db
from api.auth import access
from api.container_registry import publish_registry, seed_demo
from api.limits import MAX_BODY_BYTES, influx_unavailable, validation_error
from api.live import LiveHub
from api.routes import (
    admin,
    auth,
    billing,
    captures,
    console,
    container_page,
    containers,
    council,
    dead_letters,
    dispatch,
    docs,
    health,
    inflow,
    pages,
    portal,
    registry,
    route_sheet,
    tickets,
    weighbridge,
)
from api.weighbridge.pdf import FontMissing
from api.weighbridge.publish import Republisher
from api.weighbridge.refusals import Refusal, refusal_response
from landfill import __version__
from landfill.contract import Topics
from landfill.influx import InfluxStore, QueryError
from landfill.lifecycle import setup_logging
from landfill.mqtt import announce, connect_async, make_client
from landfill.options import add_options, build, command_parser
from landfill.settings import ApiSettings

log = logging.getLogger("landfill.api")
STATIC = Path(__file__).resolve().parent / "static"
AREAS: tuple[ModuleType, ...] = (health, captures, registry, containers, dispatch, weighbridge)
AREAS += (tickets, pages, console, route_sheet, container_page, auth, admin, docs, billing)
AREAS += (portal, inflow, council, dead_letters)
SHUTDOWN_GRACE_S = 3  # requests still running when asked to stop get this long


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Create the app; dependencies are connected in the lifespan, not at import."""
    settings = settings or ApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = db.make_engine(settings.database_url)
        db.migrate(engine)
        app.state.sessions = db.session_factory(engine)
        _seed_site(app, settings)
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
        app.state.live = LiveHub(settings).start()  # the operator console's live weights
        try:
            yield
        finally:
            app.state.live.close()
            client.disconnect()
            client.loop_stop()
            app.state.influx.close()
            engine.dispose()

    app = FastAPI(
        title="Landfill telemetry",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served by api.routes.docs from vendored assets, not a CDN
        redoc_url=None,
        max_body_size=MAX_BODY_BYTES,  # 413 before a larger body is read (api/limits.py)
        exception_handlers={RequestValidationError: validation_error},
    )
    app.state.settings = settings
    app.add_exception_handler(QueryError, influx_unavailable)
    app.add_exception_handler(Refusal, refusal_response)
    app.add_exception_handler(FontMissing, _font_missing)
    for area in AREAS:
        app.include_router(area.router)
    access.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


async def _font_missing(_request: Request, exc: Exception) -> JSONResponse:
    """The PDF font is not installed: the server's setup is incomplete, say what to install."""
    return JSONResponse({"detail": str(exc)}, status_code=503)


def _seed_site(app: FastAPI, settings: ApiSettings) -> None:
    """Make sure the configured site exists in the registry, and the demo containers if asked."""
    with app.state.sessions() as session:
        site = session.scalar(select(db.Site).where(db.Site.code == settings.site))
        if site is None:
            site = db.Site(code=settings.site, name=settings.site, timezone=settings.timezone)
            session.add(site)
            session.commit()
        if settings.seed_demo:
            log.info("demo containers loaded: %d", seed_demo(session, site))


DESCRIPTION = """\
Serve the HTTP API (/docs lists every route), the operator console (/operator) and the
dispatcher page (/dispatch): the scale and container registry, captures, weighing tickets,
fill levels, alerts, emptyings and collection routes."""


def build_parser() -> argparse.ArgumentParser:
    """The options of `landfill api`, from `ApiSettings`."""
    parser = command_parser("api", DESCRIPTION)
    add_options(parser, ApiSettings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`landfill api`: serve with uvicorn until interrupted."""
    settings = build(ApiSettings, build_parser().parse_args(argv))
    setup_logging(settings.log_level)
    return serve(settings)


def serve(settings: ApiSettings) -> int:
    """Serve the API with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        # an operator console's live stream never ends by itself: without a limit, a stop
        # would wait for every browser to go away; they reconnect to the next start
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    return 0
