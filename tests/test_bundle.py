"""`landfill bundle` and `scripts/setup --offline`: the wheels of a bundle install the project
into a fresh virtualenv while the package index is unreachable, and `landfill --help` runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from deploy import bundle

ROOT = Path(__file__).resolve().parents[1]
UNREACHABLE = "http://127.0.0.1:9/"  # the discard port: nothing answers there


@pytest.mark.integration
def test_a_bundle_installs_with_the_index_unreachable(tmp_path, capsys):
    out = tmp_path / "bundle"
    assert bundle.main(["--out", str(out), "--no-debs"]) == 0
    assert "setup --offline" in capsys.readouterr().out
    names = {p.name.split("-")[0].lower() for p in (out / "wheels").glob("*.whl")}
    assert {"landfill_telemetry", "fastapi", "grafana_foundation_sdk", "pyyaml"} <= names
    assert (out / "setup").exists()
    assert "wheels/landfill_telemetry-" in (out / "SHA256SUMS").read_text()
    [wheel] = (out / "wheels").glob("landfill_telemetry-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())  # the one catalogue is package data
    assert {"landfill/i18n/ky.json", "landfill/i18n/notify/ru.json"} <= shipped

    drop = ("PIP_", "VIRTUAL_ENV", "PYTHONPATH")  # the installed project must be what runs
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(PIP_INDEX_URL=UNREACHABLE, PIP_CONFIG_FILE=os.devnull, PIP_RETRIES="0",
               PIP_TIMEOUT="2", PATH=f"{Path(sys.base_prefix) / 'bin'}:/usr/bin:/bin")  # fmt: skip
    venv = tmp_path / "venv"
    setup = subprocess.run(
        ["bash", str(out / "setup"), "--offline", str(out), "--venv", str(venv)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stderr + setup.stdout
    done = subprocess.run([str(venv / "bin" / "landfill"), "--help"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "dashboards" in done.stdout
    assert "backup" in done.stdout


def test_the_debian_packages_come_with_everything_they_depend_on():
    if subprocess.run(["which", "apt-cache"], capture_output=True, check=False).returncode:
        pytest.skip("not Debian")
    names = bundle.dependency_closure(["mosquitto", "influxdb"])
    assert {"mosquitto", "influxdb", "libc6"} <= set(names)
    assert not [n for n in names if n.startswith("<")]  # virtual packages cannot be downloaded


def test_setup_offline_needs_a_folder():
    done = subprocess.run(["bash", str(ROOT / "scripts" / "setup"), "--offline"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode != 0
    assert "usage: setup --offline DIR" in done.stderr
