"""The catalogue of a region: care forms, tariffs and their versions, surcharges, standard
trajectories and the prices computed from them. Imports accounts only."""

# The modules other packages may import; the rest is this domain's own (tests/test_layout.py).
__all__ = ["pricing", "service", "views"]
