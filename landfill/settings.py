"""Settings: one pydantic-settings class per process, environment variables prefixed LANDFILL_.

Every variable is listed with a comment in `.env.example` and in the README's configuration
table. Placeholder secrets are refused outside development.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from landfill.contract import _name

PLACEHOLDERS = frozenset({"", "changeme", "change-me", "secret", "password", "admin"})
STATE_DIR = Path(".state")


class CommonSettings(BaseSettings):
    """Broker, InfluxDB and site settings every process needs."""

    model_config = SettingsConfigDict(
        env_prefix="LANDFILL_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
    )

    env: Literal["development", "production"] = "development"
    site: str = Field("dostuk", description="site name in topics and tags")
    mqtt_url: str = Field(
        "mqtt://127.0.0.1:18830", description="broker, mqtt://user:pass@host:port"
    )
    influx_url: str = Field("http://127.0.0.1:18086", description="InfluxDB v1 HTTP API base URL")
    influx_db: str = "landfill"
    influx_username: str = ""
    influx_password: str = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
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
        return _name(value)

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
    def _no_placeholder_secrets(self) -> CommonSettings:
        if self.env == "production":
            if self.influx_password.lower() in PLACEHOLDERS:
                raise ValueError("set LANDFILL_INFLUX_PASSWORD to a real secret in production")
            password = urlsplit(self.mqtt_url).password or ""
            if password.lower() in PLACEHOLDERS:
                raise ValueError("LANDFILL_MQTT_URL must carry a real password in production")
        return self


class EdgeScaleSettings(CommonSettings):
    """`landfill edge scale`: one scale indicator on a serial port."""

    scale: str = "scale1"
    scale_port: str = Field("", description="pyserial URL: /dev/ttyUSB0, loop://, socket://h:p")
    scale_protocol: str = "yaohua-a9"
    scale_options: str = Field(
        "", description="protocol options, key=value,...: address=B, reverse=true, checksum=true"
    )
    scale_baudrate: int | None = Field(None, gt=0, description="override the protocol's baud")
    scale_bytesize: Literal[7, 8] | None = None
    scale_parity: Literal["N", "E", "O"] | None = None
    scale_stopbits: Literal[1, 2] | None = None
    scale_poll_seconds: float = Field(0.1, gt=0, le=10, description="poll period (polled)")
    scale_live_seconds: float = Field(0.25, ge=0, le=10, description="min gap of live weights")
    scale_bad_frames_seconds: float = Field(
        60.0, gt=0, description="period of the bad_frames event (sent only when counts grew)"
    )
    scale_max_gap_seconds: float = Field(
        1.5, gt=0, description="a gap between readings this long restarts the stable window"
    )
    division_kg: int = Field(20, gt=0, description="scale division (e) in kg")
    min_weight_kg: int = Field(200, ge=0, description="below this the platform counts as empty")
    stable_seconds: float = Field(2.0, gt=0, description="window of readings within one division")
    zero_band_kg: int = Field(40, ge=0, description="weight that still counts as back to zero")
    no_data_seconds: float = Field(3.0, gt=0, description="silence before a no_data event")
    outbox_path: Path = STATE_DIR / "edge-scale-outbox.sqlite"

    @field_validator("scale")
    @classmethod
    def _scale(cls, value: str) -> str:
        return _name(value)

    @model_validator(mode="after")
    def _protocol_exists(self) -> EdgeScaleSettings:
        # imported here: settings must not pull the edge into every process at import time
        from edge.scale.protocols import make_protocol

        make_protocol(self.scale_protocol, self.scale_options)
        return self


class IngestSettings(CommonSettings):
    """`landfill ingest`: broker to InfluxDB."""

    ingest_client_id: str = Field(
        "landfill-ingest", description="MQTT client id of the persistent session; unique per worker"
    )
    ingest_shared_group: str = Field("", description="join $share/<group>/... when set")
    ingest_batch_size: int = Field(5000, gt=0, le=50_000, description="points per write")
    ingest_flush_seconds: float = Field(
        0.5, gt=0, le=60, description="longest wait for a batch to fill before writing it"
    )
    ingest_max_pending: int = Field(
        20_000, gt=0, description="messages held in memory before the broker is made to wait"
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
    notify_telegram_token: str = Field("", description="Telegram bot token; empty: no Telegram")
    notify_telegram_chat_id: str = ""
    notify_telegram_api: str = "https://api.telegram.org"
    notify_language: Literal["ky", "ru", "en"] = "ru"
    notify_retries: int = Field(3, ge=0, le=10)
    notify_retry_seconds: float = Field(2.0, ge=0)
    notify_timeout_seconds: float = Field(5.0, gt=0)

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
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, gt=0, lt=65536)
    timezone: str = "Asia/Bishkek"
    seed_demo: bool = Field(False, description="load the 33 demo containers at start-up")
    # the landfill in the Dostuk area, where collection rounds start and end (approximate)
    depot_lat: float = Field(41.112, ge=-90, le=90, description="route start, degrees north")
    depot_lon: float = Field(72.651, ge=-180, le=180, description="route start, degrees east")
    default_language: Literal["ky", "ru", "en"] = "ky"
    route_min_fill_pct: float = Field(
        50.0, ge=0, le=100, description="collect a scheduled container from this fill"
    )
    dispatch_history_days: int = Field(
        14, gt=0, le=90, description="fill history the forecast looks at"
    )


class EdgeSensorsSettings(CommonSettings):
    """`landfill edge sensors`: LoRaWAN network-server uplinks to container readings."""

    sensors_source_url: str = Field(
        "", description="broker of the network server (ChirpStack/TTS); empty: mqtt_url"
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
    sensors_registry_cache: Path = STATE_DIR / "edge-sensors-registry.json"
    sensors_registry_wait_seconds: float = Field(
        10.0, ge=0, description="wait this long for the registry before taking uplinks"
    )
    sensors_dedup_seconds: float = Field(60.0, gt=0, description="repeat window per frame counter")
    outbox_path: Path = STATE_DIR / "edge-sensors-outbox.sqlite"

    @field_validator("sensors_source_url")
    @classmethod
    def _source_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("mqtt", "mqtts") or not parts.hostname):
            raise ValueError("must be empty or look like mqtt://host:port")
        return value

    @property
    def source_url(self) -> str:
        """The broker uplinks come from."""
        return self.sensors_source_url or self.mqtt_url

    def source_filters(self) -> list[str]:
        """Uplink topic filters with the site filled in."""
        return [t.replace("{site}", self.site) for t in self.sensors_source_topics]
