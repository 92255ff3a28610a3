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


def reserve_ids(cur: Any, table: str, n: int) -> list[int]:
    """``n`` fresh primary keys of ``table``, taken before inserting so that no lookup of
    the new rows is needed afterwards. PostgreSQL hands them out from the column's
    sequence; SQLite continues after the highest key ever used (the caller's transaction
    holds SQLite's one write lock, so nobody else can take them meanwhile)."""
    if n <= 0:
        return []
    if connection.vendor == "postgresql":
        cur.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", [n])  # noqa: S608
        return [int(r[0]) for r in cur.fetchall()]
    cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 (fixed names)
    top = int(cur.fetchone()[0])
    cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")
    if cur.fetchone():  # AUTOINCREMENT never reuses a key, even of a deleted row
        cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        seq = cur.fetchone()
        top = max(top, int(seq[0]) if seq else 0)
    return list(range(top + 1, top + 1 + n))


def insert_households(cur: Any, chunk: Sequence[SynthHousehold], villages: dict[str, int], now: Any) -> list[list[int]]:
    """Insert households, their people and memberships with ``executemany`` on ``cur``,
    inside the caller's transaction. Returns the new person ids, per household, in member
    order. A person without a national ID (``""``) is stored without one."""
    now = connection.ops.adapt_datetimefield_value(now)  # once, not for every row
    hh_ids = reserve_ids(cur, "registry_household", len(chunk))
    cur.executemany(
        "INSERT INTO registry_household (id, code, village_id, area_code, house_no, address_extra, status, "
        "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, '', %s, %s, %s)",
        [
            (hid, h.code, villages[h.village_code], h.village_code, h.house_no, HouseholdStatus.ACTIVE, now, now)
            for hid, h in zip(hh_ids, chunk, strict=True)
        ],
    )
    person_ids = iter(reserve_ids(cur, "registry_person", sum(len(h.members) for h in chunk)))
    rows: list[tuple[Any, ...]] = []
    members: list[tuple[int, int, str]] = []
    per_household: list[list[int]] = []
    for hid, h in zip(hh_ids, chunk, strict=True):
        mine: list[int] = []
        for m in h.members:
            pid = next(person_ids)
            mine.append(pid)
            members.append((pid, hid, m.relation))
            nid = m.national_id
            rows.append(
                (pid, new_code("P", 10), hid, encrypt(nid) if nid else "", lookup_hash(nid) if nid else None, m.title,
                 m.first_name, m.last_name, m.sex, m.birth_date, m.relation, m.disability, m.chronic_illness,
                 m.education, m.occupation, m.income_year, PersonStatus.MEMBER, now, now)
            )  # fmt: skip
        per_household.append(mine)
    cur.executemany(
        "INSERT INTO registry_person (id, ref, household_id, national_id_enc, national_id_hash, title, first_name, "
        "last_name, first_name_en, last_name_en, sex, birth_date, relation, disability, chronic_illness, "
        "education, occupation, income_year, status, created_at, updated_at) VALUES "
        "(%s, %s, %s, %s, %s, %s, %s, %s, '', '', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        rows,
    )
    cur.executemany(
        "INSERT INTO registry_membership (person_id, household_id, relation, start_event, end_event, note, "
        "created_at) VALUES (%s, %s, %s, %s, '', '', %s)",
        [(pid, hid, rel, MembershipEvent.REGISTERED, now) for pid, hid, rel in members],
    )
    return per_household


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
