"""What a provider agreed with the region: framework agreements and their terms, budget agreements
and ceilings, extra capacity, municipal choices, and the agreement PDF. Imports catalogue and
accounts."""

# The modules other packages may import; the rest is this domain's own (tests/test_layout.py).
__all__ = ["municipal_choices", "rules", "service", "terms", "views"]
