"""Realisation: files, the web form, 323 messages and the API taken in through one pipeline,
checked and valued; the contract managers' review; the budget dashboard. Imports contracts,
catalogue and accounts."""

# The modules other packages may import; the rest is this domain's own (tests/test_layout.py).
__all__ = ["demo", "importing", "lookups", "rules", "views"]
