"""Demo livelihoods: enterprises in several districts, linked households with a baseline and
follow-ups, comparison households never linked, the impact page shows it, idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from khm.demo.livelihoods import PROGRAMME, seed_livelihoods

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> list[str]:
    from khm.areas.loaders import load_all
    from khm.demo.assessments import seed_assessments
    from khm.demo.referrals import seed_referrals
    from khm.demo.seed import seed_organisations_and_users

    load_all(boundaries=False)
    seed_organisations_and_users()
    call_command("generate_population", people=4000, seed=46, area="46", stdout=StringIO())
    seed_assessments(seed=46)
    seed_referrals(seed=46)
    return seed_livelihoods(seed=46)


def test_enterprises_links_incomes_and_impact(demo: list[str]):
    from khm.accounts.models import User
    from khm.livelihoods import selectors
    from khm.livelihoods.models import Enterprise, IncomeRecord, Link

    enterprises = list(Enterprise.objects.all())
    assert len(enterprises) == 6 and len({e.area_code[:4] for e in enterprises}) == 6
    assert {"4601", "4605"} <= {e.area_code[:4] for e in enterprises}
    assert all(e.needs.exists() and e.support.exists() and e.registration_no for e in enterprises)
    links = Link.objects.all()
    assert links.count() >= 20 and all(link.programme == PROGRAMME for link in links)
    assert links.filter(assistance__kind="enterprise_support").count() == links.count()
    assert (
        IncomeRecord.objects.filter(method="import").exists() and IncomeRecord.objects.filter(method="mobile").exists()
    )
    admin = User.objects.get(username="admin")
    imp = selectors.impact(admin, programme=PROGRAMME)
    lk, cg = imp.comparison.linked, imp.comparison.comparison
    assert lk.n == len({link.household_id for link in links}) and cg.n >= lk.n
    assert lk.pct_median is not None and cg.pct_median is not None and lk.pct_median > cg.pct_median
    assert demo[-1].startswith("impact: median change")
    c = Client()
    c.force_login(User.objects.get(username="district"))
    page = c.get("/livelihoods/impact/")
    assert page.status_code == 200 and 'data-figure="share"' in page.content.decode()
    assert seed_livelihoods(seed=46) == ["enterprises already exist: left as they are"]
