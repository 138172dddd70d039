"""The `landfill` dispatcher: command names to process mains, loading nothing it does not run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from landfill import cli


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_every_command_has_a_main_a_parser_and_a_summary(name):
    assert callable(cli.load(name))
    assert callable(cli.load(name, "build_parser"))
    assert name in cli.SUMMARIES
    for word in name.split()[:-1]:
        assert word in cli.SUMMARIES  # a group has a description too


def test_a_command_line_is_parsed_by_its_own_command():
    args = cli.parse(["edge", "scale", "--port", "/dev/ttyUSB0", "--division", "10"])
    assert (args.scale_port, args.division_kg) == ("/dev/ttyUSB0", "10")
    assert cli.parse(["ingest", "--status"]).status is True


@pytest.mark.parametrize("argv", [[], ["edge"], ["weigh"], ["simulate", "trucks"]])
def test_no_or_an_unknown_command_is_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(argv)
    assert done.value.code == 2
    assert "usage: landfill" in capsys.readouterr().err


def test_the_command_list_loads_no_process():
    code = (
        "import sys\n"
        "from landfill import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(loaded & {'edge', 'ingest', 'api', 'deploy'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().endswith("[]"), out
