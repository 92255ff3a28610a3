"""Role-matrix probes for this app's actions (merged into tests/test_role_matrix.py): each
performs the action through its real page and says whether it worked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.test import Client


def _forum(cast: Any) -> Any:
    from khm.forums import services

    return services.forum_create(
        actor=cast.admin,
        data=services.ForumInput(
            area_code="4601", round="2568", title="เวทีแก้จนอำเภอเมือง (probe)", held_on=dt.date(2025, 12, 1),
            place="ที่ว่าการอำเภอ",
        ),
    )  # fmt: skip


def _agreement(cast: Any) -> Any:
    from khm.forums import agreements

    return agreements.agreement_create(
        actor=cast.admin, title="บันทึกข้อตกลงทดลอง (probe)", parties=[cast.orgs["province"], cast.orgs["lga"]],
        scope="ร่วมกันแก้จน", areas=["46"], signed_on=dt.date(2025, 5, 1), starts_on=dt.date(2025, 5, 1),
    )  # fmt: skip


def probe_forum_view(c: Client, cast: Any) -> bool:
    f = _forum(cast)
    listing = c.get("/forums/")
    if listing.status_code != 200 or f.ref not in listing.content.decode():
        return False
    page = c.get(f"/forums/{f.ref}/")
    return page.status_code == 200 and f.title in page.content.decode()


def probe_forum_manage(c: Client, cast: Any) -> bool:
    from khm.forums.models import Forum

    r = c.post(
        "/forums/new/",
        {"area": "4601", "round": "2568", "title": "เวทีใหม่ (probe)", "held_on": "1/12/2568", "place": "ศาลา"},
    )
    return r.status_code == 302 and Forum.objects.filter(title="เวทีใหม่ (probe)", area_code="4601").exists()


def probe_posting_manage(c: Client, cast: Any) -> bool:
    from khm.forums.models import Posting

    r = c.post(
        "/forums/postings/",
        {"village": "46010101", "round": "2568", "opens_on": "1/11/2568", "days": "15", "appeal_days": "15"},
    )
    return r.status_code == 302 and Posting.objects.filter(area_code="46010101", round="2568").exists()


def probe_agreement_view(c: Client, cast: Any) -> bool:
    a = _agreement(cast)
    r = c.get("/forums/agreements/")
    return r.status_code == 200 and a.ref in r.content.decode() and a.title in r.content.decode()


def probe_agreement_manage(c: Client, cast: Any) -> bool:
    from khm.forums.models import Agreement

    r = c.post(
        "/forums/agreements/new/",
        {
            "title": "MOU ใหม่ (probe)",
            "parties": [str(cast.orgs["province"].pk), str(cast.orgs["agency"].pk)],
            "scope": "ซ่อมบ้านผู้ยากไร้",
            "areas": "46",
            "signed_on": "1/5/2568",
            "starts_on": "1/5/2568",
        },
    )
    return r.status_code == 302 and Agreement.objects.filter(title="MOU ใหม่ (probe)").exists()


PROBES: dict[str, Callable[[Client, Any], bool]] = {
    "forum.view": probe_forum_view,
    "forum.manage": probe_forum_manage,
    "posting.manage": probe_posting_manage,
    "agreement.view": probe_agreement_view,
    "agreement.manage": probe_agreement_manage,
}
