"""Password hashing with argon2id at the OWASP-recommended parameters (or stronger)."""
from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet: argon2id with m=19 MiB, t=2, p=1. Hashes made with other
# parameters are upgraded at the next successful sign-in (check_needs_rehash).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)

# A hash to verify against when the e-mail address is unknown, so both cases take equal time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problems(password: str, min_length: int, email: str = "") -> list[str]:
    """Dutch messages for a password that is too weak; empty when it is acceptable."""
    problems = []
    if len(password) < min_length:
        problems.append(f"Kies een wachtwoord van minstens {min_length} tekens.")
    if len(password) > 256:
        problems.append("Kies een wachtwoord van hoogstens 256 tekens.")
    if email and password.lower() == email.lower():
        problems.append("Uw wachtwoord mag niet gelijk zijn aan uw e-mailadres.")
    return problems
