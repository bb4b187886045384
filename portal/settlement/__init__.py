"""The yearly settlement (afrekening): the engine as pure functions, the inputs of a region's year,
runs and their statements (PDF, XLSX), what-if, scenarios and the shared-cost allocation. Imports
contracts and what lies below it."""

# The modules other packages may import; the rest is this domain's own (tests/test_layout.py).
__all__ = ["cost_allocation", "engine", "population", "runs", "scenario", "views"]
