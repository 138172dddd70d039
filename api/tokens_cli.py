"""`landfill tokens create|list|revoke`: API tokens for machines and integrations.

`create` prints the token once on standard output (and nothing else there, so a script can
take it); it is stored only as a hash. Every change is in the audit log as `cli:<user>`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.audit import record
from api.auth.models import ApiToken
from api.auth.roles import Role
from api.auth.tokens import create_token, revoke, token_record
from api.auth.users import AccountError
from api.users_cli import cli_actor, open_sessions
from landfill.contract import utcnow
from landfill.settings import ApiSettings

__all__ = ["build_parser", "main"]


def cmd_create(session: Session, args: argparse.Namespace) -> None:
    """Create a token and print it."""
    actor = cli_actor()
    now = utcnow()
    token, secret = create_token(
        session, args.name, args.role, actor.name, now, client_code=args.client
    )
    record(session, actor, now, "token.create", token.name, after=token_record(token))
    session.commit()
    sys.stderr.write(f"token {token.id} ({token.name}, {token.role}); shown only now:\n")
    sys.stdout.write(secret + "\n")


def cmd_list(session: Session, args: argparse.Namespace) -> None:
    """Print every token (never a secret)."""
    tokens = list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
    if args.json:
        sys.stdout.write(json.dumps([token_record(t) for t in tokens]) + "\n")
        return
    sys.stdout.write(f"{'id':>4} {'name':24} {'prefix':11} {'role':11} {'last used':17} state\n")
    for t in tokens:
        used = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "-"
        state = "revoked" if t.revoked_at else "live"
        sys.stdout.write(f"{t.id:>4} {t.name:24} {t.prefix:11} {t.role:11} {used:17} {state}\n")


def cmd_revoke(session: Session, args: argparse.Namespace) -> None:
    """Revoke a token by id."""
    token = session.get(ApiToken, args.id)
    if token is None:
        raise AccountError(f"no token {args.id}")
    before = token_record(token)
    now = utcnow()
    revoke(token, now)
    after = token_record(token)
    record(session, cli_actor(), now, "token.revoke", token.name, before=before, after=after)
    session.commit()
    sys.stdout.write(f"token {token.id} ({token.name}) revoked\n")


def build_parser() -> argparse.ArgumentParser:
    """`landfill tokens` and its actions."""
    p = argparse.ArgumentParser(
        prog="landfill tokens",
        description="API tokens for machines (Authorization: Bearer ...). Uses the API's "
        "database (LANDFILL_DATABASE_URL).",
    )
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = sub.add_parser("create", help="create a token and print it once")
    c.add_argument("name", help="what it is for, e.g. billing-export")
    c.add_argument("--role", required=True, choices=[r.value for r in Role])
    c.add_argument("--client", help="client code (only and always for --role client)")
    c.set_defaults(func=cmd_create)
    ls = sub.add_parser("list", help="list tokens")
    ls.add_argument("--json", action="store_true", help="as JSON")
    ls.set_defaults(func=cmd_list)
    r = sub.add_parser("revoke", help="revoke a token by id")
    r.add_argument("id", type=int)
    r.set_defaults(func=cmd_revoke)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `landfill tokens`."""
    args = build_parser().parse_args(argv)
    with open_sessions(ApiSettings())() as session:
        try:
            args.func(session, args)
        except AccountError as exc:
            session.rollback()
            raise SystemExit(f"landfill tokens: {exc}") from None
    return 0
