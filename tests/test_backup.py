"""`landfill backup` and `landfill restore` end to end: a backup taken from a running stack (real
influxd, the API's SQLite registry, an edge outbox with messages waiting) restores into fresh
servers with every point, every registry row and every waiting message; retention keeps the
newest; PostgreSQL goes through pg_dump/pg_restore when the tools are here.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from api.container_registry import seed_demo
from api.db import Site, make_engine, migrate, session_factory
from deploy import backup, restore, stack
from edge.outbox import Outbox
from landfill.influx import InfluxStore
from landfill.measurements import MEASUREMENTS
from landfill.settings import BackupSettings
from tests.dashboards.seed import seed_day

pytestmark = pytest.mark.integration


def influxd_with_rpc(servers, state: Path) -> tuple[stack.Server, int]:
    rpc = stack.free_port()
    server = stack.start_influxd(state, stack.free_port(), rpc_port=rpc)
    servers.started.append(server)
    return server, rpc


def registry(url: str, site: str) -> int:
    engine = make_engine(url)
    migrate(engine)
    with session_factory(engine)() as session:
        row = Site(code=site, name="Dostuk")
        session.add(row)
        session.commit()
        count = seed_demo(session, row)
    engine.dispose()
    return count


def every_point(store: InfluxStore) -> dict[str, list]:
    out = {}
    for m in MEASUREMENTS:
        series = store.query(f'SELECT * FROM "{m.name}"')
        out[m.name] = sorted(json.dumps(v) for s in series for v in s.values)
    return out


def every_row(url: str) -> dict[str, list]:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as db:
        rows = {t: sorted(map(repr, db.execute(meta.tables[t].select()))) for t in meta.tables}
    engine.dispose()
    return rows


def outbox_rows(path: Path) -> list:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT seq, topic, payload, qos, retain FROM outbox").fetchall()


def settings_for(server, rpc, database: str, sql_url: str, files, folder: Path) -> BackupSettings:
    return BackupSettings(
        influx_url=server.url,
        influx_db=database,
        backup_influx_rpc=f"127.0.0.1:{rpc}",
        database_url=sql_url,
        backup_files=[str(f) for f in files],
        backup_dir=folder,
        backup_keep=2,
    )


def test_a_backup_of_a_running_stack_restores_into_fresh_servers(servers, tmp_path, site):
    live, live_rpc = influxd_with_rpc(servers, tmp_path / "influx-live")
    store = InfluxStore(live.url, "landfill")
    store.ensure_database()
    seed_day(store, site)
    sql_url = f"sqlite:///{tmp_path}/live/landfill.sqlite"
    (tmp_path / "live").mkdir()
    assert registry(sql_url, site) == 33
    outbox = Outbox(tmp_path / "live" / "edge-scale-outbox.sqlite")  # open: the edge runs
    for n in range(5):
        outbox.put(f"landfill/v1/{site}/scale/s1/capture", f'{{"n": {n}}}'.encode())
    cache = tmp_path / "live" / "edge-sensors-registry.json"
    cache.write_text('{"containers": []}')
    files = [tmp_path / "live" / "edge-scale-outbox.sqlite", cache, tmp_path / "live" / "none"]
    live_settings = settings_for(live, live_rpc, "landfill", sql_url, files, tmp_path / "backups")

    folder = backup.take(live_settings)
    outbox.close()
    manifest = backup.Manifest.read(folder)
    assert (manifest.sql, len(manifest.files)) == ("sqlite", 2)

    fresh, fresh_rpc = influxd_with_rpc(servers, tmp_path / "influx-fresh")
    new_sql = f"sqlite:///{tmp_path}/new/landfill.sqlite"
    new_files = [tmp_path / "new" / p.name for p in files]
    fresh_settings = settings_for(fresh, fresh_rpc, "landfill", new_sql, new_files, tmp_path / "b")
    done = restore.restore(fresh_settings, folder)
    assert len(done) == 4  # InfluxDB, SQLite, the outbox, the registry cache

    with InfluxStore(fresh.url, "landfill") as restored:
        points = every_point(restored)
        assert points == every_point(store)
        assert all(points[m.name] for m in MEASUREMENTS if m.name != "container_event")
    assert every_row(new_sql) == every_row(sql_url)
    assert len(every_row(new_sql)["container"]) == 33
    assert outbox_rows(new_files[0]) == outbox_rows(files[0])
    assert len(outbox_rows(new_files[0])) == 5
    assert new_files[1].read_text() == cache.read_text()

    with pytest.raises(backup.BackupError, match="already holds data"):
        restore.restore(fresh_settings, folder)
    assert len(restore.restore(fresh_settings, folder, replace=True)) == 4
    store.close()


def test_the_command_line_backs_up_and_keeps_the_newest(servers, tmp_path, capsys):
    live, rpc = influxd_with_rpc(servers, tmp_path / "influx")
    with InfluxStore(live.url, "landfill") as store:
        store.ensure_database()
        store.write_lines(["fill,site=s,container=c fill_pct=5 1700000000000"])
    argv = ["--dir", str(tmp_path / "b"), "--keep", "2", "--influx-rpc", f"127.0.0.1:{rpc}",
            "--influx-url", live.url, "--database-url", f"sqlite:///{tmp_path}/none.sqlite",
            "--backup-files", "[]"]  # fmt: skip
    assert backup.main(argv) == 0
    assert "backup written to" in capsys.readouterr().out
    settings = BackupSettings(backup_dir=tmp_path / "b", backup_keep=2, backup_files=[],
                              backup_influx_rpc=f"127.0.0.1:{rpc}", influx_url=live.url,
                              database_url=f"sqlite:///{tmp_path}/none.sqlite")  # fmt: skip
    later = datetime.now(UTC) + timedelta(days=1)
    newest = [backup.take(settings, later + timedelta(days=n)) for n in range(2)]
    (tmp_path / "b" / "notes").mkdir()  # not a backup: left alone
    assert backup.backups(tmp_path / "b") == newest
    assert (tmp_path / "b" / "notes").exists()


def test_a_failed_backup_leaves_no_backup(tmp_path):
    settings = BackupSettings(backup_dir=tmp_path / "b", backup_influx_rpc="127.0.0.1:1",
                              backup_files=[])  # fmt: skip
    with pytest.raises(backup.BackupError, match="RPC address 127.0.0.1:1 does not answer"):
        backup.take(settings)
    assert list((tmp_path / "b").iterdir()) == []


def test_the_nightly_time_is_local():
    now = datetime(2025, 3, 1, 19, 0, tzinfo=UTC)  # 01:00 on 2 March in Bishkek
    assert backup.next_run("02:30", now, "Asia/Bishkek") == datetime(2025, 3, 1, 20, 30, tzinfo=UTC)
    assert backup.next_run("00:30", now, "Asia/Bishkek") == datetime(2025, 3, 2, 18, 30, tzinfo=UTC)


def test_unknown_databases_and_folders_are_refused(tmp_path):
    with pytest.raises(backup.BackupError, match="mysql"):
        backup.sql_kind("mysql://u@h/db")
    with pytest.raises(backup.BackupError, match="not a landfill backup"):
        backup.Manifest.read(tmp_path)


# ---- PostgreSQL: pg_dump and pg_restore, against a throwaway cluster -----------------------

PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


@pytest.fixture
def postgres():
    if not (PG_BIN and shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("PostgreSQL server binaries are not installed")
    folder = Path(tempfile.mkdtemp(prefix="landfill-pg-"))
    bin_ = PG_BIN[-1]
    user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if user:
        shutil.chown(folder, "postgres")
    port = stack.free_port()
    subprocess.run([*user, str(bin_ / "initdb"), "-D", str(folder / "data"), "-A", "trust",
                    "-U", "landfill"], check=True, capture_output=True)  # fmt: skip
    subprocess.run([*user, str(bin_ / "pg_ctl"), "-D", str(folder / "data"), "-w", "-o",
                    f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start",
                    "-l", str(folder / "log")], check=True, capture_output=True)  # fmt: skip
    try:
        for name in ("live", "fresh"):
            subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "landfill",
                            name], check=True)  # fmt: skip
        yield f"postgresql+psycopg://landfill@127.0.0.1:{port}"
    finally:
        subprocess.run([*user, str(bin_ / "pg_ctl"), "-D", str(folder / "data"), "-m", "fast",
                        "stop"], check=False, capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def test_postgresql_goes_through_pg_dump_and_pg_restore(postgres, tmp_path, site):
    live, fresh = f"{postgres}/live", f"{postgres}/fresh"
    assert registry(live, site) == 33
    settings = BackupSettings(database_url=live)
    assert backup.backup_sql(settings, tmp_path) == "postgresql"
    manifest = backup.Manifest("now", "0", "landfill", "postgresql")
    restore.restore_sql(BackupSettings(database_url=fresh), tmp_path, manifest, replace=False)
    assert every_row(fresh) == every_row(live)
    assert len(every_row(fresh)["container"]) == 33


# ---- the nightly runs: systemd timer and the compose service --------------------------------

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_systemd_runs_the_backup_nightly_and_compose_keeps_a_backup_service():
    import yaml

    from landfill import cli

    timer = (DEPLOY / "systemd" / "landfill-backup.timer").read_text()
    assert "OnCalendar=*-*-* 02:30:00 Asia/Bishkek" in timer
    assert "Persistent=true" in timer
    service = (DEPLOY / "systemd" / "landfill-backup.service").read_text()
    assert "Type=oneshot" in service
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    job = compose["services"]["backup"]
    args = cli.parse(job["command"])
    assert args.backup_at == "02:30"
    assert job["build"]["target"] == "backup"
    assert job["env_file"].endswith("/monitor.env")  # production settings want a broker login
    assert compose["services"]["api"]["build"]["target"] == "app"  # not the last stage
    assert "influxd" in (DEPLOY / "Dockerfile").read_text().split("AS backup", 1)[1]
    rpc = job["environment"]["LANDFILL_BACKUP_INFLUX_RPC"]
    assert rpc.endswith(
        compose["services"]["influxdb"]["environment"]["INFLUXDB_BIND_ADDRESS"][-5:]
    )
