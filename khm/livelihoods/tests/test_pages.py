"""Pages render for the roles that may use them, and the household page carries the
livelihood panel for those who see the household."""

from __future__ import annotations

import datetime as dt

import pytest

from khm.livelihoods import services
from khm.livelihoods.tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["admin", "dara", "ploy", "vee", "agency", "analyst"])
def test_directory_and_enterprise_page_render(world: World, who: str):
    c = client_for(getattr(world.cast, who))
    listing = c.get("/livelihoods/")
    assert listing.status_code == 200 and world.weavers.name_th in listing.content.decode()
    page = c.get(f"/livelihoods/e/{world.weavers.code}/")
    assert page.status_code == 200 and "4-46-01-01/1-0012" in page.content.decode()


def test_household_page_panel(world: World):
    cast = world.cast
    services.link_create(
        actor=cast.ploy,
        enterprise=world.weavers,
        household=cast.household,
        role="member",
        started_on=dt.date(2025, 1, 1),
    )
    body = client_for(cast.vee).get(f"/households/{cast.household.code}/").content.decode()
    assert 'id="livelihood"' in body and world.weavers.name_th in body
    assert f"/livelihoods/households/{cast.household.code}/income/" in body  # volunteers record income
    assert f"/livelihoods/households/{cast.household.code}/link/" not in body  # but do not link
    assert client_for(cast.somchai).get(f"/households/{cast.household.code}/").status_code == 404
    page = client_for(cast.ploy).get(f"/livelihoods/households/{cast.household.code}/")
    assert page.status_code == 200 and world.weavers.name_th in page.content.decode()
    for who in ("agency", "analyst", "nobody"):
        assert client_for(getattr(cast, who)).get(f"/livelihoods/households/{cast.household.code}/").status_code in (
            403,
            404,
        )
