"""Access control: accounts and roles, sessions and CSRF, API tokens, login limits, audit log.

`access.py` holds the dependencies routes declare; `docs/security.md` says who may do what.
"""
