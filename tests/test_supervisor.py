"""`landfill run`'s supervision: which captures it prints, against the real API and InfluxDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from deploy.supervisor import CaptureWatcher
from landfill.settings import ApiSettings
from tests.api.conftest import add_token
from tests.conftest import wait_for

pytestmark = pytest.mark.integration


def capture_line(site: str, capture_id: str, kg: int, at: datetime) -> str:
    ns = int(at.timestamp() * 1000) * 1_000_000 + kg  # as ingest's capture_ns
    return (
        f"scale_capture,scale=scale1,site={site} weight_kg={kg}i,division_kg=20i,"
        f'stable_ms=2000i,id="{capture_id}",protocol="yaohua-a9",stable_source="window",'
        f'raw="" {ns}'
    )


def test_a_second_start_prints_only_captures_that_arrive_after_it(broker, influx, site, tmp_path):
    settings = ApiSettings(
        site=site,
        mqtt_url=broker.url,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=f"sqlite:///{tmp_path}/api.sqlite",
    )
    started = datetime.now(UTC).replace(microsecond=0)
    # the previous run's trucks, still in InfluxDB when `landfill run` starts again
    influx.write_lines(
        [
            capture_line(site, f"old{n}", 14_000 + 20 * n, started - timedelta(minutes=30 - n))
            for n in range(27)
        ]
    )
    app = create_app(settings)
    with TestClient(app) as api:
        wait_for(lambda: api.get("/health").status_code == 200, what="healthy API")
        # `landfill run` reads with the demo login's token (`landfill users demo`)
        watcher = CaptureWatcher(api, started, "Asia/Bishkek", add_token(app, "auditor"))
        assert watcher.new_lines() == []
        influx.write_lines([capture_line(site, "new", 14_560, started + timedelta(seconds=5))])
        at = (started + timedelta(seconds=5)).astimezone(watcher.zone).strftime("%H:%M:%S")
        assert watcher.new_lines() == [f"capture 14,560 kg on scale1 at {at} (Asia/Bishkek)"]
        assert watcher.new_lines() == []  # each capture once
