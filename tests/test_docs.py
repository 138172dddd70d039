"""Docs stay true: every setting is in the README's table and in .env.example; commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edge.sensors.models import MODELS
from edge.sensors.simulator import SETTLEMENTS, fleet
from landfill import cli, settings
from landfill.scale.protocols import PROTOCOLS

ROOT = Path(__file__).resolve().parents[1]


def all_settings() -> list[str]:
    names = set()
    for obj in vars(settings).values():
        if isinstance(obj, type) and issubclass(obj, settings.CommonSettings):
            names |= {f"LANDFILL_{n.upper()}" for n in obj.model_fields}
    return sorted(names)


@pytest.mark.parametrize("doc", ["README.md", ".env.example"])
def test_every_setting_is_documented(doc):
    text = (ROOT / doc).read_text()
    missing = [n for n in all_settings() if n not in text]
    assert not missing, f"{doc} does not mention {missing}"


def test_documented_settings_exist():
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*(LANDFILL_[A-Z0-9_]+)=", text, re.M))
    assert listed <= set(all_settings()), listed - set(all_settings())


def test_readme_commands_are_the_scripts_ci_runs():
    readme = (ROOT / "README.md").read_text()
    assert "./scripts/run" in readme
    assert "./scripts/test" in readme
    assert "./scripts/test" in (ROOT / ".ci/run").read_text()


def test_every_subcommand_has_help(capsys):
    commands = [
        ["stack"],
        ["edge", "scale"],
        ["edge", "sensors"],
        ["ingest"],
        ["api"],
        ["simulate", "scale"],
        ["simulate", "sensors"],
        ["run"],
    ]
    for argv in commands:
        with pytest.raises(SystemExit) as done:
            cli.main([*argv, "--help"])
        assert done.value.code == 0
        assert "usage: landfill" in capsys.readouterr().out


def _help(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as done:
        cli.main([*argv, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def test_help_lists_protocols_and_sensor_models_and_describes_every_group(capsys):
    for argv in (["edge", "scale"], ["simulate", "scale"]):
        text = _help(capsys, argv)
        assert all(f"  {name} " in text for name in PROTOCOLS), argv
    text = _help(capsys, ["edge", "sensors"])
    assert all(model.name in text for model in MODELS)
    text = _help(capsys, ["simulate", "sensors"])
    assert all(c.model in text for c in fleet())
    for group, first_words in [
        (["api"], "Serve the HTTP API"),
        (["edge"], "device-facing processes"),
        (["simulate"], "simulated devices"),
    ]:
        assert first_words in _help(capsys, group), group


def test_settings_give_options_with_their_defaults_and_the_documented_names(capsys):
    text = _help(capsys, ["edge", "scale"])
    # the option names README, docs/scale.md and the deployment files use
    for option in ("--port", "--protocol", "--division", "--outbox", "--options", "--baudrate"):
        assert f"{option} " in text, option
    assert "scale division (e) in kg: 1, 2, 5, 10, 20 ... (default 20)" in " ".join(text.split())
    text = _help(capsys, ["ingest"])
    assert all(o in text for o in ("--status", "--flush-seconds", "--batch-size"))
    assert "--influx-password" not in text  # secrets never on a command line (ps shows them)


def test_every_demo_settlement_is_listed_with_its_sources():
    text = (ROOT / "docs" / "settlements.md").read_text(encoding="utf-8")
    for name, *_ in SETTLEMENTS:
        assert f"| {name} |" in text, name
    assert "unconfirmed" in text.lower()
