"""Agreements (MOUs) between organisations, and the collaboration network they and the
forums make: which organisations signed with which, and which joined which forums."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from khm.accounts.models import Organisation
from khm.accounts.scoping import can
from khm.areas.models import Area
from khm.audit.services import audit_record
from khm.core.problems import Invalid, Problem
from khm.forums.models import Agreement, Forum
from khm.registry.models import new_code


class AgreementInvalid(Invalid):
    """What is wrong with an agreement, each problem naming its field."""


def agreement_create(
    *,
    actor: Any,
    title: str,
    parties: Sequence[Organisation],
    scope: str,
    areas: Sequence[str],
    signed_on: dt.date | None,
    starts_on: dt.date | None,
    ends_on: dt.date | None = None,
) -> Agreement:
    problems = []
    if not title.strip():
        problems.append(Problem("title", "ต้องมีชื่อบันทึกข้อตกลง", "a title is required"))
    if len({p.pk for p in parties}) < 2:
        problems.append(Problem("parties", "ต้องมีคู่ภาคีอย่างน้อยสองหน่วยงาน", "an agreement needs at least two parties"))
    if not scope.strip():
        problems.append(Problem("scope", "ต้องระบุขอบเขตความร่วมมือ", "describe the scope of cooperation"))
    known = set(Area.objects.filter(code__in=list(areas)).values_list("code", flat=True))
    for code in areas:
        if code not in known:
            problems.append(Problem("areas", f"ไม่พบพื้นที่รหัส {code}", f"no area with code {code}"))
    if not areas:
        problems.append(Problem("areas", "ต้องระบุพื้นที่อย่างน้อยหนึ่งแห่ง", "name at least one area"))
    if signed_on is None:
        problems.append(Problem("signed_on", "ต้องระบุวันที่ลงนาม", "the signing date is required"))
    if starts_on is None:
        problems.append(Problem("starts_on", "ต้องระบุวันเริ่มต้น", "the start date is required"))
    if starts_on and ends_on and ends_on < starts_on:
        problems.append(Problem("ends_on", "วันสิ้นสุดต้องไม่ก่อนวันเริ่มต้น", "the end cannot be before the start"))
    if problems:
        raise AgreementInvalid(problems)
    if not all(can(actor, "agreement.manage", code) for code in areas):
        raise PermissionDenied
    assert signed_on is not None and starts_on is not None
    with transaction.atomic():
        a = Agreement.objects.create(
            ref=new_code("M"), title=title.strip(), scope=scope.strip(), areas=sorted(set(areas)),
            signed_on=signed_on, starts_on=starts_on, ends_on=ends_on, created_by=actor,
        )  # fmt: skip
        a.parties.set(list(parties))
        audit_record(
            actor=actor, action="agreement.create", object_type="agreement", object_ref=a.ref,
            area_code=min(a.areas, key=len), changes={"parties": sorted(p.code for p in parties)},
        )  # fmt: skip
    return a


def in_force(a: Agreement, on: dt.date) -> bool:
    return a.starts_on <= on and (a.ends_on is None or on <= a.ends_on)


@dataclass
class Network:
    """Organisations and what ties them: agreements signed together and forums attended
    together (edge weights), plus each organisation's counts."""

    nodes: list[Organisation] = field(default_factory=list)
    agreements: Counter[int] = field(default_factory=Counter)
    forums: Counter[int] = field(default_factory=Counter)
    edges: Counter[tuple[int, int]] = field(default_factory=Counter)


def network(agreements: Sequence[Agreement], forums: Sequence[Forum]) -> Network:
    """The network of the given (already scoped) agreements and forums."""
    net = Network()
    orgs: dict[int, Organisation] = {}
    for group, counter in (
        ([list(a.parties.all()) for a in agreements], net.agreements),
        ([list(f.organisations.all()) for f in forums], net.forums),
    ):
        for members in group:
            for o in members:
                orgs[o.pk] = o
                counter[o.pk] += 1
            ids = sorted(o.pk for o in members)
            for i, a in enumerate(ids):
                for b in ids[i + 1 :]:
                    net.edges[(a, b)] += 1
    net.nodes = sorted(orgs.values(), key=lambda o: (-(net.agreements[o.pk] + net.forums[o.pk]), o.name_th))
    return net
