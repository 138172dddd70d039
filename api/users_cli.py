"""`landfill users add|passwd|disable|enable|list|demo`: accounts from the command line.

The first admin is created here (`landfill users add NAME --role admin`). Passwords are asked
twice on a terminal, read from standard input with `--password-stdin`, or made up and
printed once with `--generate`. Every change is in the audit log as `cli:<system user>`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api import db
from api.auth.audit import Actor, record
from api.auth.models import ApiToken, User
from api.auth.roles import Role
from api.auth.tokens import create_token, revoke
from api.auth.users import (
    AccountError,
    create_user,
    find_user,
    set_active,
    set_password,
    user_record,
)
from landfill.contract import utcnow
from landfill.settings import ApiSettings

__all__ = ["DEMO_USER", "DemoLogin", "cli_actor", "demo_login", "main", "open_sessions"]

DEMO_USER = "demo"
DEMO_WATCH_NAME = "landfill-run"


def cli_actor() -> Actor:
    """Who runs the command, as the audit log names them."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = str(os.getuid())
    return Actor(f"cli:{who}", "cli")


def open_sessions(settings: ApiSettings) -> sessionmaker[Session]:
    """Sessions on the API's database, migrated to the newest schema first."""
    engine = db.make_engine(settings.database_url)
    db.migrate(engine)
    return db.session_factory(engine)


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _new_password(args: argparse.Namespace) -> str:
    if args.generate:
        password = secrets.token_urlsafe(12)
        _out(f"password: {password}")
        return password
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise AccountError("no terminal: use --password-stdin or --generate")
    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        raise AccountError("the passwords differ")
    return first


def _user(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise AccountError(f"no user {username}")
    return user


def cmd_add(session: Session, args: argparse.Namespace) -> None:
    """Add an account."""
    now = utcnow()
    user = create_user(
        session,
        args.username,
        args.role,
        _new_password(args),
        now,
        full_name=args.name or "",
        client_code=args.client,
    )
    record(session, cli_actor(), now, "user.create", user.username, after=user_record(user))
    session.commit()
    _out(f"added {user.username} ({user.role})")


def cmd_passwd(session: Session, args: argparse.Namespace) -> None:
    """Set a new password; the account's sessions end."""
    user = _user(session, args.username)
    now = utcnow()
    set_password(session, user, _new_password(args), now)
    record(session, cli_actor(), now, "user.password", user.username)
    session.commit()
    _out(f"password of {user.username} changed; its sessions ended")


def cmd_active(session: Session, args: argparse.Namespace) -> None:
    """Disable or enable an account."""
    user = _user(session, args.username)
    before = user_record(user)
    set_active(session, user, args.action == "enable")
    action = "user.enable" if user.active else "user.disable"
    after = user_record(user)
    record(session, cli_actor(), utcnow(), action, user.username, before=before, after=after)
    session.commit()
    _out(f"{user.username} {'enabled' if user.active else 'disabled'}")


def cmd_list(session: Session, args: argparse.Namespace) -> None:
    """Print every account."""
    users = list(session.scalars(select(User).order_by(User.username)))
    if args.json:
        _out(json.dumps([user_record(u) for u in users], ensure_ascii=False))
        return
    _out(f"{'username':20} {'role':11} {'client':12} {'active':6} {'last login':20} name")
    for u in users:
        last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "-"
        client = u.client_code or "-"
        _out(f"{u.username:20} {u.role:11} {client:12} {str(u.active):6} {last:20} {u.full_name}")


def _password_options(p: argparse.ArgumentParser) -> None:
    how = p.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read it from standard input")
    how.add_argument("--generate", action="store_true", help="make one up and print it once")


def build_parser() -> argparse.ArgumentParser:
    """`landfill users` and its actions."""
    p = argparse.ArgumentParser(
        prog="landfill users",
        description="Accounts of people: the first admin, passwords, disabling. Uses the API's "
        "database (LANDFILL_DATABASE_URL).",
    )
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="add an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--client", help="client code (only and always for --role client)")
    add.add_argument("--name", help="full name, shown as who did something")
    _password_options(add)
    add.set_defaults(func=cmd_add)
    pw = sub.add_parser("passwd", help="set a new password (ends the account's sessions)")
    pw.add_argument("username")
    _password_options(pw)
    pw.set_defaults(func=cmd_passwd)
    for action, text in (("disable", "disable an account"), ("enable", "enable it again")):
        a = sub.add_parser(action, help=text)
        a.add_argument("username")
        a.set_defaults(func=cmd_active)
    ls = sub.add_parser("list", help="list accounts")
    ls.add_argument("--json", action="store_true", help="as JSON")
    ls.set_defaults(func=cmd_list)
    demo = sub.add_parser(
        "demo", help="for `landfill run`: the demo admin and a read token, as JSON (not production)"
    )
    demo.add_argument(
        "--state", type=Path, default=Path(".state"), help="where its password is kept"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `landfill users`."""
    args = build_parser().parse_args(argv)
    if args.action == "demo":
        try:
            login = demo_login(ApiSettings(), args.state)
        except AccountError as exc:
            raise SystemExit(f"landfill users: {exc}") from None
        _out(json.dumps(asdict(login)))
        return 0
    sessions = open_sessions(ApiSettings())
    with sessions() as session:
        try:
            args.func(session, args)
        except AccountError as exc:
            session.rollback()
            raise SystemExit(f"landfill users: {exc}") from None
    return 0


@dataclass(frozen=True)
class DemoLogin:
    """The demo admin's login and a token `landfill run` reads captures with."""

    username: str
    password: str
    token: str


def demo_login(settings: ApiSettings, state: Path) -> DemoLogin:
    """For `landfill run` only: make sure the demo admin exists and knows the saved password.

    The password is made up once and kept in ``state/demo-login.txt`` (mode 600). Refused in
    production: there the first admin is added with `landfill users add`.
    """
    if settings.env == "production":
        raise AccountError("no demo login in production; use landfill users add")
    saved = state / "demo-login.txt"
    password = saved.read_text().strip() if saved.exists() else secrets.token_urlsafe(12)
    now = utcnow()
    actor = Actor("cli:landfill-run", "cli")
    with open_sessions(settings)() as session:
        user = find_user(session, DEMO_USER)
        if user is None:
            user = create_user(session, DEMO_USER, "admin", password, now, full_name="Demo Admin")
            record(session, actor, now, "user.create", DEMO_USER, after=user_record(user))
        elif not saved.exists():
            set_password(session, user, password, now)
            record(session, actor, now, "user.password", DEMO_USER)
        for old in session.scalars(
            select(ApiToken).where(ApiToken.name == DEMO_WATCH_NAME, ApiToken.revoked_at.is_(None))
        ):
            revoke(old, now)
        _, token = create_token(session, DEMO_WATCH_NAME, "auditor", actor.name, now)
        session.commit()
    state.mkdir(parents=True, exist_ok=True)
    saved.touch(mode=0o600)
    saved.write_text(password + "\n")
    return DemoLogin(DEMO_USER, password, token)
