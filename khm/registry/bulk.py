"""Bulk loading of generated (or already validated) households into the registry.

Used by the synthetic population command, the benchmarks and the commit of an import
batch (khm/sources, inside its one transaction). It bypasses the per-row
services and the ORM's per-object overhead (plain ``executemany`` on the same tables, one
transaction per batch), so it writes one audit event per batch. It is only reachable from
management commands, never from a page or the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from khm.areas.models import Area, AreaLevel
from khm.audit.services import audit_record
from khm.core.crypto import encrypt, lookup_hash
from khm.engines.synth import SynthHousehold
from khm.registry.models import Household, HouseholdStatus, MembershipEvent, PersonStatus, new_code


@dataclass
class BulkResult:
    households: int = 0
    people: int = 0


def _chunks(it: Iterable[SynthHousehold], size: int) -> Iterator[list[SynthHousehold]]:
    iterator = iter(it)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _ids(cursor: Any, table: str, key: str, values: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i in range(0, len(values), 900):  # stay under SQLite's 999 parameters
        part = values[i : i + 900]
        cursor.execute(
            f"SELECT {key}, id FROM {table} WHERE {key} IN ({', '.join(['%s'] * len(part))})",  # noqa: S608 (fixed names)
            part,
        )
        found.update(cursor.fetchall())
    return found


def insert_households(cur: Any, chunk: Sequence[SynthHousehold], villages: dict[str, int], now: Any) -> list[list[int]]:
    """Insert households, their people and memberships with ``executemany`` on ``cur``,
    inside the caller's transaction. Returns the new person ids, per household, in member
    order. A person without a national ID (``""``) is stored without one."""
    cur.executemany(
        "INSERT INTO registry_household (code, village_id, area_code, house_no, address_extra, status, "
        "created_at, updated_at) VALUES (%s, %s, %s, %s, '', %s, %s, %s)",
        [
            (h.code, villages[h.village_code], h.village_code, h.house_no, HouseholdStatus.ACTIVE, now, now)
            for h in chunk
        ],
    )
    hh_ids = _ids(cur, "registry_household", "code", [h.code for h in chunk])
    rows: list[tuple[Any, ...]] = []
    refs: list[tuple[str, int, str]] = []
    per_household: list[list[str]] = []
    for h in chunk:
        hid = hh_ids[h.code]
        mine: list[str] = []
        for m in h.members:
            ref = new_code("P", 10)
            mine.append(ref)
            refs.append((ref, hid, m.relation))
            nid = m.national_id
            rows.append(
                (ref, hid, encrypt(nid) if nid else "", lookup_hash(nid) if nid else None, m.title, m.first_name,
                 m.last_name, m.sex, m.birth_date, m.relation, m.disability, m.chronic_illness, m.education,
                 m.occupation, m.income_year, PersonStatus.MEMBER, now, now)
            )  # fmt: skip
        per_household.append(mine)
    cur.executemany(
        "INSERT INTO registry_person (ref, household_id, national_id_enc, national_id_hash, title, first_name, "
        "last_name, first_name_en, last_name_en, sex, birth_date, relation, disability, chronic_illness, "
        "education, occupation, income_year, status, created_at, updated_at) VALUES "
        "(%s, %s, %s, %s, %s, %s, %s, '', '', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        rows,
    )
    person_ids = _ids(cur, "registry_person", "ref", [r[0] for r in refs])
    cur.executemany(
        "INSERT INTO registry_membership (person_id, household_id, relation, start_event, end_event, note, "
        "created_at) VALUES (%s, %s, %s, %s, '', '', %s)",
        [(person_ids[ref], hid, rel, MembershipEvent.REGISTERED, now) for ref, hid, rel in refs],
    )
    return [[person_ids[ref] for ref in mine] for mine in per_household]


def load_households(
    households: Iterable[SynthHousehold], *, actor: Any = None, batch: int = 5000, note: str = ""
) -> BulkResult:
    villages = dict(Area.objects.filter(level=AreaLevel.VILLAGE).values_list("code", "id"))
    result = BulkResult()
    for chunk in _chunks(households, batch):
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cur:
            ids = insert_households(cur, chunk, villages, now)
            people = sum(len(x) for x in ids)
            audit_record(
                actor=actor,
                action="registry.bulk_load",
                object_type="household",
                object_ref=f"{chunk[0].code}..{chunk[-1].code}"[:60],
                changes={"households": len(chunk), "people": people},
                note=note[:500],
            )
        result.households += len(chunk)
        result.people += people
    return result


def registry_is_empty() -> bool:
    return not Household.objects.exists()
