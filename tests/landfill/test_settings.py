"""Settings: production refuses weak secrets, development takes anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from landfill.settings import CommonSettings, entropy_bits

ROOT = Path(__file__).resolve().parents[2]
STRONG = ("9f2c4e1a7b3d5f60", "k3P9-vQ2m-Xr7t", "c0rrect horse battery staple")
WEAK = (
    "",
    "x",
    "123",
    "landfill",
    "changeme",
    "landfill2024!",  # long enough, but the first word a guesser tries here
    "Password-7781",
    "qwertyuiop12",
    "123456789012",
    "aaaaaaaaaaaaaaaa",
    "abcabcabcabcabc",  # 15 characters, 24 bits
)


def production(**values: str) -> CommonSettings:
    """Settings as a production process would read them (no .env file)."""
    defaults = {"influx_password": STRONG[0], "mqtt_url": f"mqtt://landfill:{STRONG[1]}@h:1883"}
    return CommonSettings(_env_file=None, env="production", **(defaults | values))


@pytest.mark.parametrize("secret", STRONG)
def test_production_takes_strong_secrets(secret):
    production(influx_password=secret, mqtt_url=f"mqtt://landfill:{secret}@h:1883")


@pytest.mark.parametrize("secret", WEAK)
def test_production_refuses_weak_influx_password(secret):
    with pytest.raises(ValidationError, match="LANDFILL_INFLUX_PASSWORD is too weak"):
        production(influx_password=secret)


@pytest.mark.parametrize("secret", WEAK)
def test_production_refuses_weak_broker_password(secret):
    url = f"mqtt://landfill:{secret}@h:1883" if secret else "mqtt://h:1883"
    with pytest.raises(ValidationError, match="LANDFILL_MQTT_URL is too weak"):
        production(mqtt_url=url)


def test_development_takes_anything():
    CommonSettings(_env_file=None, influx_password="x", mqtt_url="mqtt://u:1@h:1")


def test_entropy_estimate():
    assert entropy_bits("aaaa") == 0
    assert entropy_bits("abcd") == pytest.approx(8.0)
    assert entropy_bits("abab") == pytest.approx(4.0)


def test_production_process_refuses_a_weak_secret_and_does_not_print_it(tmp_path):
    """`landfill ingest` in production with `123` as the broker password stops at once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANDFILL_")}
    env.update(
        LANDFILL_ENV="production",
        LANDFILL_INFLUX_PASSWORD=STRONG[0],
        LANDFILL_MQTT_URL="mqtt://landfill:Zq7@127.0.0.1:1",
        PYTHONPATH=str(ROOT),
    )
    done = subprocess.run(
        [sys.executable, "-m", "landfill.cli", "ingest"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "LANDFILL_MQTT_URL is too weak" in done.stderr
    assert "Zq7" not in done.stderr + done.stdout
