"""Household composition checks (issue 3): what registries elsewhere learned the hard way.

``run_checks`` looks at the registry (and at the household keys of committed source lists)
for compositions that are usually a data error, and files a ``CompositionFlag`` for each
one in the review queue (``checks_views``). It is set-based: one read of the people and
households in scope into Polars frames and one SQL aggregate for open memberships, then
joins and group-bys, so a whole province of 1,000,000 people takes seconds (see
docs/composition-checks.md for the rules and the measured time).

Every flag has a ``key`` made of its kind and the ids involved; the key is unique, so
running the checks again (after every import commit) never files the same flag twice,
and a flag a reviewer dismissed stays dismissed. Flag details carry codes and counts only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import CharField, Count, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from khm.accounts.scoping import Scope, scope_for
from khm.areas.models import code_range
from khm.audit.services import audit_record
from khm.registry.models import Household, HouseholdStatus, Membership, Person, PersonStatus, Relation
from khm.sources.models import (
    BatchStatus,
    CompositionFlag,
    FlagKind,
    FlagStatus,
    ImportBatch,
    ReviewStatus,
    RowOutcome,
    SourceKind,
    StagedRow,
)

ACTION = "source.import"

MAX_AGE = 110  # older than this is almost always a wrong birth year (BE/CE mix-ups)
ADULT_AGE = 15  # heads of household and spouses are at least this old
PARENT_GAP = 12  # a parent of the head is at least this many years older than the head

FLAG_DONE = _("This check has already been decided.")
STATUS_INVALID = _("Choose to confirm or to dismiss the check.")
AREA_INVALID = _("Not an area code: %(code)s")

# What a flag means, in words, by its reason (details["reason"]); %(...)s from details.
REASONS: dict[str, Any] = {
    "shared_address": _("%(count)s one-person households have the same house number in this village."),
    "open_memberships": _("This person is a current member of %(count)s households at once."),
    "same_person": _("Same first name, last name and birth date as a person in another household of this subdistrict."),
    "split": _(
        "In the %(source)s list, the %(people)s people of one household of round %(old)s are in "
        "%(groups)s households in round %(new)s."
    ),
    "merged": _(
        "In the %(source)s list, %(people)s people from %(groups)s households of round %(old)s are one "
        "household in round %(new)s."
    ),
    "over_max_age": _("Aged %(age)s: older than 110 years."),
    "future_birth": _("The birth date is after today."),
    "young_head": _("Head of household aged %(age)s: younger than 15."),
    "child_older": _("Recorded as a child of the head but older than the head (child %(age)s, head %(head_age)s)."),
    "parent_young": _(
        "Recorded as a parent of the head but less than 12 years older (parent %(age)s, head %(head_age)s)."
    ),
    "young_spouse": _("Spouse aged %(age)s: younger than 15."),
    "many_heads": _("%(heads)s people are recorded as head of this household."),
    "no_head": _("Nobody is recorded as head of this household (%(members)s members)."),
}

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_SPACES = re.compile(r"\s+")
_KEY_MAX = 200


@dataclass
class _Flag:
    kind: str
    key: str
    area_code: str
    household_id: int | None = None
    other_household_id: int | None = None
    person_id: int | None = None
    batch_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # Every area the flag touches: it is kept when one of them is in the checked areas.
    areas: tuple[str, ...] = ()


def _key(kind: str, *parts: object) -> str:
    key = ":".join([kind, *(str(p) for p in parts)])
    if len(key) <= _KEY_MAX:
        return key
    return f"{kind}:{hashlib.sha256(key.encode()).hexdigest()}"


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:24]


def normalise_house_no(value: str) -> str:
    """House numbers as people write them: Thai digits, spaces, "บ้านเลขที่" prefixes."""
    text = _SPACES.sub("", (value or "").translate(_THAI_DIGITS)).lower()
    for prefix in ("บ้านเลขที่", "เลขที่", "บ้าน", "no.", "#"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


def _age_expr(birth: pl.Expr, today: dt.date) -> pl.Expr:
    """Completed years on ``today`` (as khm.core.dates.age_on), in Polars."""
    before_birthday = (birth.dt.month() * 100 + birth.dt.day()) > (today.month * 100 + today.day)
    return (pl.lit(today.year) - birth.dt.year()).cast(pl.Int32) - before_birthday.cast(pl.Int32)


def _frame(qs: QuerySet[Any], schema: dict[str, Any]) -> pl.DataFrame:
    """The rows of a ``values_list`` query as a DataFrame.

    Fetched through a chunked cursor (server-side on PostgreSQL) in slices, without the
    ORM's per-row work: at a million rows that is most of the time of a check. Columns are
    numbers and text only (dates come as ISO text and are parsed by Polars).
    """
    sql, params = qs.query.sql_with_params()
    frames: list[pl.DataFrame] = []
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(50_000):
            columns = list(zip(*chunk, strict=True))
            frames.append(pl.DataFrame(dict(zip(schema, columns, strict=True)), schema=schema))
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def _scope_of(area_codes: Iterable[str] | None) -> Scope | None:
    if area_codes is None:
        return None
    codes = {c.strip() for c in area_codes}
    for c in codes:
        try:
            code_range(c)
        except ValueError:
            raise ValidationError({"area": AREA_INVALID % {"code": c}}) from None
    return Scope(prefixes=frozenset(codes))


def _filtered(qs: QuerySet[Any], scope: Scope | None, field_name: str) -> QuerySet[Any]:
    return qs if scope is None else qs.filter(scope.q(field_name))


# ---------------------------------------------------------------------------------------
# Loading


def _load(scope: Scope | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Active households and their current members in ``scope``."""
    households = _frame(
        _filtered(Household.objects.filter(status=HouseholdStatus.ACTIVE), scope, "area_code")
        .order_by()
        .values_list("id", "code", "area_code", "house_no"),
        {"household_id": pl.Int64, "code": pl.String, "area_code": pl.String, "house_no": pl.String},
    )
    people = _frame(
        _filtered(
            Person.objects.filter(status=PersonStatus.MEMBER, household__status=HouseholdStatus.ACTIVE),
            scope,
            "household__area_code",
        )
        .order_by()
        .annotate(birth=Cast("birth_date", CharField(max_length=10)))
        .values_list("id", "household_id", "first_name", "last_name", "birth", "relation"),
        {
            "person_id": pl.Int64,
            "household_id": pl.Int64,
            "first_name": pl.String,
            "last_name": pl.String,
            "birth_date": pl.String,
            "relation": pl.String,
        },
    ).with_columns(pl.col("birth_date").str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
    people = people.join(households.select("household_id", "area_code"), on="household_id", how="inner")
    return households, people


# ---------------------------------------------------------------------------------------
# The checks: each returns candidate flags (existing keys are dropped when saving)


def check_shared_address(households: pl.DataFrame, people: pl.DataFrame) -> list[_Flag]:
    """Two or more active one-person households in one village at one house number."""
    singles = people.group_by("household_id").len().filter(pl.col("len") == 1).select("household_id")
    frame = households.join(singles, on="household_id", how="semi").with_columns(
        pl.col("house_no").map_elements(normalise_house_no, return_dtype=pl.String).alias("address")
    )
    # "-" or "" is what an import writes when the list has no house number: not an address.
    frame = frame.filter(pl.col("address").str.contains(r"\d"))
    groups = (
        frame.sort("household_id")
        .group_by("area_code", "address")
        .agg(pl.col("household_id"), pl.col("code"))
        .filter(pl.col("household_id").list.len() > 1)
    )
    out = []
    for area, _address, ids, codes in groups.iter_rows():
        out.append(
            _Flag(
                kind=FlagKind.SHARED_ADDRESS,
                key=_key(FlagKind.SHARED_ADDRESS, area, _digest(*ids)),
                area_code=area,
                household_id=ids[0],
                other_household_id=ids[1],
                details={"reason": "shared_address", "count": len(ids), "households": list(codes)},
                areas=(area,),
            )
        )
    return out


def check_open_memberships(scope: Scope | None) -> list[_Flag]:
    """A person with open memberships (not ended) in two or more households."""
    open_ = Membership.objects.filter(ended_on__isnull=True, end_event="")
    candidates = open_
    if scope is not None:
        candidates = open_.filter(person_id__in=open_.filter(scope.q("household__area_code")).values("person_id"))
    doubled = (
        candidates.values("person_id")
        .annotate(n=Count("household_id", distinct=True))
        .filter(n__gt=1)
        .values_list("person_id", flat=True)
    )
    person_ids = list(doubled)
    if not person_ids:
        return []
    per_person: dict[int, dict[int, tuple[str, str]]] = defaultdict(dict)
    current: dict[int, int] = {}
    for i in range(0, len(person_ids), 900):
        part = person_ids[i : i + 900]
        for pid, hid, code, area in open_.filter(person_id__in=part).values_list(
            "person_id", "household_id", "household__code", "household__area_code"
        ):
            per_person[pid][hid] = (code, area)
        current.update(Person.objects.filter(pk__in=part).values_list("id", "household_id"))
    out = []
    for pid, hhs in per_person.items():
        ids = sorted(hhs)
        now_in = current.get(pid)
        first = now_in if now_in is not None and now_in in hhs else ids[0]
        other = next(h for h in ids if h != first)
        out.append(
            _Flag(
                kind=FlagKind.TWO_HOUSEHOLDS,
                key=_key(FlagKind.TWO_HOUSEHOLDS, "open", pid, *ids),
                area_code=hhs[first][1],
                household_id=first,
                other_household_id=other,
                person_id=pid,
                details={
                    "reason": "open_memberships",
                    "count": len(ids),
                    "households": [hhs[h][0] for h in ids],
                },
                areas=tuple(a for _c, a in hhs.values()),
            )
        )
    return out


def check_same_person(households: pl.DataFrame, people: pl.DataFrame) -> list[_Flag]:
    """Two people in different households of one subdistrict with the same first and last
    name and birth date: most likely one person registered twice."""
    frame = (
        people.filter(pl.col("birth_date").is_not_null())
        .with_columns(
            pl.col("area_code").str.slice(0, 6).alias("subdistrict"),
            pl.col("first_name").str.strip_chars().alias("first"),
            pl.col("last_name").str.strip_chars().alias("last"),
        )
        .filter((pl.col("first") != "") & (pl.col("last") != ""))
    )
    groups = (
        frame.sort("person_id")
        .group_by("subdistrict", "first", "last", "birth_date")
        .agg(pl.col("person_id"), pl.col("household_id"), pl.col("area_code"))
        .filter(pl.col("household_id").list.n_unique() > 1)
    )
    if groups.height == 0:
        return []
    codes = dict(households.select("household_id", "code").iter_rows())
    ids = groups["person_id"].explode().to_list()
    refs: dict[int, str] = {}
    for i in range(0, len(ids), 900):
        refs.update(Person.objects.filter(pk__in=ids[i : i + 900]).values_list("id", "ref"))
    out = []
    for *_group, pids, hids, areas in groups.iter_rows():
        for pid, hid, area in zip(pids[1:], hids[1:], areas[1:], strict=True):
            if hid == hids[0]:
                continue
            out.append(
                _Flag(
                    kind=FlagKind.TWO_HOUSEHOLDS,
                    key=_key(FlagKind.TWO_HOUSEHOLDS, "same", pids[0], pid),
                    area_code=areas[0],
                    household_id=hids[0],
                    other_household_id=hid,
                    person_id=pids[0],
                    details={
                        "reason": "same_person",
                        "households": [codes.get(hids[0], ""), codes.get(hid, "")],
                        "other_person": refs.get(pid, ""),
                    },
                    areas=(areas[0], area),
                )
            )
    return out


def _round_order(label: str) -> tuple[tuple[int, ...], str]:
    return tuple(int(n) for n in re.findall(r"\d+", label)), label


def check_rounds(scope: Scope | None) -> list[_Flag]:
    """Households split or merged between the latest two rounds of one kind of list, from
    the household keys the lists carry (staged rows of committed batches)."""
    rounds_of: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for batch_id, kind, label in ImportBatch.objects.filter(status=BatchStatus.COMMITTED).values_list(
        "id", "source__kind", "source__round_label"
    ):
        rounds_of[kind][label].append(batch_id)
    latest: dict[str, tuple[str, str]] = {}
    round_of_batch: dict[int, tuple[str, str]] = {}
    for kind, by_round in rounds_of.items():
        labels = sorted(by_round, key=_round_order)
        if len(labels) < 2:
            continue
        latest[kind] = (labels[-2], labels[-1])
        for label in latest[kind]:
            round_of_batch.update(dict.fromkeys(by_round[label], (kind, label)))
    if not latest:
        return []
    # Rows that stand for a registry person: new and matched rows, and uncertain rows a
    # reviewer decided (their person is then the same or a newly registered one).
    settled = Q(outcome__in=[RowOutcome.NEW, RowOutcome.MATCHED]) | Q(
        outcome=RowOutcome.UNCERTAIN, review__in=[ReviewStatus.SAME, ReviewStatus.DIFFERENT]
    )
    rows = (
        _filtered(
            StagedRow.objects.filter(settled, batch_id__in=sorted(round_of_batch), person__isnull=False),
            scope,
            "area_code",
        )
        .order_by()
        .annotate(hkey=KT("clean__household_key"))
        .values_list("batch_id", "person_id", "hkey")
    )
    frame = _frame(rows, {"batch_id": pl.Int64, "person_id": pl.Int64, "hkey": pl.String})
    batches = pl.DataFrame(
        [(b, kind, label) for b, (kind, label) in round_of_batch.items()],
        schema={"batch_id": pl.Int64, "kind": pl.String, "round": pl.String},
        orient="row",
    )
    frame = frame.with_columns(pl.col("hkey").fill_null("").str.strip_chars()).join(batches, on="batch_id")
    out: list[_Flag] = []
    for kind, (old, new) in sorted(latest.items()):
        of_kind = frame.filter(pl.col("kind") == kind)
        sides = []
        for label in (old, new):
            side = of_kind.filter((pl.col("round") == label) & (pl.col("hkey") != ""))
            # A person listed twice in a round (a corrected file imported again): the latest batch.
            side = side.sort("batch_id").unique("person_id", keep="last")
            sides.append(side.select("person_id", "batch_id", "hkey"))
        if sides[0].height == 0 or sides[1].height == 0:
            continue  # a round without household keys says nothing about households
        both = sides[0].join(sides[1], on="person_id", suffix="_new")
        for reason, flag_kind, group, other in (
            ("split", FlagKind.HOUSEHOLD_SPLIT, ["batch_id", "hkey"], ["batch_id_new", "hkey_new"]),
            ("merged", FlagKind.HOUSEHOLD_MERGED, ["batch_id_new", "hkey_new"], ["batch_id", "hkey"]),
        ):
            # Count the other side's groups by a hash of their key (cheap at a million rows;
            # a collision could only hide one flag); collect people for changed groups only.
            changed = (
                both.group_by(group)
                .agg(pl.struct(other).hash(seed=0).n_unique().alias("groups"))
                .filter(pl.col("groups") > 1)
            )
            changed = (
                both.join(changed, on=group, how="inner")
                .group_by(group)
                .agg(
                    pl.col("person_id").sort(),
                    pl.col("groups").first(),
                    pl.col("batch_id_new").max().alias("later_batch"),
                )
            )
            for batch_id, hkey, pids, groups, later_batch in changed.iter_rows():
                out.append(
                    _Flag(
                        kind=flag_kind,
                        key=_key(flag_kind, kind, old, new, _digest(batch_id, hkey)),
                        area_code="",  # from the people's registry households, below
                        batch_id=later_batch,
                        details={
                            "reason": reason,
                            "source_kind": kind,
                            "old": old,
                            "new": new,
                            "people": len(pids),
                            "groups": groups,
                            "person_ids": pids,  # replaced by household codes below
                        },
                    )
                )
    _attach_households(out)
    return [f for f in out if f.area_code]


def _attach_households(flags: list[_Flag]) -> None:
    """Registry households of the people of each round flag (most common first)."""
    ids = sorted({pid for f in flags for pid in f.details["person_ids"]})
    where: dict[int, tuple[int, str, str]] = {}
    for i in range(0, len(ids), 900):
        for pid, hid, code, area in Person.objects.filter(pk__in=ids[i : i + 900]).values_list(
            "id", "household_id", "household__code", "household__area_code"
        ):
            where[pid] = (hid, code, area)
    for f in flags:
        found = [where[p] for p in f.details.pop("person_ids") if p in where]
        if not found:
            continue
        ranked = [hh for hh, _n in Counter(found).most_common()]
        f.household_id, _code, f.area_code = ranked[0]
        f.other_household_id = ranked[1][0] if len(ranked) > 1 else None
        f.details["households"] = [code for _h, code, _a in ranked]
        f.areas = tuple(a for _h, _c, a in ranked)


def check_ages_and_relations(people: pl.DataFrame, today: dt.date) -> list[_Flag]:
    """Implausible ages (by themselves and against the head) and relations in a household."""
    frame = people.with_columns(_age_expr(pl.col("birth_date"), today).alias("age"))
    per_household = frame.group_by("household_id").agg(
        pl.len().alias("members"),
        (pl.col("relation") == Relation.HEAD).sum().alias("heads"),
        pl.col("area_code").first(),
    )
    heads = (
        frame.filter(pl.col("relation") == Relation.HEAD)
        .join(per_household.filter(pl.col("heads") == 1).select("household_id"), on="household_id", how="semi")
        .select("household_id", pl.col("birth_date").alias("head_birth"), pl.col("age").alias("head_age"))
    )
    frame = frame.join(heads, on="household_id", how="left")
    rel = pl.col("relation")
    bd = pl.col("birth_date")
    person_rules: list[tuple[str, str, pl.Expr]] = [
        (FlagKind.IMPLAUSIBLE_AGE, "future_birth", bd > pl.lit(today)),
        (FlagKind.IMPLAUSIBLE_AGE, "over_max_age", pl.col("age") > MAX_AGE),
        (FlagKind.IMPLAUSIBLE_AGE, "young_head", (rel == Relation.HEAD) & (pl.col("age") < ADULT_AGE) & (bd <= today)),
        (FlagKind.IMPLAUSIBLE_AGE, "child_older", (rel == Relation.CHILD) & (bd < pl.col("head_birth"))),
        (
            FlagKind.IMPLAUSIBLE_AGE,
            "parent_young",
            (rel == Relation.PARENT) & (bd > pl.col("head_birth").dt.offset_by(f"-{PARENT_GAP}y")),
        ),
        (
            FlagKind.IMPLAUSIBLE_RELATION,
            "young_spouse",
            (rel == Relation.SPOUSE) & (pl.col("age") < ADULT_AGE) & (bd <= today),
        ),
    ]
    out: list[_Flag] = []
    for kind, reason, rule in person_rules:
        hits = frame.filter(rule.fill_null(False)).select("person_id", "household_id", "area_code", "age", "head_age")
        for pid, hid, area, age, head_age in hits.iter_rows():
            details: dict[str, Any] = {"reason": reason}
            if reason != "future_birth":
                details["age"] = age
            if reason in ("child_older", "parent_young"):
                details["head_age"] = head_age
            out.append(
                _Flag(
                    kind=kind,
                    key=_key(kind, reason, pid),
                    area_code=area,
                    household_id=hid,
                    person_id=pid,
                    details=details,
                    areas=(area,),
                )
            )
    for reason, rule in (("many_heads", pl.col("heads") > 1), ("no_head", pl.col("heads") == 0)):
        for hid, members, n_heads, area in per_household.filter(rule).iter_rows():
            out.append(
                _Flag(
                    kind=FlagKind.IMPLAUSIBLE_RELATION,
                    key=_key(FlagKind.IMPLAUSIBLE_RELATION, reason, hid),
                    area_code=area,
                    household_id=hid,
                    details={"reason": reason, "heads": n_heads, "members": members},
                    areas=(area,),
                )
            )
    return out


# ---------------------------------------------------------------------------------------
# Running and deciding


def _save(flags: list[_Flag], batch: ImportBatch | None) -> dict[str, int]:
    """File the flags whose key is new; returns how many per kind."""
    unique = {f.key: f for f in flags}
    keys = list(unique)
    known: set[str] = set()
    for i in range(0, len(keys), 900):
        known.update(CompositionFlag.objects.filter(key__in=keys[i : i + 900]).values_list("key", flat=True))
    new = [f for k, f in unique.items() if k not in known]
    CompositionFlag.objects.bulk_create(
        [
            CompositionFlag(
                kind=f.kind,
                key=f.key,
                area_code=f.area_code,
                household_id=f.household_id,
                other_household_id=f.other_household_id,
                person_id=f.person_id,
                batch_id=batch.pk if batch is not None else f.batch_id,
                details=f.details,
            )
            for f in new
        ],
        batch_size=1000,
        ignore_conflicts=True,  # a concurrent run filed it first: still filed once
    )
    counts = Counter(f.kind for f in new)
    return {kind: counts.get(kind, 0) for kind in FlagKind.values}


def run_checks(
    *,
    area_codes: Iterable[str] | None = None,
    batch: ImportBatch | None = None,
    actor: Any = None,
    today: dt.date | None = None,
) -> dict[str, int]:
    """Run every composition check and file new flags; returns the new flags per kind.

    ``area_codes`` limits the run to households whose village code starts with one of the
    codes (the duplicate-person check still compares with the rest of each subdistrict).
    ``batch`` is recorded on the new flags (the import whose commit triggered the run).
    """
    wanted = _scope_of(area_codes)
    today = today or timezone.localdate()
    if wanted is not None and wanted.empty:
        return dict.fromkeys(FlagKind.values, 0)
    # Duplicate people are looked for in whole subdistricts: widen the read to them.
    load = None if wanted is None else Scope(prefixes=frozenset(c[:6] for c in wanted.prefixes))
    households, people = _load(load)
    flags = [
        *check_shared_address(households, people),
        *check_open_memberships(wanted),
        *check_same_person(households, people),
        *check_rounds(wanted),
        *check_ages_and_relations(people, today),
    ]
    if wanted is not None:
        flags = [f for f in flags if any(wanted.contains(a) for a in f.areas)]
    with transaction.atomic():
        counts = _save(flags, batch)
        audit_record(
            actor=actor,
            action="composition_flag.create",
            object_type="composition_check",
            object_ref=batch.code if batch is not None else "",
            changes={"new_flags": counts, "areas": sorted(wanted.prefixes) if wanted is not None else ["*"]},
        )
    return counts


def decide_flag(*, actor: Any, flag: CompositionFlag, status: str, note: str = "") -> CompositionFlag:
    """Confirm (to correct) or dismiss (nothing wrong) a pending flag in the actor's area."""
    if status not in (FlagStatus.CONFIRMED, FlagStatus.DISMISSED):
        raise ValidationError({"status": STATUS_INVALID})
    if not scope_for(actor, ACTION).contains(flag.area_code):
        raise PermissionDenied
    with transaction.atomic():
        f = CompositionFlag.objects.select_for_update(of=("self",)).select_related("household").get(pk=flag.pk)
        if f.status != FlagStatus.PENDING:
            raise ValidationError({"status": FLAG_DONE})
        f.status, f.decided_by, f.decided_at = status, actor, timezone.now()
        f.note = " ".join(note.split())[:500]
        f.save(update_fields=["status", "decided_by", "decided_at", "note"])
        # The note is the reviewer's free text and may name people: the audit says only
        # that there was one.
        audit_record(
            actor=actor,
            action="composition_flag.update",
            object_type="composition_flag",
            object_ref=str(f.pk),
            area_code=f.area_code,
            changes={
                "status": [FlagStatus.PENDING, status],
                "kind": f.kind,
                "household": f.household.code if f.household else "",
                "note_given": bool(f.note),
            },
        )
    return f


def describe(flag: CompositionFlag) -> str:
    """What is implausible about ``flag``, in the current language."""
    details = flag.details or {}
    message = REASONS.get(str(details.get("reason", "")))
    if message is None:
        return str(flag.get_kind_display())
    params: dict[str, Any] = {k: v for k, v in details.items() if isinstance(v, str | int)}
    kind = params.get("source_kind", "")
    params["source"] = str(SourceKind(kind).label) if kind in SourceKind.values else kind
    try:
        return str(message) % params
    except (KeyError, TypeError, ValueError):
        return str(flag.get_kind_display())
