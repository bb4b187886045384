"""Progress of realisation uploads being processed in this process, for the page that polls it.

Kept in memory (a dict behind a lock): the storing transaction cannot commit progress rows halfway
on SQLite. Each upload's final state is in the database; a page served by another process sees
"bezig" without numbers until the upload is done.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

_lock = threading.Lock()
_progress: dict[int, "Progress"] = {}


@dataclass(frozen=True)
class Progress:
    phase: str  # queued | checking | storing
    done: int
    total: int | None

    @property
    def percentage(self) -> int | None:
        """Checking is the first half of the work, storing the second."""
        if not self.total:
            return None
        part = min(self.done / self.total, 1.0)
        offset = 50 if self.phase == "storing" else 0
        return int(offset + part * 50)


def update(upload_id: int, phase: str, done: int, total: int | None) -> None:
    with _lock:
        _progress[upload_id] = Progress(phase, done, total)


def get(upload_id: int) -> Progress | None:
    with _lock:
        return _progress.get(upload_id)


def finish(upload_id: int) -> None:
    with _lock:
        _progress.pop(upload_id, None)
