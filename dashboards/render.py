"""Dashboards and provisioning files from code: `landfill dashboards render [--check]`.

Writes, for each language (ky, ru, en; the texts are `landfill/i18n/dashboards/`), under
`dashboards/generated/<lang>/`:

    dashboards/<uid>.json                   the five dashboards
    provisioning/dashboards/landfill.yaml   Grafana's dashboard provider (folder in <lang>)
    provisioning/alerting/rules.yaml        alert rules (file provisioning)
    provisioning/alerting/policies.yaml     notification policy and the working-hours mute

and, once, `deploy/grafana/provisioning/datasources/landfill.yaml` (InfluxDB in InfluxQL
mode) and `deploy/grafana/examples/contact-points.yaml`. The files are committed; `--check`
(and a test) fail when they differ from what the code renders.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.models.dashboard import VariableOption, VariableRefresh, VariableSort

from dashboards import provisioning
from dashboards.boards import VARIABLES, BoardSpec, boards
from dashboards.influxql import DATASOURCE, to_json
from dashboards.panels import panel
from dashboards.registry import Place, demo_places, sql_places
from dashboards.texts import GRAFANA_LANGUAGES, description, title
from landfill.language import Language
from landfill.options import command_parser
from landfill.settings import DEFAULT_TIMEZONE

__all__ = ["ROOT", "all_dashboards", "dashboard", "files", "main"]

ROOT = Path(__file__).resolve().parents[1]
GENERATED = Path("dashboards/generated")
TAGS = ["landfill"]


def _variable(name: str, language: Language) -> db.QueryVariable:
    variable = VARIABLES[name]
    return (
        db.QueryVariable(name)
        .label(title(f"var_{name}", language))
        .query(variable.query)
        .datasource(DATASOURCE)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(VariableOption(selected=True, text="All", value="$__all"))
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
    )


def dashboard(
    spec: BoardSpec, language: Language, places: Sequence[Place], tz: str
) -> dict[str, Any]:
    """One dashboard as Grafana's JSON model."""
    board = (
        db.Dashboard(title(spec.key, language))
        .uid(spec.uid)
        .description(description(spec.key, language))
        .tags(TAGS)
        .timezone(tz)
        .time(spec.time_from, "now")
        .refresh("1m")
        .readonly()
    )
    for name in spec.variables:
        board.with_variable(_variable(name, language))
    for number, panel_spec in enumerate(spec.panels, start=1):
        board.with_panel(panel(panel_spec, language, number, places))
    return to_json(board.build())


def all_dashboards(
    language: Language, places: Sequence[Place], tz: str = DEFAULT_TIMEZONE
) -> list[dict[str, Any]]:
    """Every dashboard in ``language``."""
    return [dashboard(spec, language, places, tz) for spec in boards(tz)]


def _yaml(data: object, note: str) -> str:
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    return f"# {note}\n# Written by `landfill dashboards render`; do not edit by hand.\n{body}"


def files(places: Sequence[Place], tz: str = DEFAULT_TIMEZONE) -> dict[Path, str]:
    """Every generated file, by path relative to the repository, and its text."""
    out: dict[Path, str] = {}
    for language in GRAFANA_LANGUAGES:
        folder = GENERATED / language
        for board in all_dashboards(language, places, tz):
            text = json.dumps(board, ensure_ascii=False, indent=2) + "\n"
            out[folder / "dashboards" / f"{board['uid']}.json"] = text
        for path, (data, note) in provisioning.language_files(language).items():
            out[folder / "provisioning" / path] = _yaml(data, note)
    for path, (data, note) in provisioning.files().items():
        out[path] = _yaml(data, note)
    return out


def _differences(root: Path, wanted: dict[Path, str]) -> list[str]:
    problems = []
    for path, text in wanted.items():
        current = (root / path).read_text(encoding="utf-8") if (root / path).exists() else ""
        if current != text:
            diff = difflib.unified_diff(current.splitlines(), text.splitlines(), lineterm="", n=1)
            problems.append(f"{path} differs:\n" + "\n".join(list(diff)[:20]))
    stale = {p.relative_to(root) for p in (root / GENERATED).rglob("*") if p.is_file()}
    problems += [f"{p} is not rendered any more" for p in sorted(stale - set(wanted))]
    return problems


DESCRIPTION = """\
Render the Grafana dashboards, alert rules and provisioning files from the code in
dashboards/ into dashboards/generated/ and deploy/grafana/. --check only compares."""


def build_parser() -> argparse.ArgumentParser:
    """The arguments of `landfill dashboards render`."""
    parser = command_parser("dashboards render", DESCRIPTION)
    parser.add_argument("--check", action="store_true", help="fail when a file differs")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository folder")
    parser.add_argument(
        "--registry-db",
        metavar="URL",
        help="embed the map's containers from this SQL registry (default: the demo registry)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`landfill dashboards render`."""
    args = build_parser().parse_args(argv)
    places = sql_places(args.registry_db) if args.registry_db else demo_places()
    wanted = files(places)
    if args.check:
        problems = _differences(args.root, wanted)
        for problem in problems:
            print(problem, file=sys.stderr)  # noqa: T201 - the command's report
        return 1 if problems else 0
    for path, text in wanted.items():
        (args.root / path).parent.mkdir(parents=True, exist_ok=True)
        (args.root / path).write_text(text, encoding="utf-8")
    print(f"wrote {len(wanted)} files under {args.root}")  # noqa: T201
    return 0
