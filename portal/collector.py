"""CPython's cyclic garbage collector paused for bulk work (a settlement year, a large import)."""
from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def collector_paused():
    """Run the block without CPython's cyclic garbage collector, and switch it back on after (if it
    was on). A realisation import of 100,000 rows keeps a few hundred thousand small objects (line
    keys, report sums) while it makes and drops millions; settling a year builds hundreds of thousands of small objects (agreements, results,
    settlements) and no reference cycles; on each growth of the heap by a quarter the collector
    would walk every object again, which took half the time of a national year (bench/settlement.py:
    seven full collections, 1.1 s of 2.2 s). Objects freed in between are freed as always (by
    reference counting); only the search for cycles waits until the block ends.

    At the end the objects made in the block are moved to the oldest generation without being
    walked (``gc.freeze()`` + ``gc.unfreeze()``, two list splices): otherwise the first allocation
    after switching the collector back on walks all of them at once as the youngest generation
    (0.07 s per block for a national year). They are looked at in the next full collection, as any
    long-lived object. Not done when the process has frozen objects of its own (a pre-forking server
    may ``gc.freeze()`` before forking), which ``gc.unfreeze()`` would release.

    The collector is process-wide: another thread settling at the same time may switch it back on a
    moment early, which costs time, never correctness."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


__all__ = ["collector_paused"]
