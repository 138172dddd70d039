"""`landfill mqtt-acl`: mosquitto's password file and ACL, one login per process and device.

The sites and scales come from the registry (the API's SQL store, tables `site` and `scale`)
or, with no database, from `--scale SITE:SCALE` and `--site SITE`. Written into OUT:

    mosquitto.passwd          user:$7$101$<salt>$<hash>, PBKDF2-SHA512 as mosquitto_passwd 2.0
    mosquitto.acl             what each user may publish (write) and read; the rest is denied
    credentials/<user>.env    LANDFILL_MQTT_USERNAME and LANDFILL_MQTT_PASSWORD (mode 0600)

A password is made once and kept: a re-run reads it back from its credential file, so only a
new device gets a new one; `--rotate USER` replaces it. The broker runs with
`use_username_as_clientid true`, so a client id is its username and no login can take over
another's session; a process with a second connection logs it in as the companion user
`<user>-<role>` with the same password (`landfill.settings.companion_url`).
Faults it survives: a missing or unmigrated database (says what to do), names that cannot be
usernames (refused), a scale code used at two sites (refused: the client ids would clash).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from landfill.contract import (
    ROOT,
    Capture,
    ContainerReading,
    ContainerRegistry,
    DeadLetter,
    LiveWeight,
    NodeStatus,
    Receipt,
    ScaleEvent,
    Ticket,
    Topics,
    kind_of,
)

ITERATIONS = 101  # mosquitto_passwd's own; the passwords are random, 192 bits
SALT_BYTES = 12  # as mosquitto_passwd
STATE = Path(".state/mqtt")


class AclError(RuntimeError):
    """The registry cannot be turned into logins; the message says why and what to do."""


# ---- passwords -----------------------------------------------------------------------------


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """Return mosquitto's `$7$` hash of ``password`` (PBKDF2-HMAC-SHA512)."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"$7${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    """Return True when ``hashed`` (a `$7$` hash) is the hash of ``password``."""
    try:
        _, kind, iterations, salt, digest = hashed.split("$")
        if kind != "7":
            return False
        again = hash_password(password, base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(again.rsplit("$", 1)[1], digest)


def new_password() -> str:
    """A random password that needs no quoting in a URL or an env file."""
    return secrets.token_urlsafe(24)


# ---- who may do what ----------------------------------------------------------------------


@dataclass(frozen=True)
class Registry:
    """The sites and scales logins are made for."""

    sites: tuple[str, ...]
    scales: tuple[tuple[str, str], ...] = ()  # (site, scale)


@dataclass(frozen=True)
class Login:
    """One MQTT user: who holds it, what it may publish and read.

    A companion (``secret_of`` set) is a second connection of a process: it shares that
    user's password and has no credential file of its own.
    """

    user: str
    holder: str
    write: tuple[str, ...] = ()
    read: tuple[str, ...] = ()
    secret_of: str = ""


def uplink_filters(site: str) -> tuple[str, ...]:
    """Topic filters the sensor bridge takes uplinks from (its default source topics)."""
    from landfill.settings import EdgeSensorsSettings

    topics = EdgeSensorsSettings.model_fields["sensors_source_topics"].get_default(
        call_default_factory=True
    )
    return tuple(t.replace("{site}", site) for t in topics)


def _scale_logins(registry: Registry) -> list[Login]:
    result = []
    for site, scale in registry.scales:
        t, user = Topics(site), f"edge-scale-{scale}"
        write = (
            t.of(LiveWeight, scale=scale),
            t.of(Capture, scale=scale),
            t.of(ScaleEvent, scale=scale),
            t.of(NodeStatus, node=user),
        )
        # ingest's receipts: a capture leaves the scale PC's outbox only once it is stored
        read = (t.of(Receipt, scale=scale),)
        holder = f"scale PC of scale {scale} at {site}"
        result.append(Login(user, holder, write=write, read=read))
    return result


def _sensor_logins(registry: Registry) -> list[Login]:
    result = []
    for site in registry.sites:
        t, user = Topics(site), f"edge-sensors-{site}"
        write = (
            kind_of(ContainerReading).topic_filter(site),
            t.of(DeadLetter),
            t.of(NodeStatus, node="edge-sensors"),
        )
        holder = f"sensor bridge of {site}"
        result.append(Login(user, holder, write=write, read=(t.of(ContainerRegistry),)))
        result.append(
            Login(
                f"{user}-source",
                f"{holder}: uplinks, when the network server publishes to this broker",
                read=uplink_filters(site),
                secret_of=user,
            )
        )
    return result


def _ingest_logins(workers: Sequence[str]) -> list[Login]:
    subscriptions = tuple(Topics("any").subscriptions())
    result = []
    for worker in workers:
        write = (
            f"{ROOT}/+/container/+/alert/+",
            f"{ROOT}/+/container/+/event",
            f"{ROOT}/+/deadletter",
            f"{ROOT}/+/node/{worker}/status",
            kind_of(Receipt).topic_filter(),
        )
        result.append(Login(worker, "ingest", write=write, read=subscriptions))
        result.append(
            Login(
                f"{worker}-registry",
                "ingest: the registry watcher of the fill processor",
                read=(f"{ROOT}/+/registry/containers",),
                secret_of=worker,
            )
        )
    return result


def logins(
    registry: Registry, *, ingest: Sequence[str] = ("landfill-ingest",), api_port: int = 8000
) -> list[Login]:
    """Every login of the registry, with its rules (the ACL table of docs/security.md)."""
    api_write: list[str] = []
    live_read: list[str] = []  # the operator console's stream (api/live.py)
    for site in registry.sites:
        t = Topics(site)
        api_write += [
            t.of(ContainerRegistry),
            t.of(Ticket),
            t.of(NodeStatus, node=f"api-{api_port}"),
        ]
        live_read += [
            kind_of(m).topic_filter(site) for m in (LiveWeight, ScaleEvent, Receipt, NodeStatus)
        ]
    result = [
        *_scale_logins(registry),
        *_sensor_logins(registry),
        *_ingest_logins(ingest),
        api := Login("api", "api", write=tuple(api_write)),
        Login(
            "api-live",
            "api: the operator console's live weights (a second connection)",
            read=tuple(live_read),
            secret_of=api.user,
        ),
        Login("monitor", "health checks and operators, read only", read=(f"{ROOT}/#", "$SYS/#")),
    ]
    _check_users(result)
    return result


def _check_users(result: Sequence[Login]) -> None:
    seen: set[str] = set()
    for login in result:
        if ":" in login.user:
            raise AclError(f"{login.user!r} cannot be a username (':'); rename the scale or site")
        if login.user in seen:
            raise AclError(
                f"two logins named {login.user}: a scale code may be used at one site only "
                "(its client id would clash); rename one in the registry"
            )
        seen.add(login.user)


def acl_text(result: Sequence[Login]) -> str:
    """The mosquitto ACL file: per user, its write and read topics; no anonymous rules."""
    lines = [
        "# mosquitto ACL written by `landfill mqtt-acl`; do not edit, run it again.",
        "# Everything not granted here is denied. See docs/security.md.",
    ]
    for login in result:
        lines += ["", f"# {login.holder}", f"user {login.user}"]
        lines += [f"topic write {t}" for t in login.write]
        lines += [f"topic read {t}" for t in login.read]
    return "\n".join(lines) + "\n"


# ---- the registry --------------------------------------------------------------------------


def read_registry(database_url: str) -> Registry:
    """Sites and scales from the API's SQL store (read only; never creates the database)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    hint = "start the API once (it creates the registry), or pass --scale SITE:SCALE"
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        if not path.exists():
            raise AclError(f"no registry database at {path}: {hint}")
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            sites = conn.execute(text("SELECT code FROM site ORDER BY code")).scalars().all()
            scales = conn.execute(
                text(
                    "SELECT site.code, scale.code FROM scale JOIN site ON site.id = scale.site_id "
                    "ORDER BY site.code, scale.code"
                )
            ).all()
    except SQLAlchemyError as exc:
        raise AclError(
            f"cannot read the registry at {database_url} ({exc.__class__.__name__}): {hint}"
        ) from None
    finally:
        engine.dispose()
    if not sites:
        raise AclError(f"the registry at {database_url} has no site: {hint}")
    return Registry(tuple(sites), tuple((str(a), str(b)) for a, b in scales))


def registry_from_options(sites: Sequence[str], scales: Sequence[str]) -> Registry:
    """A registry from `--site` and `--scale SITE:SCALE` options."""
    pairs = []
    for item in scales:
        site, sep, scale = item.partition(":")
        if not sep:
            raise AclError(f"--scale {item}: write SITE:SCALE, e.g. dostuk:scale1")
        pairs.append((_checked(site), _checked(scale)))
    every = dict.fromkeys([*(_checked(s) for s in sites), *(s for s, _ in pairs)])
    return Registry(tuple(every), tuple(pairs))


def _checked(name: str) -> str:
    try:
        Topics(name)
    except ValueError as exc:
        raise AclError(f"{name!r}: {exc}") from None
    return name


# ---- files ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a run did, per user."""

    new: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    rotated: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


def _write(path: Path, text: str, mode: int) -> None:
    """Write atomically with ``mode`` from the start (a secret is never readable by others)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _env(path: Path) -> dict[str, str]:
    pairs = (ln.split("=", 1) for ln in path.read_text().splitlines() if "=" in ln)
    return {k.strip(): v.strip() for k, v in pairs if not k.lstrip().startswith("#")}


def credential_text(login: Login, password: str) -> str:
    """The env file of one login (systemd EnvironmentFile, compose env_file)."""
    return (
        f"# MQTT login of the {login.holder}; written by `landfill mqtt-acl`. Secret: mode 0600.\n"
        f"LANDFILL_MQTT_USERNAME={login.user}\n"
        f"LANDFILL_MQTT_PASSWORD={password}\n"
    )


def write_files(out: Path, result: Sequence[Login], rotate: Sequence[str] = ()) -> Outcome:
    """Write the password file, the ACL and the credential files; keep passwords not rotated."""
    owners = [login for login in result if not login.secret_of]
    unknown = set(rotate) - {login.user for login in owners}
    if unknown:
        raise AclError(
            f"--rotate {', '.join(sorted(unknown))}: no such login (companions "
            "rotate with their process)"
        )
    creds = out / "credentials"
    creds.mkdir(parents=True, exist_ok=True)
    os.chmod(creds, 0o700)
    outcome, passwords = Outcome(), {}
    for login in owners:
        path = creds / f"{login.user}.env"
        old = _env(path).get("LANDFILL_MQTT_PASSWORD", "") if path.exists() else ""
        if old and login.user not in rotate:
            passwords[login.user] = old
            outcome.kept.append(login.user)
            continue
        passwords[login.user] = new_password()
        (outcome.rotated if old else outcome.new).append(login.user)
        _write(path, credential_text(login, passwords[login.user]), 0o600)
    known = {f"{login.user}.env" for login in owners}
    outcome.stale = sorted(p.name for p in creds.glob("*.env") if p.name not in known)
    _write(
        out / "mosquitto.passwd", _passwd_text(out / "mosquitto.passwd", result, passwords), 0o640
    )
    _write(out / "mosquitto.acl", acl_text(result), 0o644)
    return outcome


def _passwd_text(path: Path, result: Sequence[Login], passwords: dict[str, str]) -> str:
    """Password file lines; a user's old line is kept while it still matches (stable re-runs)."""
    old: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            user, sep, hashed = line.partition(":")
            if sep:
                old[user] = hashed
    lines = []
    for login in result:
        password = passwords[login.secret_of or login.user]
        hashed = old.get(login.user, "")
        if not verify_password(password, hashed):
            hashed = hash_password(password)
        lines.append(f"{login.user}:{hashed}")
    return "\n".join(lines) + "\n"


# ---- command -------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `landfill mqtt-acl` (also used by landfill.cli)."""
    p.add_argument("--out", type=Path, default=STATE, help=f"output folder (default {STATE})")
    p.add_argument(
        "--database-url",
        help="the registry's SQLAlchemy URL (default LANDFILL_DATABASE_URL)",
    )
    p.add_argument(
        "--scale",
        action="append",
        default=[],
        metavar="SITE:SCALE",
        help="take scales from here instead of the database (repeat for each scale)",
    )
    p.add_argument(
        "--site", action="append", default=[], help="a site with no scale (with --scale)"
    )
    p.add_argument(
        "--ingest",
        action="append",
        default=[],
        metavar="CLIENT_ID",
        help="one per ingest worker, as its LANDFILL_INGEST_CLIENT_ID (default landfill-ingest)",
    )
    p.add_argument("--api-port", type=int, default=8000, help="the API's port (its node name)")
    p.add_argument(
        "--rotate", action="append", default=[], metavar="USER", help="give USER a new password"
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of `landfill mqtt-acl`."""
    p = argparse.ArgumentParser(prog="landfill mqtt-acl", description=DESCRIPTION)
    add_arguments(p)
    return p


DESCRIPTION = """\
Write mosquitto's password file and ACL from the registry (sites and scales): one login per
scale PC, sensor bridge, ingest worker and API, each allowed only its own topics. Passwords
are made once and kept in OUT/credentials/USER.env (mode 0600); --rotate USER replaces one.
Then reload the broker (SIGHUP). See docs/security.md."""


def report(outcome: Outcome, out: Path, users: int) -> str:
    """What a run did, for the installer (never a password)."""
    lines = [
        f"{verb:8} {user:32} {out / 'credentials' / f'{user}.env'}"
        for verb, names in (("new", outcome.new), ("rotated", outcome.rotated))
        for user in names
    ]
    lines.append(
        f"kept     {len(outcome.kept)} logins; {users} users in {out / 'mosquitto.passwd'} "
        f"and {out / 'mosquitto.acl'}"
    )
    lines += [
        f"stale    {name}: no longer in the registry, refused by the broker; delete it"
        for name in outcome.stale
    ]
    lines.append(
        "reload the broker to apply: systemctl reload mosquitto, or "
        "docker compose kill -s HUP mosquitto"
    )
    return "\n".join(lines)


def _database_url() -> str:
    from pydantic import ValidationError

    from landfill.settings import ApiSettings

    try:
        return ApiSettings().database_url
    except ValidationError as exc:
        raise AclError(
            f"settings invalid ({exc.error_count()} errors): pass --database-url"
        ) from None


def run(args: argparse.Namespace) -> int:
    """Generate the files for parsed options; print what changed (never a password)."""
    try:
        if args.scale or args.site:
            registry = registry_from_options(args.site, args.scale)
        else:
            registry = read_registry(args.database_url or _database_url())
        result = logins(registry, ingest=args.ingest or ["landfill-ingest"], api_port=args.api_port)
        outcome = write_files(args.out, result, args.rotate)
    except AclError as exc:
        raise SystemExit(f"mqtt-acl: {exc}") from None
    print(report(outcome, args.out, len(result)))  # noqa: T201 - the command's output
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: `landfill mqtt-acl [options]`."""
    return run(build_parser().parse_args(argv))
