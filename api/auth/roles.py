"""Roles and the role sets routes are guarded by; `docs/security.md` has the same table.

One role per account. A role set names what its members may do; each set becomes one FastAPI
dependency (`api/auth/access.py`), so every route states its decision in one word.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACT_DISPATCH",
    "ANYONE",
    "EDIT_CONTAINERS",
    "EDIT_SCALES",
    "EDIT_WEIGHBRIDGE",
    "ISSUE_TICKETS",
    "MANAGE_ACCESS",
    "READ_CAPTURES",
    "READ_CONTAINERS",
    "READ_DEAD_LETTERS",
    "READ_DISPATCH",
    "READ_INFLOW",
    "READ_REGISTRY",
    "READ_SECURITY",
    "READ_TICKETS",
    "REGISTER_CONTAINERS",
    "SUPERVISE_TICKETS",
    "Role",
    "READ_BILLING",
    "ACT_BILLING",
    "CLIENT_PORTAL",
]


class Role(StrEnum):
    """What an account is for."""

    operator = "operator"  # the weighbridge operator
    supervisor = "supervisor"  # shift lead: registry and dispatcher decisions
    dispatcher = "dispatcher"  # container board, alerts, emptyings, routes
    billing = "billing"  # weights for invoices
    client = "client"  # a legal entity's own user: only its own data (bound to a client code)
    admin = "admin"  # accounts, tokens, configuration
    auditor = "auditor"  # reads everything, changes nothing


R = Role
ANYONE = frozenset(Role)
READ_CAPTURES = frozenset({R.operator, R.supervisor, R.billing, R.admin, R.auditor})
READ_REGISTRY = ANYONE - {R.client}
EDIT_SCALES = frozenset({R.admin})
EDIT_WEIGHBRIDGE = frozenset({R.admin})  # clients, vehicles, waste types
READ_TICKETS = frozenset({R.operator, R.supervisor, R.billing, R.admin, R.auditor})
ISSUE_TICKETS = frozenset({R.operator, R.supervisor, R.admin})  # first and second weighings
SUPERVISE_TICKETS = frozenset({R.supervisor, R.admin})  # voids, and weights keyed by hand
READ_CONTAINERS = frozenset({R.dispatcher, R.supervisor, R.admin, R.auditor})
EDIT_CONTAINERS = frozenset({R.supervisor, R.admin})  # deactivate, purge, import
REGISTER_CONTAINERS = frozenset({R.dispatcher, R.supervisor, R.admin})  # add one, change one
READ_DISPATCH = READ_CONTAINERS
READ_DEAD_LETTERS = frozenset({R.admin})  # refused messages with their payload excerpts
ACT_DISPATCH = frozenset({R.dispatcher, R.supervisor, R.admin})
READ_SECURITY = frozenset({R.admin, R.auditor})
MANAGE_ACCESS = frozenset({R.admin})
READ_BILLING = frozenset({R.billing, R.admin, R.auditor})
ACT_BILLING = frozenset({R.billing, R.admin})
CLIENT_PORTAL = frozenset({R.client})  # only the caller's own client's data, by its client code
# landfill inflow and the council's report; the council's monitoring group reads as auditors
READ_INFLOW = frozenset({R.billing, R.supervisor, R.admin, R.auditor})
