"""Backups: `landfill backup` copies InfluxDB, the SQL store and the edge files into one folder.

    BACKUP_DIR/landfill-20250301T203000Z/
        manifest.json     what is inside, from which database and files, and when
        influxdb/         `influxd backup -portable` of LANDFILL_INFLUX_DB (over influxd's RPC)
        sql/              landfill.sqlite (SQLite online backup API) or landfill.pgdump
        files/            each of LANDFILL_BACKUP_FILES: SQLite copied online, others as is

A backup is written under `<name>.partial` and renamed when complete, so a crash never leaves
a half backup that looks whole, and only complete backups count towards LANDFILL_BACKUP_KEEP.
Every copy is taken while the processes run: influxd's portable backup, SQLite's backup API
and pg_dump each take a consistent snapshot. `landfill restore` (deploy/restore.py) puts a
backup back into fresh servers. With `--at HH:MM` the command stays running and backs up
every day at that local time (the compose service); systemd uses a timer instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from deploy.stack import find_binary, port_open
from landfill import __version__
from landfill.lifecycle import setup_logging, wait_for_signal
from landfill.options import add_options, build, command_parser
from landfill.settings import BackupSettings

log = logging.getLogger("landfill.backup")

__all__ = [
    "BackupError",
    "Manifest",
    "backup_files",
    "backup_sql",
    "backups",
    "copy_sqlite",
    "main",
    "next_run",
    "prune",
    "sql_kind",
    "take",
]

NAME = re.compile(r"^landfill-\d{8}T\d{6}Z$")
MANIFEST = "manifest.json"
SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(RuntimeError):
    """A backup or restore step failed; the message names the step and what to check."""


@dataclass
class Manifest:
    """What a backup holds."""

    created: str
    version: str
    influx_db: str
    sql: str  # "sqlite", "postgresql" or "" (none)
    files: dict[str, str] = field(default_factory=dict)  # name in files/ -> original path

    def write(self, folder: Path) -> None:
        """Write manifest.json into ``folder``."""
        (folder / MANIFEST).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """Read a backup's manifest; BackupError when it is not a backup."""
        try:
            return cls(**json.loads((folder / MANIFEST).read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise BackupError(f"{folder} is not a landfill backup ({exc})") from None


def run(argv: Sequence[str], what: str) -> None:
    """Run a tool; BackupError with its own words when it fails."""
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BackupError(f"{what} failed ({done.returncode}): {' / '.join(said)}")


def influxd(rpc: str) -> str:
    """The influxd binary (its backup and restore subcommands), once ``rpc`` answers.

    influxd retries a closed RPC address for minutes; a refused port is said at once.
    """
    binary = find_binary("influxd")
    if binary is None:
        raise BackupError("influxd is not installed (Debian package 'influxdb')")
    host, _, port = rpc.rpartition(":")
    if not port.isdigit() or not port_open(host or "127.0.0.1", int(port), timeout=3):
        raise BackupError(
            f"influxd's RPC address {rpc} does not answer: check LANDFILL_BACKUP_INFLUX_RPC "
            "(bind-address in influxdb.conf; in compose INFLUXDB_BIND_ADDRESS)"
        )
    return binary


def sql_kind(database_url: str) -> str:
    """``sqlite`` or ``postgresql`` from a SQLAlchemy URL."""
    scheme = urlsplit(database_url).scheme.split("+")[0]
    if scheme in ("sqlite", "postgresql", "postgres"):
        return "postgresql" if scheme.startswith("postgres") else "sqlite"
    raise BackupError(f"cannot back up a {scheme} database; SQLite and PostgreSQL are supported")


def sqlite_path(database_url: str) -> Path:
    """The file of a ``sqlite:///path`` URL."""
    path = database_url.split(":///", 1)[1] if ":///" in database_url else ""
    if not path or path == ":memory:":
        raise BackupError(f"{database_url} names no SQLite file")
    return Path(path)


def libpq_url(database_url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as pg_dump takes it (no ``+driver``)."""
    parts = urlsplit(database_url)
    return parts._replace(scheme="postgresql").geturl()


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a live SQLite database with SQLite's online backup API (consistent, WAL included)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def is_sqlite(path: Path) -> bool:
    """Whether ``path`` is a SQLite database file."""
    with path.open("rb") as f:
        return f.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def backup_sql(settings: BackupSettings, folder: Path) -> str:
    """Copy the SQL store into ``folder/sql``; return its kind ("" when there is none yet)."""
    kind = sql_kind(settings.database_url)
    (folder / "sql").mkdir(parents=True)
    if kind == "sqlite":
        source = sqlite_path(settings.database_url)
        if not source.exists():
            log.warning("no SQL store at %s; backing up without it", source)
            return ""
        copy_sqlite(source, folder / "sql" / "landfill.sqlite")
    else:
        dump = folder / "sql" / "landfill.pgdump"
        url = libpq_url(settings.database_url)
        run(["pg_dump", "--format=custom", f"--file={dump}", f"--dbname={url}"], "pg_dump")
    return kind


def backup_files(paths: Sequence[Path], folder: Path) -> dict[str, str]:
    """Copy the files that exist into ``folder/files``; return name in backup -> original path."""
    saved = {}
    for number, path in enumerate(paths):
        if not path.exists():
            log.info("no %s; nothing to back up there", path)
            continue
        name = f"{number:02d}-{path.name}"
        target = folder / "files" / name
        if is_sqlite(path):
            copy_sqlite(path, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        saved[name] = str(path)
    return saved


def take(settings: BackupSettings, now: datetime | None = None) -> Path:
    """Take one backup into ``settings.backup_dir``, prune old ones, return the new folder."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    final = settings.backup_dir / f"landfill-{when:%Y%m%dT%H%M%SZ}"
    partial = final.with_name(final.name + ".partial")
    settings.backup_dir.mkdir(parents=True, exist_ok=True)
    for stale in settings.backup_dir.glob("landfill-*.partial"):  # a run that was stopped
        shutil.rmtree(stale, ignore_errors=True)
    partial.mkdir()
    try:
        rpc = settings.backup_influx_rpc
        argv = ["backup", "-portable", "-db", settings.influx_db, "-host", rpc]
        run([influxd(rpc), *argv, str(partial / "influxdb")], "influxd backup")
        sql = backup_sql(settings, partial)
        files = backup_files([Path(p) for p in settings.backup_files], partial)
        Manifest(when.isoformat(), __version__, settings.influx_db, sql, files).write(partial)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    prune(settings.backup_dir, settings.backup_keep)
    return final


def backups(folder: Path) -> list[Path]:
    """The complete backups in ``folder``, oldest first."""
    if not folder.exists():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and NAME.match(p.name))


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` complete backups; return what was deleted."""
    old = backups(folder)[:-keep] if keep > 0 else backups(folder)
    for path in old:
        shutil.rmtree(path)
    return old


def next_run(at: str, now: datetime, tz: str) -> datetime:
    """The next local ``HH:MM`` after ``now``, in UTC."""
    hour, minute = (int(x) for x in at.split(":"))
    local = now.astimezone(ZoneInfo(tz))
    due = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if due <= local:
        due = (due + timedelta(days=1)).replace(hour=hour, minute=minute)
    return due.astimezone(UTC)


def nightly(settings: BackupSettings) -> int:
    """Back up every day at ``settings.backup_at`` until SIGTERM or SIGINT."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            due = next_run(settings.backup_at, datetime.now(UTC), settings.timezone)
            log.info("next backup at %s", due.astimezone(ZoneInfo(settings.timezone)))
            if stop.wait(max(0.0, (due - datetime.now(UTC)).total_seconds())):
                return
            try:
                log.info("backup written to %s", take(settings))
            except BackupError as exc:
                log.error("backup failed: %s", exc)  # tried again the next night

    worker = threading.Thread(target=loop, name="backup", daemon=True)
    worker.start()
    wait_for_signal(lambda: not worker.is_alive())
    stop.set()
    worker.join(timeout=5)
    return 0


DESCRIPTION = """\
Back up InfluxDB (influxd backup -portable over its RPC address), the SQL store (SQLite
online backup, or pg_dump for PostgreSQL) and the edge outboxes into one folder under
LANDFILL_BACKUP_DIR, keeping the newest LANDFILL_BACKUP_KEEP. --at HH:MM stays running and
backs up every day at that local time. Restore with `landfill restore FOLDER`."""


def build_parser() -> argparse.ArgumentParser:
    """The arguments of `landfill backup`."""
    parser = command_parser("backup", DESCRIPTION)
    add_options(parser, BackupSettings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`landfill backup`."""
    settings = build(BackupSettings, build_parser().parse_args(argv))
    setup_logging(settings.log_level)
    if settings.backup_at:
        return nightly(settings)
    started = time.monotonic()
    try:
        folder = take(settings)
    except BackupError as exc:
        raise SystemExit(f"backup: {exc}") from None
    print(f"backup written to {folder} in {time.monotonic() - started:.1f} s")  # noqa: T201
    return 0
