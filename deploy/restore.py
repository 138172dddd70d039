"""`landfill restore FOLDER`: put a backup of `landfill backup` back into fresh servers.

Stop ingest, the API and the edges first; InfluxDB must run (the restore goes through its RPC
address, LANDFILL_BACKUP_INFLUX_RPC). Into fresh servers nothing is overwritten: a database,
SQL store or edge file that already holds data stops the restore with a message, unless
`--replace` is given, which drops or overwrites it. An InfluxDB database that exists but is
empty (ingest creates it at start) is dropped and restored.

| part | restored with |
|---|---|
| InfluxDB | `influxd restore -portable -db NAME [-newdb LANDFILL_INFLUX_DB]` |
| SQLite | SQLite's backup API, from the copy into LANDFILL_DATABASE_URL's file |
| PostgreSQL | `pg_restore [--clean --if-exists] --no-owner` into LANDFILL_DATABASE_URL |
| edge files | the same online copy, back to the configured path of the same file name |
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from deploy.backup import (
    BackupError,
    Manifest,
    copy_sqlite,
    influxd,
    is_sqlite,
    libpq_url,
    run,
    sql_kind,
    sqlite_path,
)
from landfill.influx import InfluxStore, QueryError
from landfill.lifecycle import setup_logging
from landfill.options import add_options, build, command_parser
from landfill.settings import BackupSettings

__all__ = ["build_parser", "main", "restore", "restore_files", "restore_influx", "restore_sql"]


def restore_influx(
    settings: BackupSettings, folder: Path, manifest: Manifest, replace: bool
) -> str:
    """Restore the InfluxDB database; refuse one that holds data unless ``replace``."""
    with InfluxStore(
        settings.influx_url, settings.influx_db, settings.influx_username, settings.influx_password
    ) as store:
        try:
            names = {row[0] for s in store.query("SHOW DATABASES") for row in s.values}
            held = settings.influx_db in names and bool(store.query("SHOW MEASUREMENTS"))
        except QueryError as exc:
            raise BackupError(f"InfluxDB at {settings.influx_url}: {exc}") from None
        if held and not replace:
            raise BackupError(
                f"InfluxDB database {settings.influx_db} already holds data: restore into a "
                "fresh InfluxDB, or give --replace to drop it first"
            )
        if settings.influx_db in names:
            store.query(f'DROP DATABASE "{settings.influx_db}"')
    argv = [influxd(settings.backup_influx_rpc), "restore", "-portable", "-db", manifest.influx_db]
    if settings.influx_db != manifest.influx_db:
        argv += ["-newdb", settings.influx_db]
    run([*argv, "-host", settings.backup_influx_rpc, str(folder / "influxdb")], "influxd restore")
    return f"InfluxDB database {settings.influx_db}"


def _holds_tables(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return bool(db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])


def restore_sql(settings: BackupSettings, folder: Path, manifest: Manifest, replace: bool) -> str:
    """Restore the SQL store (SQLite file or PostgreSQL database)."""
    if not manifest.sql:
        return ""
    if sql_kind(settings.database_url) != manifest.sql:
        raise BackupError(f"the backup holds {manifest.sql}; LANDFILL_DATABASE_URL is not that")
    if manifest.sql == "sqlite":
        target = sqlite_path(settings.database_url)
        if _holds_tables(target) and not replace:
            raise BackupError(f"{target} already holds tables: give --replace to overwrite it")
        copy_sqlite(folder / "sql" / "landfill.sqlite", target)
        return f"SQLite {target}"
    clean = ["--clean", "--if-exists"] if replace else []
    run(["pg_restore", *clean, "--no-owner", f"--dbname={libpq_url(settings.database_url)}",
         str(folder / "sql" / "landfill.pgdump")], "pg_restore")  # fmt: skip
    return "PostgreSQL database"


def restore_files(
    settings: BackupSettings, folder: Path, manifest: Manifest, replace: bool
) -> list[str]:
    """Put the edge files back where the configuration (or the backup) says they live."""
    configured = {Path(p).name: Path(p) for p in settings.backup_files}
    done = []
    for name, original in manifest.files.items():
        target = configured.get(Path(original).name, Path(original))
        if target.exists() and not replace:
            raise BackupError(f"{target} exists: stop its process, or give --replace")
        source = folder / "files" / name
        if is_sqlite(source):
            copy_sqlite(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        done.append(str(target))
    return done


def restore(settings: BackupSettings, folder: Path, replace: bool = False) -> list[str]:
    """Restore the backup in ``folder``; return what was restored, one line each."""
    manifest = Manifest.read(folder)
    done = [restore_influx(settings, folder, manifest, replace)]
    done += [x for x in [restore_sql(settings, folder, manifest, replace)] if x]
    return done + restore_files(settings, folder, manifest, replace)


DESCRIPTION = """\
Restore a backup folder written by `landfill backup` into InfluxDB (over influxd's RPC
address), the SQL store and the edge files. Stop ingest, the API and the edges first.
Existing data is never overwritten unless --replace is given."""


def build_parser() -> argparse.ArgumentParser:
    """The arguments of `landfill restore`."""
    parser = command_parser("restore", DESCRIPTION)
    parser.add_argument("folder", type=Path, help="a backup folder, landfill-YYYYMMDDTHHMMSSZ")
    parser.add_argument("--replace", action="store_true", help="drop or overwrite existing data")
    add_options(parser, BackupSettings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`landfill restore`."""
    args = build_parser().parse_args(argv)
    settings = build(BackupSettings, args)
    setup_logging(settings.log_level)
    try:
        done = restore(settings, args.folder, args.replace)
    except BackupError as exc:
        raise SystemExit(f"restore: {exc}") from None
    for line in done:
        print(f"restored {line}")  # noqa: T201 - the command's report
    return 0
