"""Options built from settings classes: names, defaults, precedence over the environment."""

from __future__ import annotations

import argparse
import os

import pytest

from landfill.options import add_options, build
from landfill.settings import ApiSettings, EdgeScaleSettings, EdgeSensorsSettings, IngestSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No LANDFILL_* variable and no .env file but the ones a test sets."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("LANDFILL_")]:
        monkeypatch.delenv(name)


def parser_for(model) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="test")
    add_options(parser, model)
    return parser


def settings(model, argv):
    return build(model, parser_for(model).parse_args(argv))


def test_an_option_overrides_its_variable_and_the_rest_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("LANDFILL_DIVISION_KG", "10")
    monkeypatch.setenv("LANDFILL_SCALE", "gate")
    got = settings(EdgeScaleSettings, ["--division", "50", "--port", "loop://"])
    assert (got.division_kg, got.scale, got.scale_port) == (50, "gate", "loop://")
    assert settings(EdgeScaleSettings, []).division_kg == 10
    # the field's own name works as well as its short alias
    assert settings(EdgeScaleSettings, ["--division-kg", "5"]).division_kg == 5


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["--bytesize", "7", "--parity", "E", "--stopbits", "2"], {}, (7, "E", 2)),
        # the environment gives text: "7" must become 7 for Literal[7, 8] (it was refused)
        ([], {"LANDFILL_SCALE_BYTESIZE": "7", "LANDFILL_SCALE_STOPBITS": "2"}, (7, None, 2)),
        ([], {}, (None, None, None)),
    ],
)
def test_line_settings_from_options_and_environment(monkeypatch, argv, env, expected):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    got = settings(EdgeScaleSettings, argv)
    assert (got.scale_bytesize, got.scale_parity, got.scale_stopbits) == expected


def test_invalid_settings_name_the_option_and_the_variable():
    with pytest.raises(SystemExit) as done:
        settings(EdgeScaleSettings, ["--division", "0"])
    message = str(done.value.code)
    assert message.startswith("invalid settings:")
    assert "--division / LANDFILL_DIVISION_KG: Input should be greater than 0" in message
    with pytest.raises(SystemExit, match="unknown scale protocol 'nope'; known: .*yaohua-a9"):
        settings(EdgeScaleSettings, ["--protocol", "nope"])


def test_choices_are_checked_by_the_parser(capsys):
    with pytest.raises(SystemExit) as done:
        parser_for(EdgeScaleSettings).parse_args(["--parity", "X"])
    assert done.value.code == 2
    assert "invalid choice: 'X'" in capsys.readouterr().err


def test_flags_json_lists_and_secrets():
    assert settings(ApiSettings, ["--seed-demo"]).seed_demo is True
    assert settings(ApiSettings, []).seed_demo is False
    assert settings(IngestSettings, ["--fill-data-clock"]).fill_data_clock is True
    topics = settings(EdgeSensorsSettings, ["--sensors-source-topics", '["a/+/up"]'])
    assert topics.sensors_source_topics == ["a/+/up"]
    # secrets come only from the environment: every user sees a command line in `ps`
    text = parser_for(IngestSettings).format_help()
    assert "--influx-password" not in text
    assert "--notify-telegram-token" not in text
    assert all(o in text for o in ("--influx-username", "--notify-telegram-chat-id"))


def test_help_shows_each_description_with_the_fields_default():
    text = " ".join(parser_for(IngestSettings).format_help().split())
    assert "--batch-size INT, --ingest-batch-size INT points per write (default 5000)" in text
    assert "--notify-language {ky,ru,en}" in text
    text = " ".join(parser_for(EdgeSensorsSettings).format_help().split())
    assert '"application/+/device/+/event/up"' in text  # a default_factory, shown as JSON
    assert "(--sensors-source-url: LANDFILL_SENSORS_SOURCE_URL)" in text
