"""Impact figures on a fixture worked by hand, through the page, the export and the API, and
who sees which figures.

The fixture: five households of Ban Nong Bua (46010101), all assessed level 2 in June 2024,
join the weaving group on 1 January 2025 (2568). Income is recorded for 2024 (12 months,
the baseline) and January–June 2025 (6 months, the follow-up):

=====  ===========================  ======================  ==================  =========
 hh     2024 (baht)                  Jan–Jun 2025 (baht)     baht/month          change
=====  ===========================  ======================  ==================  =========
 L1     30,000 crops + 6,000 welfare  24,000                 3,000 → 4,000       +1,000  +33.3 %
 L2     48,000                       25,200                  4,000 → 4,200       +200    +5 %
 L3     60,000                       36,000                  5,000 → 6,000       +1,000  +20 % (not MORE than 20)
 L4     0                            6,000                   0 → 1,000           +1,000  (no %)
 L5     —                            30,000                  no baseline: not counted
=====  ===========================  ======================  ==================  =========

Linked: n = 4 (3 with a percentage); median before (0, 3000, 4000, 5000) = 3,500; after
(1000, 4000, 4200, 6000) = 4,100; change (200, 1000, 1000, 1000) = 1,000; % (5, 20, 33.3) =
20.0; more than 20 %: 1 of 3 = 33.3 %.

Comparison: C1 in Ban Non Sung (46010102, same subdistrict), level 2, 36,000 → 19,800
(3,000 → 3,300: +300, +10 %). C2 (level 3) and C3 (other periods) are not comparable. The
difference of median change is 20.0 − 10.0 = 10.0 percentage points.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest

from khm.livelihoods import services
from khm.livelihoods.tests.conftest import World, assess, client_for, new_household

pytestmark = pytest.mark.django_db

D = dt.date
BASE = (D(2024, 1, 1), D(2024, 12, 31))
FOLLOW = (D(2025, 1, 1), D(2025, 6, 30))


def income(actor: Any, h: Any, period: tuple[dt.date, dt.date], amount: int, source: str = "wages") -> None:
    services.income_record(
        actor=actor, household=h, source=source, period_start=period[0], period_end=period[1], amount_baht=amount
    )


@pytest.fixture
def fixture(world: World) -> dict[str, Any]:
    ploy = world.cast.ploy
    out: dict[str, Any] = {}
    rows = {
        "L1": (None, 24_000),
        "L2": (48_000, 25_200),
        "L3": (60_000, 36_000),
        "L4": (0, 6_000),
        "L5": (None, 30_000),
    }
    for i, (key, (base, follow)) in enumerate(rows.items()):
        h = new_household(ploy, "46010101", f"1{i}")
        assess(h, D(2024, 6, 1), level=2)
        services.link_create(actor=ploy, enterprise=world.weavers, household=h, role="worker", started_on=D(2025, 1, 1))
        if base is not None:
            income(ploy, h, BASE, base)
        income(ploy, h, FOLLOW, follow)
        out[key] = h
    income(ploy, out["L1"], BASE, 30_000, "crops")
    income(ploy, out["L1"], BASE, 6_000, "welfare")
    c1 = new_household(ploy, "46010102", "21")
    assess(c1, D(2024, 6, 1), level=2)
    income(ploy, c1, BASE, 36_000)
    income(ploy, c1, FOLLOW, 19_800)
    c2 = new_household(ploy, "46010101", "22")
    assess(c2, D(2024, 6, 1), level=3)
    income(ploy, c2, BASE, 36_000)
    income(ploy, c2, FOLLOW, 30_000)
    c3 = new_household(ploy, "46010101", "23")
    assess(c3, D(2024, 6, 1), level=2)
    income(ploy, c3, (D(2024, 7, 1), D(2024, 12, 31)), 18_000)
    income(ploy, c3, FOLLOW, 30_000)
    out.update({"C1": c1, "C2": c2, "C3": c3})
    return out


def figure(body: str, name: str) -> str:
    """The text of ``<dd data-figure="name">`` without tags."""
    import re

    m = re.search(rf'data-figure="{name}">(.*?)</dd>', body, re.S)
    assert m, name
    return " ".join(re.sub(r"<[^>]+>", " ", m.group(1)).split())


def test_the_district_officer_sees_the_figures_worked_by_hand(world: World, fixture: dict[str, Any]):
    page = client_for(world.cast.dara).get("/livelihoods/impact/", {"enterprise": world.weavers.code})
    body = page.content.decode()
    assert page.status_code == 200
    assert figure(body, "n").startswith("4 ") and "5" in figure(body, "n")  # 4 of 5 linked
    assert figure(body, "before").startswith("3,500")
    assert figure(body, "after").startswith("4,100")
    assert figure(body, "change").startswith("1,000") and "20.0 %" in figure(body, "change")
    assert figure(body, "share").startswith("33.3 %") and "(1 / 3)" in figure(body, "share")
    assert figure(body, "cg-n").startswith("1 ")
    assert figure(body, "cg-before").startswith("3,000") and figure(body, "cg-after").startswith("3,300")
    assert "10.0 %" in figure(body, "cg-change") and figure(body, "difference").startswith("10.0")
    # Per-household rows for the officer who may see them; L5 (no baseline) is not among them.
    for key in ("L1", "L2", "L3", "L4"):
        assert f'data-household="{fixture[key].code}"' in body
    assert f'data-household="{fixture["L5"].code}"' not in body
    assert 'id="caveats"' in body and "khm-chart-bar" in body and "khm-chart-stack" in body


def test_export_has_the_same_figures(world: World, fixture: dict[str, Any]):
    r = client_for(world.cast.dara).get("/livelihoods/impact/export.csv", {"area": "4601"})
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    from django.utils.translation import gettext, override

    with override("th"):  # the export speaks the page's language: Thai by default
        linked_label, comparison_label = gettext("Linked households"), gettext("Comparison group")
    assert linked_label != "Linked households"
    linked = next(row for row in rows if row and row[0] == linked_label)
    assert linked[1:] == ["4", "3", "3500.0", "4100.0", "1000.0", "20.0", "1", "33.3"]
    comparison = next(row for row in rows if row and row[0] == comparison_label)
    assert comparison[1:] == ["1", "1", "3000.0", "3300.0", "300.0", "10.0", "0", "0.0"]
    assert any(row and row[0] == fixture["L1"].code for row in rows)  # the household sheet


def test_small_groups_are_withheld_from_those_who_cannot_see_the_households(world: World, fixture: dict[str, Any]):
    analyst = client_for(world.cast.analyst)
    body = analyst.get("/livelihoods/impact/").content.decode()
    assert 'id="suppressed"' in body and 'data-figure="before"' not in body
    assert all(h.code not in body for h in fixture.values())
    # A fifth household with both periods makes the group big enough to show (still no household rows).
    h = new_household(world.cast.ploy, "46010101", "30")
    assess(h, D(2024, 6, 1), level=2)
    services.link_create(
        actor=world.cast.ploy, enterprise=world.weavers, household=h, role="member", started_on=D(2025, 1, 1)
    )
    income(world.cast.ploy, h, BASE, 24_000)
    income(world.cast.ploy, h, FOLLOW, 18_000)  # 2,000 → 3,000: +50 %
    body = analyst.get("/livelihoods/impact/").content.decode()
    assert 'id="suppressed"' not in body and figure(body, "n").startswith("5 ")
    assert figure(body, "share").startswith("50.0 %")  # L1 and the new one: 2 of 4
    assert all(x.code not in body for x in [*fixture.values(), h])
    export = analyst.get("/livelihoods/impact/export.csv").content.decode("utf-8-sig")
    assert all(x.code not in export for x in [*fixture.values(), h])


def test_an_officer_of_another_district_sees_none_of_it(world: World, fixture: dict[str, Any]):
    body = client_for(world.cast.somchai).get("/livelihoods/impact/", {"area": "4601"}).content.decode()
    assert 'data-figure="n"' not in body
    assert all(h.code not in body for h in fixture.values())
