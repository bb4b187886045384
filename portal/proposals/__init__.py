"""Custom trajectory proposals (maatwerk): the negotiation as a state machine, its services, forms,
screens and the PDF of an approved proposal. Imports contracts, catalogue and accounts."""

# The modules other packages may import; the rest is this domain's own (tests/test_layout.py).
__all__ = ["queries", "service", "states", "views"]
