"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile).

A hash made with older parameters still verifies and is re-hashed at the next login.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["MAX_LENGTH", "MIN_LENGTH", "hash_password", "needs_rehash", "verify_password", "weak"]

MIN_LENGTH = 10
MAX_LENGTH = 1024  # argon2 takes any length; this only bounds the work one request can ask for
_HASHER = PasswordHasher()


def weak(password: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    if len(set(password)) < 4:
        return "a password needs more than three different characters"
    return None


def hash_password(password: str) -> str:
    """The argon2id hash (with its salt and parameters) to store."""
    return _HASHER.hash(password)


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("no such account, but the same work")


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no stored hash the same work is done, then False."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether the hash was made with parameters other than today's."""
    return _HASHER.check_needs_rehash(stored)
