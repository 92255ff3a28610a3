"""Browser tests: Playwright (sync API) driving Debian Chromium against pytest-django's live server.

The demo data (area tree, demo organisations and users, a small synthetic population in the
jurisdictions of the ``local`` and ``local2`` officers) is built once per session. The live
server needs transactional tests, which empty the database after every test; on SQLite (the
in-memory test database) each test gets the data back with SQLite's online backup, which takes
milliseconds, instead of loading it again. Other databases load it per test.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
HTMX = ROOT / "static" / "vendor" / "htmx.min.js"
DEMO_PEOPLE = 150  # over the villages of both officers: about 30 households each, one page of the list
DEMO_SEED = 4601
# Real password hashing costs ~0.3 s per demo user; the root conftest does the same for every test.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Playwright's sync API keeps an asyncio event loop in this thread, and Django refuses sync
# ORM calls (fixtures, test assertions, the flush after each test) from such a thread.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@dataclass(frozen=True)
class Demo:
    password: str
    local_villages: frozenset[str]  # jurisdiction of the ``local`` officer (district 4601)
    local2_villages: frozenset[str]  # jurisdiction of the ``local2`` officer (district 4605)


def _jurisdiction(username: str) -> frozenset[str]:
    from khm.accounts.models import RoleAssignment

    assignment = RoleAssignment.objects.select_related("organisation").get(user__username=username)
    return frozenset(assignment.organisation.jurisdiction.values_list("code", flat=True))


def _load_demo() -> Demo:
    from khm.areas.loaders import load_all
    from khm.demo.seed import DEMO_PASSWORD, seed_organisations_and_users
    from khm.engines.synth import VillageWeight, generate
    from khm.registry.bulk import load_households

    load_all(boundaries=False)  # the household pages draw no maps
    # Transactional tests flush the database, data migrations included: put the shipped
    # instruments back (idempotent).
    from khm.assessment.services import instruments_install_defaults

    instruments_install_defaults()
    seed_organisations_and_users()
    local, local2 = _jurisdiction("local"), _jurisdiction("local2")
    assert local and local2 and not local & local2
    assert all(v.startswith("4601") for v in local) and all(v.startswith("4605") for v in local2)
    villages = [VillageWeight(code, 1.0) for code in sorted(local | local2)]
    load_households(generate(villages=villages, people=DEMO_PEOPLE, seed=DEMO_SEED))
    return Demo(DEMO_PASSWORD, local, local2)


@pytest.fixture(scope="session")
def _demo_snapshot(django_db_setup, django_db_blocker) -> Iterator[tuple[sqlite3.Connection | None, Demo | None]]:
    """Build the demo data once, keep a copy in memory and hand the test database back empty."""
    from django.db import connection
    from django.test import override_settings

    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield None, None
        return
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        connection.ensure_connection()
        live = connection.connection
        empty, loaded = sqlite3.connect(":memory:"), sqlite3.connect(":memory:")
        live.backup(empty)
        try:
            demo = _load_demo()
            live.backup(loaded)
        finally:
            empty.backup(live)  # other tests of the session must not see the demo data
        empty.close()
    yield loaded, demo
    loaded.close()


@pytest.fixture
def demo(live_server, transactional_db, settings, _demo_snapshot) -> Demo:
    """The demo data, in the database the live server reads."""
    from django.db import connection

    settings.PASSWORD_HASHERS = FAST_HASHERS
    snapshot, demo = _demo_snapshot
    if snapshot is None or demo is None:
        return _load_demo()
    connection.ensure_connection()
    snapshot.backup(connection.connection)
    return demo


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not HTMX.is_file():
        pytest.fail(f"{HTMX.relative_to(ROOT)} is missing: run `make static` first")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser, *, width: int = 1280, height: int = 800, mobile: bool = False):
    context = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=2 if mobile else 1,
        is_mobile=mobile,
        has_touch=mobile,
        locale="th-TH",
        timezone_id="Asia/Bangkok",
    )
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.fixture
def page_factory(browser):
    """Open pages in fresh browser contexts (no shared cookies); all closed after the test."""
    contexts = []

    def make(**kwargs):
        page = new_page(browser, **kwargs)
        contexts.append(page.context)
        return page

    yield make
    for context in contexts:
        context.close()
