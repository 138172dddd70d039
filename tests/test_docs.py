"""Docs stay true: every setting is in the README's table and in .env.example; commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from landfill import settings
from landfill.cli import build_parser

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
    parser = build_parser()
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
            parser.parse_args([*argv, "--help"])
        assert done.value.code == 0
        assert "usage: landfill" in capsys.readouterr().out
