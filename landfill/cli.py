"""The `landfill` command: finds the process a command line names and hands it the rest.

Each command is a ``module:function`` string, imported only when that command runs, so the
shared package imports no process and `landfill --help` loads none. Every command module has
``main(argv) -> int`` and ``build_parser()``; its options come from its settings class
(`landfill/options.py`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import cast

from landfill import __version__

COMMANDS: dict[str, str] = {
    "run": "deploy.supervisor:main",
    "stack": "deploy.stack:main",
    "edge scale": "edge.scale.service:main",
    "edge sensors": "edge.sensors.service:main",
    "ingest": "ingest.service:main",
    "api": "api.main:main",
    "simulate scale": "edge.scale.simulator:main",
    "simulate sensors": "edge.sensors.simulator:main",
    "users": "api.users_cli:main",
    "tokens": "api.tokens_cli:main",
    "mqtt-acl": "deploy.mqtt_acl:main",
    "dashboards render": "dashboards.render:main",
    "dashboards push": "dashboards.push:main",
    "dashboards preview": "dashboards.preview:main",
    "backup": "deploy.backup:main",
    "restore": "deploy.restore:main",
    "bundle": "deploy.bundle:main",
}

# what `landfill --help` says of each command and group, in this order
SUMMARIES: dict[str, str] = {
    "run": "everything at once with the simulated scale and sensors",
    "stack": "start/stop the local mosquitto and InfluxDB",
    "edge": "device-facing processes: the truck scale and the container fill sensors",
    "edge scale": "read a scale indicator and publish captures",
    "edge sensors": "LoRaWAN fill-sensor uplinks to container readings",
    "ingest": "broker to InfluxDB, ack after write",
    "api": "serve the HTTP API and the dispatcher page",
    "simulate": "simulated devices for demos and tests: an indicator and the 33 containers",
    "simulate scale": "a scale indicator on a pty or TCP port, any protocol",
    "simulate sensors": "the 33 containers as ChirpStack and TTS uplinks",
    "users": "accounts of people: add, passwd, disable, enable, list",
    "tokens": "API tokens for machines: create, list, revoke",
    "mqtt-acl": "mosquitto password file and ACL: one login per process and device",
    "dashboards": "Grafana dashboards and alert rules as code: render, push, preview",
    "dashboards render": "write the dashboards, alert rules and provisioning files from code",
    "dashboards push": "create or update them in a Grafana over its HTTP API (--dry-run)",
    "dashboards preview": "static HTML with SVG charts from the same queries (no Grafana needed)",
    "backup": "back up InfluxDB, the SQL store and the edge outboxes (nightly with --at)",
    "restore": "restore a backup folder into fresh servers",
    "bundle": "wheels and .debs in one folder, to install with no internet",
}

DESCRIPTION = """\
Landfill telemetry: truck scale, container fill sensors and billing for a municipal waste
enterprise. Settings come from LANDFILL_* environment variables (see .env.example); a
command's options override them for one run. `landfill COMMAND --help` lists them."""


def resolve(argv: Sequence[str]) -> tuple[str, list[str]] | None:
    """The command a command line names and the arguments left for it; None for no command."""
    for words in (2, 1):
        name = " ".join(argv[:words])
        if len(argv) >= words and name in COMMANDS:
            return name, list(argv[words:])
    return None


def load(name: str, function: str = "main") -> Callable[..., object]:
    """Import a command's module and return its ``main`` (or another function of it)."""
    module_name, _, _ = COMMANDS[name].partition(":")
    return cast(Callable[..., object], getattr(importlib.import_module(module_name), function))


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse a whole command line with its command's own parser (deployment files use this)."""
    found = resolve(argv)
    if found is None:
        menu().parse_args(argv)  # says what is wrong, and exits
        raise SystemExit(2)
    name, rest = found
    parser = cast(argparse.ArgumentParser, load(name, "build_parser")())
    return parser.parse_args(rest)


def menu() -> argparse.ArgumentParser:
    """The parser of the command names alone: `landfill --help`, `landfill edge --help`."""
    top = argparse.ArgumentParser(prog="landfill", description=DESCRIPTION)
    top.add_argument("--version", action="version", version=f"landfill {__version__}")
    groups = {"": top.add_subparsers(dest="command", required=True, metavar="COMMAND")}
    for name, summary in SUMMARIES.items():
        parent, _, word = name.rpartition(" ")
        sub = groups[parent].add_parser(word, help=summary, description=summary)
        if name not in COMMANDS:
            groups[name] = sub.add_subparsers(dest=word, required=True, metavar="DEVICE")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `landfill` command."""
    args = sys.argv[1:] if argv is None else list(argv)
    found = resolve(args)
    if found is None:
        menu().parse_args(args)  # prints help or says what is missing, and exits
        return 2
    name, rest = found
    try:
        return cast(int, load(name)(rest))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
