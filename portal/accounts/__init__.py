"""Accounts: organisations' people, roles and what each may see (scoping), signing in (sessions,
throttling, passwords, one-time links) and the API's bearer tokens. The bottom of the domain order:
it imports no other domain."""

# The modules other packages may import; the rest is this domain's own (tests/test_layout.py).
__all__ = ["api_tokens", "forms", "login", "passwords", "people", "roles", "scoping", "sessions", "views"]
