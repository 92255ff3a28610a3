"""Keep the pre-aggregated figures current, incrementally.

Writes record the areas they touched (``khm.core.changes`` → ``ChangedArea``). ``refresh``
recomputes the villages of those areas from the data (``facts.village_facts``), replaces their
rows, then rebuilds the rows of their subdistricts, districts and provinces as sums of the
level below — never the rest of the country. ``refresh(full=True)`` recomputes everything
(after loading a population, or from cron at night: overdue referrals and followed graduates
change with the date alone).

After a write commits, ``wake`` starts one background thread (``KHM_INSIGHTS_REFRESH =
"background"``, the default) that refreshes until nothing is left; tests and benchmarks set
it to ``"manual"`` and call ``refresh`` themselves. ``manage.py refresh_insights [--all]``
does the same from the command line.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from khm.areas.models import Area, AreaLevel, code_range
from khm.core.models import ChangedArea
from khm.insights.facts import village_facts
from khm.insights.models import Fact, RefreshRun

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_thread: threading.Thread | None = None
BATCH = 5000
LENGTH_OF_LEVEL = {1: 2, 2: 4, 3: 6, 4: 8}


def _villages_of(codes: Iterable[str]) -> set[str]:
    out: set[str] = set()
    prefixes = sorted({c for c in codes if len(c) < 8})
    out |= {c for c in codes if len(c) == 8}
    if "" in prefixes:
        return set(Area.objects.filter(level=AreaLevel.VILLAGE).values_list("code", flat=True)) | out
    for p in prefixes:
        low, high = code_range(p)
        out |= set(
            Area.objects.filter(level=AreaLevel.VILLAGE, code__gte=low, code__lte=high).values_list("code", flat=True)
        )
    return out


def _table() -> str:
    return connection.ops.quote_name(Fact._meta.db_table)


def _replace_villages(villages: Sequence[str], rows: list[tuple[str, str, str, str, float]]) -> None:
    for i in range(0, len(villages), 500):
        Fact.objects.filter(level=4, area_code__in=villages[i : i + 500]).delete()
    sql = f"INSERT INTO {_table()} (area_code, level, round, dim, metric, value) VALUES (%s, 4, %s, %s, %s, %s)"  # noqa: S608
    with connection.cursor() as cur:
        for i in range(0, len(rows), BATCH):
            cur.executemany(sql, rows[i : i + BATCH])


def _roll_up(codes: set[str], level: int) -> None:
    """Rows of these areas (all of ``level``) as sums of their children's rows: one
    INSERT … SELECT … GROUP BY per 200 areas, in the database."""
    n = LENGTH_OF_LEVEL[level]
    ordered = sorted(codes)
    for i in range(0, len(ordered), 200):
        part = ordered[i : i + 200]
        Fact.objects.filter(level=level, area_code__in=part).delete()
        ranges = [code_range(c) for c in part]
        where = " OR ".join(["(area_code >= %s AND area_code <= %s)"] * len(ranges))
        sql = (
            f"INSERT INTO {_table()} (area_code, level, round, dim, metric, value) "  # noqa: S608
            f"SELECT SUBSTR(area_code, 1, {n}), {level}, round, dim, metric, SUM(value) FROM {_table()} "
            f"WHERE level = {level + 1} AND ({where}) GROUP BY SUBSTR(area_code, 1, {n}), round, dim, metric"
        )
        with connection.cursor() as cur:
            cur.execute(sql, [x for r in ranges for x in r])


def refresh(*, full: bool = False, villages: Iterable[str] | None = None, today: dt.date | None = None) -> RefreshRun:
    """Recompute the figures of the changed areas (or ``villages``, or everything)."""
    started = time.perf_counter()
    claimed_at = timezone.now()
    claimed: list[str] = []
    if full:
        wanted = _villages_of([""])
    elif villages is not None:
        wanted = set(villages)
    else:
        # Claim the changed areas by removing their marks first: a write that commits while
        # this refresh runs marks its area again and is handled by the next refresh.
        with transaction.atomic():
            claimed = list(ChangedArea.objects.filter(at__lte=claimed_at).values_list("area_code", flat=True))
            ChangedArea.objects.filter(area_code__in=claimed, at__lte=claimed_at).delete()
        wanted = _villages_of(claimed)
    ordered = sorted(wanted)
    try:
        with transaction.atomic():
            for i in range(0, len(ordered), 400):
                part = ordered[i : i + 400]
                _replace_villages(part, village_facts(part, today=today))
            for level in (3, 2, 1):
                n = LENGTH_OF_LEVEL[level]
                _roll_up({v[:n] for v in ordered}, level)
            if full:
                ChangedArea.objects.filter(at__lte=claimed_at).delete()
            run = RefreshRun.objects.create(
                started_at=claimed_at, seconds=round(time.perf_counter() - started, 3), villages=len(ordered),
                full=full,
            )  # fmt: skip
    except Exception:
        if claimed:
            from khm.core.changes import touch

            with transaction.atomic():
                touch(claimed)  # not done: keep them for the next refresh
        raise
    return run


def pending() -> int:
    return ChangedArea.objects.count()


def _loop() -> None:
    try:
        time.sleep(float(getattr(settings, "KHM_INSIGHTS_DEBOUNCE", 1.0)))  # let a burst of writes settle
        for _ in range(100):
            if not ChangedArea.objects.exists():
                break
            refresh()
    except Exception as exc:  # logged by type only: messages can carry data
        logger.error("insights refresh failed: %s", type(exc).__name__)
    finally:
        connections.close_all()


def wake() -> None:
    """After a commit that touched areas: refresh in the background (one thread at a time)."""
    global _thread
    if getattr(settings, "KHM_INSIGHTS_REFRESH", "background") != "background":
        return
    with _lock:
        if _thread is not None and _thread.is_alive():
            return
        _thread = threading.Thread(target=_loop, name="khm-insights-refresh", daemon=True)
        _thread.start()
