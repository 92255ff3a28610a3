"""Background jobs in the web process: big imports run here while the page shows progress.

A thread, not a queue server: the platform must run from ``make demo`` with nothing else
installed, and a province imports a few files a year. A job that dies with its process
leaves its batch in a state the page explains, with a button to run it again (staging
and commit are both restartable: staging starts afresh, a commit is one transaction).
Failures are logged by job key and exception type only: exception messages can carry
row values, which are personal data.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.db import connections

from khm.core import progress

logger = logging.getLogger(__name__)


def run_in_background(key: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> threading.Thread:
    def target() -> None:
        try:
            fn(*args, **kwargs)
        except Exception as exc:  # reported, not raised: nobody waits for the thread
            logger.error("background job %s failed: %s", key, type(exc).__name__)
            progress.report(key, "failed")
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, name=f"khm-job-{key}", daemon=True)
    thread.start()
    return thread
