"""Settings: one pydantic-settings class per process, environment variables prefixed LANDFILL_.

Every variable is listed with a comment in `.env.example` and in the README's configuration
table. Each field is also an option of its command (`landfill/options.py`): `--field-name`, and
the short name in ``json_schema_extra={"option": ...}``. Secrets (``{"env_only": True}``) are
never options. In production (LANDFILL_ENV=production) weak secrets are refused: shorter than 12
characters, containing a word anyone would try first, or too repetitive by a simple entropy
estimate (see `secret_problem`).
"""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from landfill.contract import DIVISIONS_KG
from landfill.language import Language
from landfill.names import check_name
from landfill.scale.protocols import make_protocol

# words a guesser tries first; a production secret containing one is refused
GUESSABLE = ("changeme", "change-me", "secret", "password", "admin", "landfill", "qwerty", "1234")
MIN_SECRET_LENGTH = 12
MIN_SECRET_BITS = 32.0  # 12 random letters and digits give about 41, `openssl rand -hex 16` 116
STATE_DIR = Path(".state")
DEFAULT_TIMEZONE = "Asia/Bishkek"


def login_url(url: str, username: str, password: str) -> str:
    """Return the broker URL with this login as its user info (any old one replaced)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    login = quote(username, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{login}@{host}"))


def companion_url(url: str, role: str) -> str:
    """Return the URL of a process's second connection: user ``<user>-<role>``, same password.

    The broker makes a client's id its username (`use_username_as_clientid`, so nobody can take
    over another's session); two connections of one process therefore need two users, and
    `landfill mqtt-acl` makes the companion with the same password. No user: ``url`` as is.
    """
    parts = urlsplit(url)
    if not parts.username:
        return url
    user = unquote(parts.username)
    return login_url(url, f"{user}-{role}", unquote(parts.password or ""))


def entropy_bits(value: str) -> float:
    """A simple entropy estimate: length times the Shannon bits of its own character mix."""
    n = len(value)
    return -sum(c * math.log2(c / n) for c in Counter(value).values())


def secret_problem(value: str) -> str | None:
    """Why ``value`` is too weak to be a production secret, or None when it will do."""
    if len(value) < MIN_SECRET_LENGTH:
        return f"shorter than {MIN_SECRET_LENGTH} characters"
    lowered = value.lower()
    word = next((w for w in GUESSABLE if w in lowered), None)
    if word is not None:
        return f"contains {word!r}"
    if entropy_bits(value) < MIN_SECRET_BITS:
        return "too repetitive (use e.g. `openssl rand -hex 16`)"
    return None


class CommonSettings(BaseSettings):
    """Broker, InfluxDB and site settings every process needs."""

    model_config = SettingsConfigDict(
        env_prefix="LANDFILL_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
    )

    env: Literal["development", "production"] = Field(
        "development", description="production refuses placeholder secrets"
    )
    site: str = Field("dostuk", description="site name in topics and tags")
    mqtt_url: str = Field(
        "mqtt://127.0.0.1:18830", description="broker, mqtt://user:pass@host:port"
    )
    mqtt_username: str = Field("", description="broker login; replaces the URL's user")
    mqtt_password: str = Field("", description="password of LANDFILL_MQTT_USERNAME")
    influx_url: str = Field("http://127.0.0.1:18086", description="InfluxDB v1 HTTP API base URL")
    influx_db: str = Field("landfill", description="InfluxDB database")
    influx_username: str = Field("", description="HTTP Basic user; none: no auth")
    influx_password: str = Field("", json_schema_extra={"env_only": True})
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    timezone: str = Field(
        DEFAULT_TIMEZONE,
        description="IANA zone of collection days, routes, notification texts and screens",
    )

    @property
    def tz(self) -> ZoneInfo:
        """The local time zone (storage is UTC; days and displays are local)."""
        return ZoneInfo(self.timezone)

    # the time window (docs/architecture.md): a message's time outside it is not believed
    time_ahead_seconds: float = Field(
        600.0, ge=0, description="a message time this far after its receive time is refused"
    )
    time_back_days: float = Field(
        30.0, ge=0, description="a message time this far before its receive time is refused"
    )

    @field_validator("site")
    @classmethod
    def _site(cls, value: str) -> str:
        return check_name(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Asia/Bishkek") from None
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("must look like mqtt://host:port or mqtts://user:pass@host:port")
        return value

    @field_validator("influx_url")
    @classmethod
    def _influx_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must look like http://host:8086")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _no_weak_secrets(self) -> CommonSettings:
        if self.mqtt_password and not self.mqtt_username:
            raise ValueError("LANDFILL_MQTT_PASSWORD needs LANDFILL_MQTT_USERNAME")
        if self.mqtt_username:
            # every MQTT client is built from the URL, so the login travels in it
            self.mqtt_url = login_url(self.mqtt_url, self.mqtt_username, self.mqtt_password)
        if self.env == "production":
            problem = secret_problem(self.influx_password)
            if problem:
                raise ValueError(f"LANDFILL_INFLUX_PASSWORD is too weak for production: {problem}")
            problem = secret_problem(urlsplit(self.mqtt_url).password or "")
            if problem:
                raise ValueError(f"the password in LANDFILL_MQTT_URL is too weak: {problem}")
        return self


class EdgeScaleSettings(CommonSettings):
    """`landfill edge scale`: one scale indicator on a serial port."""

    scale: str = Field("scale1", description="scale code in topics")
    scale_port: str = Field(
        "",
        description="pyserial URL: /dev/ttyUSB0, a pty, loop://, socket://host:port",
        json_schema_extra={"option": "port"},
    )
    scale_protocol: str = Field(
        "yaohua-a9", description="indicator protocol", json_schema_extra={"option": "protocol"}
    )
    scale_options: str = Field(
        "",
        description="protocol options key=value,... (see the protocols above)",
        json_schema_extra={"option": "options"},
    )
    scale_baudrate: int | None = Field(
        None,
        gt=0,
        description="baud rate; none: the protocol's",
        json_schema_extra={"option": "baudrate"},
    )
    scale_bytesize: Literal[7, 8] | None = Field(
        None,
        description="data bits; none: the protocol's",
        json_schema_extra={"option": "bytesize"},
    )
    scale_parity: Literal["N", "E", "O"] | None = Field(
        None, description="parity; none: the protocol's", json_schema_extra={"option": "parity"}
    )
    scale_stopbits: Literal[1, 2] | None = Field(
        None,
        description="stop bits; none: the protocol's",
        json_schema_extra={"option": "stopbits"},
    )
    scale_poll_seconds: float = Field(
        0.1,
        gt=0,
        le=10,
        description="poll period of command-mode protocols",
        json_schema_extra={"option": "poll-seconds"},
    )
    scale_live_seconds: float = Field(0.05, ge=0, le=10, description="min gap of live weights")
    scale_bad_frames_seconds: float = Field(
        60.0, gt=0, description="period of the bad_frames event (sent only when counts grew)"
    )
    scale_max_gap_seconds: float = Field(
        1.5, gt=0, description="a gap between readings this long restarts the stable window"
    )
    division_kg: int = Field(
        20,
        gt=0,
        description="scale division (e) in kg: 1, 2, 5, 10, 20 ...",
        json_schema_extra={"option": "division"},
    )
    min_weight_kg: int = Field(
        200,
        ge=0,
        description="kg below which the platform counts as empty",
        json_schema_extra={"option": "min-weight"},
    )
    stable_seconds: float = Field(2.0, gt=0, description="window of readings within one division")
    zero_band_kg: int = Field(
        40,
        ge=0,
        description="kg that still count as back to zero",
        json_schema_extra={"option": "zero-band"},
    )
    no_data_seconds: float = Field(3.0, gt=0, description="silence before a no_data event")
    scale_resume_minutes: float = Field(
        30.0,
        ge=0,
        description="after a restart, a load captured this recently is not captured again while "
        "its weight stays on the platform",
    )
    scale_receipt_seconds: float = Field(
        60.0,
        gt=0,
        description="send a capture again when ingest has not confirmed it stored after this "
        "long (doubling, up to an hour)",
    )
    outbox_path: Path = Field(
        STATE_DIR / "edge-scale-outbox.sqlite",
        description="durable outbox (SQLite)",
        json_schema_extra={"option": "outbox"},
    )

    @field_validator("scale")
    @classmethod
    def _scale(cls, value: str) -> str:
        return check_name(value)

    @field_validator("scale_bytesize", "scale_stopbits", mode="before")
    @classmethod
    def _whole_number(cls, value: object) -> object:
        # the environment gives text, and Literal[7, 8] takes no "7"
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value

    @field_validator("division_kg")
    @classmethod
    def _division(cls, value: int) -> int:
        if value not in DIVISIONS_KG:
            raise ValueError(f"must be one of {sorted(DIVISIONS_KG)} (the contract refuses others)")
        return value

    @model_validator(mode="after")
    def _protocol_exists(self) -> EdgeScaleSettings:
        make_protocol(self.scale_protocol, self.scale_options)
        return self


class IngestSettings(CommonSettings):
    """`landfill ingest`: broker to InfluxDB."""

    ingest_client_id: str = Field(
        "landfill-ingest",
        description="MQTT client id of the persistent session; unique per worker",
        json_schema_extra={"option": "client-id"},
    )
    ingest_shared_group: str = Field(
        "",
        description="join $share/<group>/... to split the work with other workers",
        json_schema_extra={"option": "shared-group"},
    )
    ingest_batch_size: int = Field(
        5000,
        gt=0,
        le=50_000,
        description="points per write",
        json_schema_extra={"option": "batch-size"},
    )
    ingest_flush_seconds: float = Field(
        0.5,
        gt=0,
        le=60,
        description="longest wait for a batch to fill before writing it",
        json_schema_extra={"option": "flush-seconds"},
    )
    ingest_max_pending: int = Field(
        20_000,
        gt=0,
        description="messages held in memory before the broker is made to wait",
        json_schema_extra={"option": "max-pending"},
    )
    ingest_max_pending_bytes: int = Field(
        64 * 1024 * 1024,
        gt=0,
        description="payload bytes held in memory before the broker is made to wait",
    )
    ingest_retry_max_seconds: float = Field(
        5.0, gt=0, le=300, description="cap of the jittered backoff while InfluxDB is down"
    )
    ingest_stats_seconds: float = Field(
        10.0, gt=0, le=3600, description="how often ingest_stats is written"
    )
    ingest_tick_seconds: float = Field(
        1.0, gt=0, le=3600, description="how often processors see the time (offline checks)"
    )
    ingest_dead_letters_per_minute: int = Field(
        5,
        ge=1,
        le=1000,
        description="dead letters kept per source and reason a minute; the rest only counted",
    )

    @field_validator("ingest_client_id", "ingest_shared_group")
    @classmethod
    def _mqtt_name(cls, value: str) -> str:
        if any(c in value for c in "/+#$") or len(value) > 64:
            raise ValueError("at most 64 characters, none of / + # $")
        return value

    # container fill levels and alerts (ingest.fill.processor)
    fill_state_path: Path = Field(
        STATE_DIR / "ingest-fill-state.sqlite",
        description="tracker state: restarts re-raise nothing",
    )
    fill_registry_wait_seconds: float = Field(
        5.0, ge=0, description="at start, wait this long for the retained container registry"
    )
    fill_data_clock: bool = Field(
        False, description="timers run at the newest reading's time when it is ahead (simulator)"
    )
    fill_registry_grace_seconds: float = Field(
        3600.0,
        ge=0,
        description="a container gone from the registry keeps its open alerts this long",
    )
    # alert notifications (ingest.notify)
    notify_webhook_url: str = Field("", description="POST alert transitions as JSON here")
    notify_telegram_token: str = Field(
        "",
        description="Telegram bot token; empty: no Telegram",
        json_schema_extra={"env_only": True},
    )
    notify_telegram_chat_id: str = ""
    notify_telegram_api: str = "https://api.telegram.org"
    notify_language: Language = "ru"
    notify_retries: int = Field(3, ge=0, le=10)
    notify_retry_seconds: float = Field(2.0, ge=0)
    notify_timeout_seconds: float = Field(5.0, gt=0)

    @property
    def registry_url(self) -> str:
        """The broker URL of the registry watcher, a second connection (companion user)."""
        return companion_url(self.mqtt_url, "registry")

    @model_validator(mode="after")
    def _telegram_pair(self) -> IngestSettings:
        if bool(self.notify_telegram_token) != bool(self.notify_telegram_chat_id):
            raise ValueError("set both LANDFILL_NOTIFY_TELEGRAM_TOKEN and ..._CHAT_ID, or neither")
        return self


class ApiSettings(CommonSettings):
    """`landfill api`: registry, ledger, queries and pages."""

    database_url: str = Field(
        f"sqlite:///{STATE_DIR}/landfill.sqlite", description="SQLAlchemy URL"
    )
    api_host: str = Field(
        "127.0.0.1", description="bind address", json_schema_extra={"option": "host"}
    )
    api_port: int = Field(
        8000, gt=0, lt=65536, description="port", json_schema_extra={"option": "port"}
    )
    seed_demo: bool = Field(False, description="load the 33 demo containers at start-up")
    # the landfill in the Dostuk area, where collection rounds start and end (approximate)
    depot_lat: float = Field(41.112, ge=-90, le=90, description="route start, degrees north")
    depot_lon: float = Field(72.651, ge=-180, le=180, description="route start, degrees east")
    default_language: Language = "ky"
    route_min_fill_pct: float = Field(
        50.0, ge=0, le=100, description="collect a scheduled container from this fill"
    )
    dispatch_history_days: int = Field(
        14,
        gt=0,
        le=90,
        description="kept states older than this, and the history of containers without one",
    )
    route_budget_seconds: float = Field(
        1.0, gt=0, le=60, description="time the route's order may take to improve"
    )
    # road distance is unknown: the route sheet shows straight-line km times this factor
    route_road_factor: float = Field(
        1.3, ge=1.0, le=3.0, description="road km = straight-line km x this, on the route sheet"
    )
    # the planned Howo compactor's 10 m3 body (domain notes), loose waste as containers hold it
    truck_capacity_m3: float = Field(
        10.0, gt=0, le=100, description="forecast m3 one trip takes; more: back to unload"
    )
    # access control (api/auth): sessions, cookies, login rate limits
    session_idle_minutes: int = Field(
        30, gt=0, le=24 * 60, description="a session unused this long ends"
    )
    session_max_hours: int = Field(12, gt=0, le=24 * 30, description="a session's longest life")
    cookie_secure: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Secure cookies: auto = when the request came over https or in production",
    )
    login_max_failures_per_user: int = Field(
        5, gt=0, description="failed logins of one username within the window before refusing"
    )
    login_max_failures_per_address: int = Field(
        20, gt=0, description="failed logins from one address within the window before refusing"
    )
    login_window_seconds: int = Field(900, gt=0, description="window of the login rate limits")
    ticket_capture_max_age_minutes: float = Field(
        30.0, gt=0, le=1440, description="a capture older than this cannot weigh a ticket"
    )
    ticket_unticketed_minutes: float = Field(
        15.0, gt=0, le=1440, description="a capture with no ticket after this is listed"
    )
    ticket_tare_valid_days: int = Field(
        180, gt=0, le=3650, description="a stored tare set without an expiry is valid this long"
    )
    ticket_event_margin_seconds: float = Field(
        120.0, ge=0, le=3600, description="scale events this long around the weights join a ticket"
    )
    # billing (api/billing): tax rates and the seller named on invoices and the ESF file
    billing_vat_pct: Decimal = Field(
        Decimal("12"), ge=0, le=100, decimal_places=2, description="VAT, % (VAT-payer clients)"
    )
    billing_sales_tax_pct: Decimal = Field(
        Decimal("0"), ge=0, le=100, decimal_places=2, description="sales tax, % on every line"
    )
    billing_seller_inn: str = Field(
        "", pattern=r"^(\d{14})?$", description="the enterprise's INN on invoices and ESF"
    )
    billing_seller_account: str = Field(
        "", max_length=64, description="the enterprise's bank account on invoices and ESF"
    )
    # the landfill's capacity (api/inflow/capacity.py, docs/inflow.md): Dostuk is 4.6 ha
    airspace_m3: float = Field(
        368_000.0,
        gt=0,
        le=1e9,
        description="airspace for waste in m3 (default: 4.6 ha x an assumed 8 m average depth)",
    )
    waste_density_t_m3: float = Field(
        0.8,
        gt=0,
        le=2.0,
        description="density of the compacted waste in t/m3 (bulldozer-compacted: 0.6-1.0)",
    )
    airspace_used_m3: float = Field(
        0.0, ge=0, le=1e9, description="airspace already filled when the weighbridge records began"
    )


class EdgeSensorsSettings(CommonSettings):
    """`landfill edge sensors`: LoRaWAN network-server uplinks to container readings."""

    sensors_source_url: str = Field(
        "",
        description="broker of the network server (ChirpStack/TTS); none: mqtt_url",
        json_schema_extra={"option": "source-url"},
    )
    sensors_source_topics: list[str] = Field(
        default_factory=lambda: [
            "application/+/device/+/event/up",
            "v3/+/devices/+/up",
            "landfill/v1/{site}/sensor/+/up",
        ],
        description="uplink topic filters on the source broker; {site} is replaced",
    )
    sensors_client_id: str = Field("", description="source session id; empty: edge-sensors-SITE")
    sensors_registry_cache: Path = Field(
        STATE_DIR / "edge-sensors-registry.json",
        description="JSON copy of the last registry, for starts without the API",
        json_schema_extra={"option": "registry-cache"},
    )
    sensors_registry_wait_seconds: float = Field(
        10.0, ge=0, description="wait this long for the registry before taking uplinks"
    )
    sensors_dedup_seconds: float = Field(60.0, gt=0, description="repeat window per frame counter")
    outbox_path: Path = Field(
        STATE_DIR / "edge-sensors-outbox.sqlite",
        description="durable outbox (SQLite)",
        json_schema_extra={"option": "outbox"},
    )

    @field_validator("sensors_source_url")
    @classmethod
    def _source_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("mqtt", "mqtts") or not parts.hostname):
            raise ValueError("must be empty or look like mqtt://host:port")
        return value

    @property
    def source_url(self) -> str:
        """The broker uplinks come from (this project's broker: as the companion user)."""
        return self.sensors_source_url or companion_url(self.mqtt_url, "source")

    def source_filters(self) -> list[str]:
        """Uplink topic filters with the site filled in."""
        return [t.replace("{site}", self.site) for t in self.sensors_source_topics]


class GrafanaSettings(CommonSettings):
    """`landfill dashboards push|preview`: the Grafana to push to, and the map's registry."""

    grafana_url: str = Field(
        "http://127.0.0.1:3000", description="Grafana base URL", json_schema_extra={"option": "url"}
    )
    grafana_token: str = Field(
        "",
        description="service account token (role Editor or Admin)",
        json_schema_extra={"env_only": True},
    )
    grafana_language: Language = Field(
        "ru",
        description="language of dashboard and alert texts",
        json_schema_extra={"option": "language"},
    )
    grafana_influx_url: str = Field(
        "", description="InfluxDB URL as Grafana reaches it; none: LANDFILL_INFLUX_URL"
    )
    database_url: str = Field(
        f"sqlite:///{STATE_DIR}/landfill.sqlite",
        description="SQLAlchemy URL of the registry the map's containers come from",
    )

    @field_validator("grafana_url", "grafana_influx_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError("must look like http://host:3000")
        return value.rstrip("/")


class BackupSettings(CommonSettings):
    """`landfill backup` and `landfill restore`: InfluxDB, the SQL store and the edge files."""

    backup_dir: Path = Field(
        STATE_DIR / "backups",
        description="folder that holds one sub-folder per backup",
        json_schema_extra={"option": "dir"},
    )
    backup_keep: int = Field(
        14,
        ge=1,
        description="backups kept; older ones are deleted",
        json_schema_extra={"option": "keep"},
    )
    backup_influx_rpc: str = Field(
        "127.0.0.1:18088",
        description="influxd's RPC address (its bind-address), for influxd backup/restore",
        json_schema_extra={"option": "influx-rpc"},
    )
    backup_files: list[str] = Field(
        default_factory=lambda: [
            str(STATE_DIR / "edge-scale-outbox.sqlite"),
            str(STATE_DIR / "edge-sensors-outbox.sqlite"),
            str(STATE_DIR / "ingest-fill-state.sqlite"),
        ],
        description="edge outboxes and other local files (SQLite is copied online); JSON list",
    )
    backup_at: str = Field(
        "",
        description="HH:MM: stay running and back up every day at this local time; none: once",
        json_schema_extra={"option": "at"},
    )
    database_url: str = Field(
        f"sqlite:///{STATE_DIR}/landfill.sqlite", description="SQLAlchemy URL of the SQL store"
    )

    @field_validator("backup_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if value and not (
            hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60
        ):
            raise ValueError("must be a local time HH:MM such as 02:30")
        return value
