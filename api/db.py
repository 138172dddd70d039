"""SQL registry and ledger: SQLAlchemy models, engine and migrations.

SQLite is the embedded default; nothing here is SQLite-specific, so a PostgreSQL URL works
too. The schema is owned by Alembic (api/migrations); `migrate()` brings a database to head.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from landfill.contract import utcnow
from landfill.settings import DEFAULT_TIMEZONE

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Site(Base):
    """A landfill (one weighbridge house, one set of containers)."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Scale(Base):
    """A truck scale (weighbridge) and how its indicator is read."""

    __tablename__ = "scale"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    protocol: Mapped[str] = mapped_column(String(64), default="yaohua-a9")
    division_kg: Mapped[int] = mapped_column(Integer, default=20)
    max_kg: Mapped[int] = mapped_column(Integer, default=60_000)
    min_kg: Mapped[int] = mapped_column(Integer, default=400)  # the smallest weight billed (20 e)
    certificate: Mapped[str] = mapped_column(String(100), default="")  # verification certificate
    verified_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite, WAL mode, foreign keys on, and the folder created."""
    if url.startswith("sqlite:///") and not url.endswith(":memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

    return engine


def migrate(engine: Engine) -> None:
    """Bring the database schema to the newest migration."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to the engine."""
    return sessionmaker(engine, expire_on_commit=False)


def sessions(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield one session (a FastAPI dependency)."""
    with factory() as session:
        yield session


class Container(Base):
    """A metal container in a settlement, its geometry, thresholds, schedule and sensor."""

    __tablename__ = "container"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    code: Mapped[str] = mapped_column(String(64))
    settlement: Mapped[str] = mapped_column(String(200), default="")
    zone: Mapped[str] = mapped_column(String(64), default="")
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    volume_m3: Mapped[float] = mapped_column(Float, default=1.1)
    empty_mm: Mapped[int] = mapped_column(Integer)
    full_mm: Mapped[int] = mapped_column(Integer)
    full_pct: Mapped[float] = mapped_column(Float, default=80.0)
    clear_pct: Mapped[float] = mapped_column(Float, default=70.0)
    expected_interval_s: Mapped[int] = mapped_column(Integer, default=3600)
    # weekdays as digits separated by spaces, 0 = Monday ("0 3" = Monday and Thursday)
    collection_weekdays: Mapped[str] = mapped_column(String(20), default="")
    device: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class AlertAck(Base):
    """A dispatcher's acknowledgement of one open alert (container, kind, since)."""

    __tablename__ = "alert_ack"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    alert_id: Mapped[str] = mapped_column(String(64))
    container: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column("actor", String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(String(500), default="")


class EmptyingDecision(Base):
    """A dispatcher's confirmation or rejection of a detected emptying."""

    __tablename__ = "emptying_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    event_id: Mapped[str] = mapped_column(String(64))
    container: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column("actor", String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(String(500), default="")
