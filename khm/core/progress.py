"""Progress of long jobs (big imports), readable from any process.

A job writes ``{"step": ..., "done": n, "total": m, "at": ...}`` to a small JSON file
under ``KHM_PROGRESS_DIR`` (atomically: write, then rename); pages read it while the job
runs. A file, not the database, because the job's own writes sit in one long
transaction (a commit is all or nothing) that other connections cannot see until it
ends, and SQLite allows one writer at a time. Only counts and step names go here, never
personal data.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from django.conf import settings

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def _path(key: str) -> Path:
    if not _KEY.match(key):
        raise ValueError("progress key: letters, digits, _ and - only")
    return Path(settings.KHM_PROGRESS_DIR) / f"{key}.json"


def report(key: str, step: str, done: int = 0, total: int = 0) -> None:
    path = _path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"step": step, "done": done, "total": total, "at": time.time()}), encoding="utf-8")
    os.replace(tmp, path)


def read(key: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(_path(key).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    total = int(data.get("total") or 0)
    data["percent"] = int(100 * int(data.get("done") or 0) / total) if total else None
    return data


def clear(key: str) -> None:
    _path(key).unlink(missing_ok=True)


class Reporter:
    """Rate-limited reporting for a loop: at most one write every ``every`` seconds."""

    def __init__(self, key: str | None, every: float = 0.5) -> None:
        self.key, self.every, self._last = key, every, 0.0

    def __call__(self, step: str, done: int = 0, total: int = 0, *, force: bool = False) -> None:
        if self.key is None:
            return
        now = time.monotonic()
        if force or now - self._last >= self.every or done == total:
            self._last = now
            report(self.key, step, done, total)
