"""Demo fieldwork: a verification campaign over Mueang Kalasin district (4601) for this
round, its households given to the demo volunteer (their village) and the demo local officer
(their other villages), about a third already verified with realistic outcomes, and one
sync conflict waiting in the officers' queue. The phone app (/m/) then has real work for
the user ``volunteer``."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

ROUND = "2568"
OUTCOMES = [
    ("confirmed_poor", 0.72),
    ("not_poor", 0.12),
    ("moved", 0.06),
    ("not_found", 0.05),
    ("deceased", 0.03),
    ("duplicate", 0.02),
]


def _pick(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for value, p in OUTCOMES:
        acc += p
        if x < acc:
            return value
    return OUTCOMES[0][0]


def seed_fieldwork(*, seed: int = 46, verified_share: float = 0.35) -> list[str]:
    from django.db import transaction

    with transaction.atomic():  # all or nothing, so a second run is never half-way
        return _seed(seed, verified_share)


def _seed(seed: int, verified_share: float) -> list[str]:
    from khm.accounts.models import User
    from khm.accounts.scoping import scope_for
    from khm.fieldwork import services
    from khm.fieldwork.models import Assignment, AssignmentStatus, Campaign, Method
    from khm.registry import services as registry

    if Campaign.objects.exists():
        return ["campaigns already exist: left as they are"]
    users = {u.username: u for u in User.objects.filter(username__in=["admin", "district", "local", "volunteer"])}
    if len(users) < 4:
        return ["demo users missing: no campaign"]
    rng = random.Random(seed)
    campaign = services.campaign_create(
        actor=users["district"],
        name="ตรวจสอบครัวเรือน อ.เมืองกาฬสินธุ์ 2568",
        area_code="4601",
        round=ROUND,
        selection="all",
        due_on=dt.date(2026, 3, 31),
    )
    vol_scope = scope_for(users["volunteer"], "verification.submit")
    local_scope = scope_for(users["local"], "verification.submit")
    areas = sorted(set(Assignment.objects.filter(campaign=campaign).values_list("area_code", flat=True)))
    vol_villages = [a for a in areas if vol_scope.contains(a)]
    local_villages = [a for a in areas if local_scope.contains(a) and a not in vol_villages]
    n_vol = services.campaign_assign(
        actor=users["district"], campaign=campaign, assignee=users["volunteer"], villages=vol_villages
    )
    n_local = services.campaign_assign(
        actor=users["district"], campaign=campaign, assignee=users["local"], villages=local_villages
    )
    # The local officer has verified about a third of theirs (desk and field visits); the
    # volunteer's stay open for the phone app.
    todo = list(
        Assignment.objects.filter(campaign=campaign, assignee=users["local"]).select_related("household").order_by("pk")
    )
    done = 0
    for a in todo:
        if rng.random() > verified_share:
            continue
        outcome = _pick(rng)
        payload: dict[str, Any] = {
            "outcome": outcome,
            "verified_on": (dt.date(2025, 11, 3) + dt.timedelta(days=rng.randrange(60))).isoformat(),
            "consent": True,
            "notes": {
                "confirmed_poor": "ยืนยันตามบัญชี",
                "not_poor": "มีรายได้ประจำ",
                "moved": "",
                "not_found": "ไม่พบบ้านตามที่อยู่",
                "deceased": "ผู้อยู่อาศัยคนเดียวเสียชีวิต",
                "duplicate": "",
            }[outcome],
        }
        if outcome == "moved":
            payload["moved_to"] = "กรุงเทพมหานคร"
        if outcome == "duplicate":
            other = Assignment.objects.filter(campaign=campaign, area_code=a.area_code).exclude(pk=a.pk).first()
            if other is None:
                continue
            payload["duplicate_of"] = other.household.code
        services.verification_submit(
            actor=users["local"], key=f"demo-{campaign.code}-{a.pk}", household=a.household, payload=payload,
            method=Method.DESK, campaign=campaign,
        )  # fmt: skip
        done += 1
    lines = [
        f"campaign {campaign.code}: {n_vol + n_local} households assigned "
        f"({n_vol} to volunteer, {n_local} to local), {done} verified"
    ]
    # One conflict for the queue: the office corrected a house number after the local
    # officer's phone downloaded it, and the phone sent another correction. (The
    # volunteer's households stay open for the phone app.)
    first = (
        Assignment.objects.filter(campaign=campaign, assignee=users["local"])
        .exclude(status=AssignmentStatus.DONE)
        .select_related("household")
        .order_by("pk")
        .first()
    )
    if first is not None:
        h = first.household
        old = h.house_no
        registry.household_update(actor=users["district"], household=h, house_no=f"{old}/9")
        Assignment.objects.filter(pk=first.pk).update(status=AssignmentStatus.DOWNLOADED)
        services.verification_submit(
            actor=users["local"], key=f"demo-{campaign.code}-conflict", household=h,
            payload={"outcome": "confirmed_poor", "verified_on": "2025-12-10", "consent": True,
                     "notes": "เลขที่บ้านตามป้ายหน้าบ้าน", "gps": {"lat": 16.44, "lon": 103.51, "accuracy": 9},
                     "base": {"household": {"house_no": old}}, "changes": {"household": {"house_no": f"{old}/1"}}},
            campaign=campaign,
        )  # fmt: skip
        lines.append(f"one sync conflict waits at /fieldwork/conflicts/ (household {h.code})")
    return lines
