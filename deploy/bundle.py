"""`landfill bundle --out DIR`: everything an install needs, for a landfill PC with no internet.

    DIR/wheels/    the project's wheel and every dependency's (pip wheel)
    DIR/debs/      mosquitto, influxdb, python3-venv and what they depend on (apt-get download);
                   chromium too with --chromium
    DIR/setup      a copy of scripts/setup: `DIR/setup --offline DIR` installs from the folder
    DIR/SHA256SUMS the checksum of every file, to check the copy on the USB stick

Build it on a machine with the same Debian release and architecture (and Python minor
version) as the landfill PC: wheels and .debs are built for the machine that downloads them.
On the PC, as root: `DIR/setup --offline DIR` (apt-get install of the .debs, then a
virtualenv with pip --no-index --find-links DIR/wheels). docs/operations.md walks through it.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from landfill.options import command_parser

__all__ = ["DEBS", "ROOT", "build_parser", "debs", "dependency_closure", "main", "wheels"]

ROOT = Path(__file__).resolve().parents[1]
DEBS = ("mosquitto", "influxdb", "python3", "python3-venv", "openssl")


class BundleError(RuntimeError):
    """A step of the bundle failed; the message says which."""


def _run(argv: Sequence[str], what: str, cwd: Path | None = None) -> str:
    done = subprocess.run(list(argv), capture_output=True, text=True, cwd=cwd, check=False)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise BundleError(f"{what} failed ({done.returncode}):\n  " + "\n  ".join(said))
    return done.stdout


def wheels(out: Path, source: Path = ROOT) -> list[Path]:
    """Build the project's wheel and fetch every dependency's into ``out``."""
    if not (source / "pyproject.toml").exists():
        raise BundleError(f"{source} is not a checkout of the project (no pyproject.toml)")
    out.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(out)]
    _run([*pip, str(source)], "pip wheel")
    return sorted(out.glob("*.whl"))


def dependency_closure(packages: Sequence[str]) -> list[str]:
    """The packages and everything they depend on (pre-depends included), no virtual ones."""
    output = _run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
         "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *packages],
        "apt-cache depends",
    )  # fmt: skip
    names = {ln.strip() for ln in output.splitlines() if ln and not ln[0].isspace()}
    return sorted(n for n in names if not n.startswith("<"))


def debs(out: Path, packages: Sequence[str]) -> list[Path]:
    """Download the .debs of ``packages`` and their dependencies into ``out``."""
    if shutil.which("apt-get") is None:
        raise BundleError("apt-get is not here: build the bundle on Debian, or use --no-debs")
    out.mkdir(parents=True, exist_ok=True)
    _run(["apt-get", "download", *dependency_closure(packages)], "apt-get download", cwd=out)
    return sorted(out.glob("*.deb"))


def checksums(folder: Path) -> Path:
    """Write SHA256SUMS of every file under ``folder`` (sha256sum -c reads it)."""
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(folder)}")
    target = folder / "SHA256SUMS"
    target.write_text("\n".join(lines) + "\n")
    return target


DESCRIPTION = """\
Build a folder for installing with no internet: the project's wheel and its dependencies'
(pip wheel), the Debian packages mosquitto, influxdb and python3-venv with their
dependencies (apt-get download; chromium with --chromium), a copy of scripts/setup, and
SHA256SUMS. On the landfill PC, as root: DIR/setup --offline DIR."""


def build_parser() -> argparse.ArgumentParser:
    """The arguments of `landfill bundle`."""
    parser = command_parser("bundle", DESCRIPTION)
    parser.add_argument("--out", type=Path, required=True, help="folder to write (created)")
    parser.add_argument("--no-debs", action="store_true", help="wheels only (any OS)")
    parser.add_argument("--chromium", action="store_true", help="add chromium (the page tests)")
    parser.add_argument("--source", type=Path, default=ROOT, help="project checkout")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`landfill bundle`."""
    args = build_parser().parse_args(argv)
    try:
        built = wheels(args.out / "wheels", args.source)
        packages = [*DEBS, "chromium"] if args.chromium else list(DEBS)
        got = [] if args.no_debs else debs(args.out / "debs", packages)
    except BundleError as exc:
        raise SystemExit(f"bundle: {exc}") from None
    shutil.copy2(args.source / "scripts" / "setup", args.out / "setup")
    checksums(args.out)
    print(f"bundle in {args.out}: {len(built)} wheels, {len(got)} .debs")  # noqa: T201
    print(f"install on the landfill PC, as root: {args.out}/setup --offline {args.out}")  # noqa: T201
    return 0
