"""Bulk loading of generated (or already validated) households into the registry.

Used by the synthetic population command and the benchmarks. It bypasses the per-row
services for speed, so it writes one audit event per batch, and it is only reachable from
management commands (never from a page or the API).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.db import transaction

from khm.areas.models import Area, AreaLevel
from khm.audit.services import audit_record
from khm.core.crypto import encrypt, lookup_hash
from khm.engines.synth import SynthHousehold
from khm.registry.models import Household, Membership, MembershipEvent, Person, new_code


@dataclass
class BulkResult:
    households: int = 0
    people: int = 0


def _chunks(it: Iterable[SynthHousehold], size: int) -> Iterator[list[SynthHousehold]]:
    iterator = iter(it)
    while chunk := list(islice(iterator, size)):
        yield chunk


def load_households(
    households: Iterable[SynthHousehold], *, actor: Any = None, batch: int = 2000, note: str = ""
) -> BulkResult:
    villages = dict(Area.objects.filter(level=AreaLevel.VILLAGE).values_list("code", "id"))
    result = BulkResult()
    for chunk in _chunks(households, batch):
        with transaction.atomic():
            hh_objs = [
                Household(
                    code=h.code, village_id=villages[h.village_code], area_code=h.village_code, house_no=h.house_no
                )
                for h in chunk
            ]
            Household.objects.bulk_create(hh_objs, batch_size=batch)
            if any(o.pk is None for o in hh_objs):  # databases that return no ids
                ids = dict(Household.objects.filter(code__in=[o.code for o in hh_objs]).values_list("code", "id"))
                for o in hh_objs:
                    o.pk = ids[o.code]
            people: list[Person] = []
            for h, hh in zip(chunk, hh_objs, strict=True):
                for m in h.members:
                    people.append(
                        Person(
                            ref=new_code("P", 10),
                            household_id=hh.pk,
                            national_id_enc=encrypt(m.national_id),
                            national_id_hash=lookup_hash(m.national_id),
                            title=m.title,
                            first_name=m.first_name,
                            last_name=m.last_name,
                            sex=m.sex,
                            birth_date=m.birth_date,
                            relation=m.relation,
                            disability=m.disability,
                            chronic_illness=m.chronic_illness,
                            education=m.education,
                            occupation=m.occupation,
                            income_year=m.income_year,
                        )
                    )
            Person.objects.bulk_create(people, batch_size=batch * 4)
            if any(p.pk is None for p in people):
                ids = dict(Person.objects.filter(ref__in=[p.ref for p in people]).values_list("ref", "id"))
                for p in people:
                    p.pk = ids[p.ref]
            Membership.objects.bulk_create(
                [
                    Membership(
                        person_id=p.pk,
                        household_id=p.household_id,
                        relation=p.relation,
                        start_event=MembershipEvent.REGISTERED,
                    )
                    for p in people
                ],
                batch_size=batch * 4,
            )
            audit_record(
                actor=actor,
                action="registry.bulk_load",
                object_type="household",
                object_ref=f"{chunk[0].code}..{chunk[-1].code}",
                area_code="",
                changes={"households": len(chunk), "people": len(people)},
                note=note[:500],
            )
        result.households += len(chunk)
        result.people += len(people)
    return result


def registry_is_empty() -> bool:
    return not Household.objects.exists()
