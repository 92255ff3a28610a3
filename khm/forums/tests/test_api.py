"""The forums API: forums and agendas of the caller's area only, a resolution recorded and in
effect (201), bad input named in Thai and English (422), and a household's standing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from khm.forums import services
from khm.forums.models import ItemKind, Standing
from khm.forums.standing import status_of
from khm.forums.tests.conftest import HELD_ON, items_of, put_on_source_list

pytestmark = pytest.mark.django_db


def client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _forum_with_item(cast: Any, forum_of: Any) -> Any:
    put_on_source_list(cast.household)
    f = forum_of("46010101")
    services.agenda_build(actor=cast.ploy, forum=f)
    return f


def test_forums_and_their_agenda_for_the_callers_area(cast, forum_of):
    f = _forum_with_item(cast, forum_of)
    body = client(cast.ploy).get("/api/v1/forums").json()
    assert [x["ref"] for x in body] == [f.ref] and body[0]["level"] == 4
    agenda = client(cast.ploy).get(f"/api/v1/forums/{f.ref}/agenda").json()
    assert [(i["kind"], i["household"]) for i in agenda] == [(ItemKind.UNVERIFIED, cast.household.code)]
    assert client(cast.somchai).get("/api/v1/forums").json() == []
    assert client(cast.somchai).get(f"/api/v1/forums/{f.ref}/agenda").status_code == 404


def test_a_resolution_through_the_api_takes_effect(cast, forum_of):
    f = _forum_with_item(cast, forum_of)
    [item] = items_of(f, ItemKind.UNVERIFIED)
    url = f"/api/v1/forums/{f.ref}/agenda/{item.number}/resolution"
    body = {"kind": "confirm_poor", "text": "รับรอง", "decided_on": str(HELD_ON),
            "signatures": [{"name": "นายบุญส่ง แก้วมณี", "role": "ประธาน"}]}  # fmt: skip
    r = client(cast.ploy).post(url, body, content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["resolution"]["kind"] == "confirm_poor" and r.json()["status"] == "decided"
    assert status_of(cast.household) == Standing.CONFIRMED
    again = client(cast.ploy).post(url, body, content_type="application/json")
    assert again.status_code == 422
    assert again.json()["errors"][0]["message_en"] == "this item is already decided"
    standing = client(cast.ploy).get(f"/api/v1/households/{cast.household.code}/standing").json()
    assert standing["status"] == "confirmed" and standing["since"] == str(HELD_ON)


def test_bad_resolutions_are_named_in_thai_and_english(cast, forum_of):
    f = _forum_with_item(cast, forum_of)
    [item] = items_of(f, ItemKind.UNVERIFIED)
    url = f"/api/v1/forums/{f.ref}/agenda/{item.number}/resolution"
    r = client(cast.ploy).post(
        url, {"kind": "approve_graduation", "text": " ", "decided_on": str(HELD_ON)}, content_type="application/json"
    )
    assert r.status_code == 422
    errors = {e["field"]: (e["message_th"], e["message_en"]) for e in r.json()["errors"]}
    assert errors["kind"][1] == "this kind of resolution does not fit the item" and errors["kind"][0]
    assert errors["text"] == ("ต้องมีข้อความมติ", "the resolution text is required")
    assert status_of(cast.household) == Standing.LISTED
    outsider = client(cast.somchai).post(url, {"kind": "confirm_poor", "text": "x", "decided_on": str(HELD_ON)},
                                         content_type="application/json")  # fmt: skip
    assert outsider.status_code == 404
    assert client(cast.analyst).get("/api/v1/forums").status_code == 403
