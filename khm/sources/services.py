"""The staged import pipeline: every write of the sources capability.

upload → parse → validate → link → preview (``batch_upload`` + ``batch_stage``) → commit
(``batch_commit``). Staging writes only staging tables; the commit writes the registry in
one transaction, so a crash or a bad row never leaves half a batch. Re-importing a file
already committed into the same source changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import polars as pl
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from khm.accounts.scoping import Scope, scope_for
from khm.areas.models import Area, AreaLevel
from khm.audit.services import audit_record
from khm.core import progress
from khm.core.bulk import insert_rows, large_writes, refresh_statistics
from khm.core.changes import touch
from khm.core.crypto import encrypt, lookup_hash
from khm.engines.ids import is_valid_national_id, normalise_digits
from khm.engines.linkage.fields import (
    FieldMap,
    FieldsError,
    check_columns,
    parse_date,
    parse_fields,
    parse_moo,
    parse_moo_value,
    parse_sex,
    read_table,
    sex_from_title,
)
from khm.engines.synth import SynthHousehold, SynthPerson
from khm.registry.bulk import insert_households
from khm.registry.models import Household, Membership, MembershipEvent, Person, Relation, new_code
from khm.sources import errors, linking
from khm.sources.models import (
    BATCH_TRANSITIONS,
    BatchStatus,
    ImportBatch,
    MappingProfile,
    PersonSource,
    ReviewStatus,
    RowOutcome,
    Source,
    StagedRow,
)

logger = logging.getLogger(__name__)
ACTION = "source.import"
STAGE_CHUNK = 20_000
COMMIT_CHUNK = 5_000  # households per executemany
THAI_TITLES = ("นางสาว", "นาย", "นาง", "เด็กชาย", "เด็กหญิง", "ด.ช.", "ด.ญ.", "น.ส.")


def _err(field: str, message: Any, **params: Any) -> dict[str, str]:
    from django.utils import translation

    with translation.override("th"):
        th = str(message) % params if params else str(message)
    with translation.override("en"):
        en = str(message) % params if params else str(message)
    return {"field": field, "message_th": th, "message_en": en}


def batch_transition(*, actor: Any, batch: ImportBatch, to: str, note: str = "") -> ImportBatch:
    """The only place a batch changes state; refuses moves not in BATCH_TRANSITIONS."""
    if to not in BATCH_TRANSITIONS[batch.status]:
        raise ValidationError({"status": errors.TRANSITION % {"old": batch.status, "new": to}})
    old = batch.status
    batch.status = to
    if to == BatchStatus.COMMITTED:
        batch.committed_at = timezone.now()
    batch.save(update_fields=["status", "committed_at", "counts", "error"])
    audit_record(
        actor=actor,
        action="import_batch.update",
        object_type="import_batch",
        object_ref=batch.code,
        changes={"status": [old, to]},
        note=note[:500],
    )
    return batch


def batch_upload(*, actor: Any, source: Source, profile: MappingProfile, file_name: str, content: bytes) -> ImportBatch:
    scope = scope_for(actor, ACTION)
    if scope.empty:
        raise PermissionDenied
    digest = hashlib.sha256(content).hexdigest()
    if ImportBatch.objects.filter(source=source, file_sha256=digest, status=BatchStatus.COMMITTED).exists():
        raise ValidationError({"file": errors.FILE_ALREADY})
    folder = Path(settings.KHM_IMPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(file_name).suffix.lower()[:6] or ".csv"
    path = folder / f"{digest}{suffix}"
    path.write_bytes(content)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            code=new_code("B"),
            source=source,
            profile=profile,
            file_name=Path(file_name).name[:255],
            file_sha256=digest,
            file_path=str(path),
            uploaded_by=actor,
            scope_codes=sorted(scope.prefixes | scope.villages),
        )
        audit_record(
            actor=actor,
            action="import_batch.create",
            object_type="import_batch",
            object_ref=batch.code,
            changes={"file": [None, batch.file_name], "source": [None, source.code]},
        )
    return batch


class _AreaResolver:
    """Village codes from what the lists carry: 8-digit village codes, or 6-digit
    subdistrict codes plus the village number (หมู่) from a column or the address text."""

    def __init__(self) -> None:
        self.villages = set(Area.objects.filter(level=AreaLevel.VILLAGE, active=True).values_list("code", flat=True))
        self.subdistricts = set(Area.objects.filter(level=AreaLevel.SUBDISTRICT).values_list("code", flat=True))

    def village(self, area: str, moo: str | None) -> tuple[str | None, Any]:
        code = normalise_digits(area or "")
        if len(code) == 8 and code.isdigit():
            return (code, None) if code in self.villages else (None, errors.AREA_UNKNOWN)
        if len(code) == 6 and code.isdigit():
            if code not in self.subdistricts:
                return None, errors.AREA_UNKNOWN
            if moo:
                village = f"{code}{int(moo):02d}"
                return (village, None) if village in self.villages else (None, errors.AREA_UNKNOWN)
        return None, errors.AREA_MISSING


def _split_full_name(text: str) -> tuple[str, str, str]:
    text = " ".join(text.split())
    title = ""
    for t in THAI_TITLES:
        if text.startswith(t):
            title, text = t, text[len(t) :].strip()
            break
    first, _sep, last = text.partition(" ")
    return title, first, last


class _Validator:
    """Per-row validation of one file, with the column names looked up once and the
    answers for values that repeat (dates, sex, areas; a province list has a few
    thousand distinct ones among hundreds of thousands of rows) computed once."""

    ROLES = ("record_id", "id_number", "first_name", "last_name", "birth_date", "sex", "house_no", "area_code")

    def __init__(self, fm: FieldMap, extra: dict[str, str], areas: _AreaResolver, scope: Scope) -> None:
        self.fm, self.areas, self.scope = fm, areas, scope
        self.cols = {role: fm.column(role) for role in self.ROLES}
        self.full_name = fm.column("full_name") if fm.has("full_name") else None
        self.title_col = extra.get("title", "")
        self.moo_col = extra.get("village_no", "")
        self.address_cols = tuple(fm.columns.get("address", ()))
        self.relation_col = extra.get("relation", "")
        self.household_col = extra.get("household_key", "")
        self._dates: dict[str, tuple[str | None, Any]] = {}
        self._sex: dict[tuple[str, str], str | None] = {}
        self._areas: dict[tuple[str, str], tuple[str, Any]] = {}
        self._errs: dict[tuple[str, Any], dict[str, str]] = {}
        self.today = dt.date.today()

    def bind(self, columns: Sequence[str]) -> None:
        """Positions of the mapped columns in the file's rows (rows come as tuples)."""
        pos = {name: i for i, name in enumerate(columns)}

        def at(name: str | None) -> int | None:
            return pos.get(name) if name else None

        self._pos = {role: at(name) for role, name in self.cols.items()}
        self._full, self._title, self._moo = at(self.full_name), at(self.title_col), at(self.moo_col)
        self._address = tuple(i for i in (at(n) for n in self.address_cols) if i is not None)
        self._relation, self._household = at(self.relation_col), at(self.household_col)

    def values(self, row: Sequence[Any]) -> dict[str, str]:
        def get(i: int | None) -> str:
            return str(row[i] or "").strip() if i is not None else ""

        out = {role: get(i) for role, i in self._pos.items()}
        out["title"] = get(self._title)
        if self._full is not None:
            t, f, last = _split_full_name(get(self._full))
            out["title"] = out["title"] or t
            out["first_name"], out["last_name"] = f, last
        out["moo"] = parse_moo_value(get(self._moo)) or ""
        if not out["moo"]:
            for i in self._address:
                m = parse_moo(row[i])
                if m:
                    out["moo"] = m
                    break
        out["relation"] = get(self._relation)
        out["household_key"] = get(self._household)
        return out

    def err(self, field: str, message: Any) -> dict[str, str]:
        key = (field, message)
        if key not in self._errs:
            self._errs[key] = _err(field, message)
        return dict(self._errs[key])

    def date(self, value: str) -> tuple[str | None, Any]:
        """(ISO date or None, error message or None)."""
        if value not in self._dates:
            iso, year = parse_date(value, self.fm.date_format)
            year_only = re.fullmatch(r"(00[/.-]00[/.-])?\d{4}", normalise_digits(value).replace(" ", ""))
            if iso is None and (year is None or not year_only):
                self._dates[value] = (None, errors.DATE_UNREADABLE)
            elif iso is not None and dt.date.fromisoformat(iso) > self.today:
                self._dates[value] = (iso, errors.DATE_FUTURE)
            else:
                self._dates[value] = (iso, None)
        return self._dates[value]

    def sex(self, sex: str, title: str) -> str | None:
        key = (sex, title)
        if key not in self._sex:
            self._sex[key] = parse_sex(sex) if sex else sex_from_title(title)
        return self._sex[key]

    def village(self, area: str, moo: str) -> tuple[str, Any]:
        key = (area, moo)
        if key not in self._areas:
            village, problem = self.areas.village(area, moo or None)
            if problem is None and village and not self.scope.contains(village):
                problem = errors.AREA_OUTSIDE
            self._areas[key] = (village or "", problem)
        return self._areas[key]

    def validate(self, values: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
        errs: list[dict[str, str]] = []
        clean: dict[str, Any] = {
            "record_id": values["record_id"],
            "title": values["title"],
            "house_no": values["house_no"].translate(_THAI_DIGITS),
        }
        nid = normalise_digits(values["id_number"]) if values["id_number"] else ""
        if nid and self.fm.id_scheme == "thai_national_id":
            if len(nid) != 13 or not nid.isdigit():
                errs.append(self.err("id_number", errors.NID_FORMAT))
            elif not is_valid_national_id(nid):
                errs.append(self.err("id_number", errors.NID_CHECKSUM))
        clean["national_id"] = nid if nid and not errs else ""
        if not values["first_name"] or not values["last_name"]:
            errs.append(self.err("first_name", errors.NAME_REQUIRED))
        clean["first_name"], clean["last_name"] = values["first_name"], values["last_name"]
        clean["birth_date"] = None
        if values["birth_date"]:
            iso, problem = self.date(values["birth_date"])
            if problem is not None:
                errs.append(self.err("birth_date", problem))
            clean["birth_date"] = iso if problem is None else None
        sex = self.sex(values["sex"], values["title"])
        if sex is None:
            errs.append(self.err("sex", errors.SEX_UNKNOWN))
        clean["sex"] = (sex or "").upper()
        village, problem = self.village(values["area_code"], values["moo"])
        if problem is not None:
            errs.append(self.err("area_code", problem))
        clean["village"] = village if problem is None else ""
        clean["relation"] = values["relation"]
        clean["household_key"] = values["household_key"]
        return clean, errs


_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


@dataclass(slots=True)
class _Row:
    """A staged row while it is being checked and linked (cheaper than a model instance)."""

    row_no: int
    raw: str  # rejected rows: the row as the file has it, as JSON text (header → value)
    clean: dict[str, Any]
    errors: list[dict[str, str]]
    outcome: str
    area_code: str
    person_id: int | None = None
    review: str = ""
    duplicate_of: int | None = None
    match_rule: str = ""
    match_probability: float | None = None
    explain: dict[str, Any] = field(default_factory=dict)


STAGED_COLUMNS = (
    "batch_id", "row_no", "raw", "clean", "errors", "outcome", "area_code", "person_id", "review", "reviewed_by_id",
    "reviewed_at", "duplicate_of", "match_rule", "match_probability", "explain",
)  # fmt: skip


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _staged_tuple(batch_id: int, r: _Row) -> tuple[Any, ...]:
    return (
        batch_id, r.row_no, r.raw, _json(r.clean), _json(r.errors), r.outcome, r.area_code, r.person_id,
        r.review, None, None, r.duplicate_of, r.match_rule, r.match_probability, _json(r.explain),
    )  # fmt: skip


def batch_stage(*, actor: Any, batch: ImportBatch, threads: int | None = None) -> ImportBatch:
    """Parse, validate and link every row into staging; the registry is not touched.

    Staged rows are written in chunks (with progress) while the batch is still
    *uploaded*; only when all are written does it become *preview*. A crash in between
    leaves a batch that cannot be committed, and staging it again starts afresh."""
    step = progress.Reporter(batch.code)
    step("read", force=True)
    large_writes()
    fm = parse_fields(batch.profile.fields, origin=batch.profile.name)
    try:
        frame = read_table(batch.file_path, fm.sheet)
        check_columns(fm, frame.columns, batch.file_name)
    except FieldsError as exc:
        with transaction.atomic():
            e = _err("file", errors.FILE_COLUMNS, reason=str(exc))
            batch.error = f"{e['message_th']} | {e['message_en']}"[:500]
            batch_transition(actor=actor, batch=batch, to=BatchStatus.FAILED, note=batch.error)
        progress.clear(batch.code)
        return batch
    if frame.height == 0:
        with transaction.atomic():
            e = _err("file", errors.FILE_EMPTY)
            batch.error = f"{e['message_th']} | {e['message_en']}"
            batch_transition(actor=actor, batch=batch, to=BatchStatus.FAILED)
        progress.clear(batch.code)
        return batch
    scope = Scope(
        frozenset(c for c in batch.scope_codes if len(c) < 8), frozenset(c for c in batch.scope_codes if len(c) == 8)
    )
    check = _Validator(fm, batch.profile.extra or {}, _AreaResolver(), scope)
    staged: list[_Row] = []
    total = frame.height
    check.bind(frame.columns)
    for i, row in enumerate(frame.iter_rows(), start=2):
        clean, errs = check.validate(check.values(row))
        staged.append(_Row(i, "{}", clean, errs, RowOutcome.REJECTED if errs else RowOutcome.NEW, clean["village"]))
    # A rejected row keeps the file's values as they came (for the sheet to fix and upload
    # again); the others keep their cleaned values, and the file itself is kept by hash.
    bad = [r.row_no - 2 for r in staged if r.errors]
    if bad:
        encoded = frame[bad].select(pl.struct(pl.all()).struct.json_encode()).to_series().to_list()
        for n, raw in zip(bad, encoded, strict=True):
            staged[n].raw = raw
        if i % 5000 == 0:
            step("validate", i - 1, total)
    info = linking.link_rows(staged, batch.source, scope, progress=step, threads=threads)
    counts = Counter(r.outcome for r in staged)
    StagedRow.objects.filter(batch=batch).delete()
    for k in range(0, len(staged), STAGE_CHUNK):
        with transaction.atomic():
            insert_rows(
                StagedRow,
                STAGED_COLUMNS,
                (_staged_tuple(batch.pk, r) for r in staged[k : k + STAGE_CHUNK]),
                json_encoded=True,
            )
        step("save", min(k + STAGE_CHUNK, len(staged)), len(staged))
    with transaction.atomic():
        batch.counts = {o: counts.get(o, 0) for o in RowOutcome.values} | {"rows": len(staged)}
        batch.link_info = info
        batch.save(update_fields=["link_info"])
        batch_transition(actor=actor, batch=batch, to=BatchStatus.PREVIEW)
    progress.clear(batch.code)
    return batch


_RELATIONS = (
    (("หัวหน้า", "head"), Relation.HEAD),
    (("คู่สมรส", "สามี", "ภรรยา", "ภริยา", "spouse", "wife", "husband"), Relation.SPOUSE),
    (("หลาน", "grandchild"), Relation.GRANDCHILD),
    (("บุตร", "ลูก", "child", "son", "daughter"), Relation.CHILD),
    (("บิดา", "มารดา", "พ่อ", "แม่", "parent", "father", "mother"), Relation.PARENT),
    (("พี่", "น้อง", "sibling", "brother", "sister"), Relation.SIBLING),
    (("ญาติ", "relative"), Relation.RELATIVE),
)


def parse_relation(text: str) -> str | None:
    """A list's relation-to-head text (Thai or English) as a registry relation, or None."""
    t = (text or "").strip().lower()
    if not t:
        return None
    for words, relation in _RELATIONS:
        if any(w in t for w in words):
            return relation
    return Relation.OTHER


def create_person_from_row(
    r: StagedRow, villages: dict[str, int], households: dict[tuple[str, str], Household]
) -> Person:
    """A new registry person (and household, for the first member of a house) from a row."""
    c = r.clean
    key = (r.area_code, c.get("household_key") or c.get("house_no") or f"row{r.row_no}")
    hh = households.get(key)
    head = False
    if hh is None:
        hh = Household.objects.create(
            code=new_code("HH"),
            village_id=villages[r.area_code],
            area_code=r.area_code,
            house_no=c.get("house_no") or "-",
        )
        households[key] = hh
        head = True
    nid = c.get("national_id") or ""
    person = Person.objects.create(
        ref=new_code("P", 10),
        household=hh,
        national_id_enc=encrypt(nid) if nid else "",
        national_id_hash=lookup_hash(nid) if nid else None,
        title=c.get("title") or "",
        first_name=c["first_name"],
        last_name=c["last_name"],
        sex=c.get("sex") or "",
        birth_date=dt.date.fromisoformat(c["birth_date"]) if c.get("birth_date") else None,
        relation=Relation.HEAD if head else Relation.OTHER,
    )
    Membership.objects.create(
        person=person, household=hh, relation=person.relation, start_event=MembershipEvent.REGISTERED
    )
    return person


def review_decide(*, actor: Any, row: StagedRow, same: bool, note: str = "") -> StagedRow:
    """Decide an uncertain row: the same person as the candidate (record the list on them)
    or a different person (register them). Audited; only in the reviewer's area."""
    if not scope_for(actor, ACTION).contains(row.area_code):
        raise PermissionDenied
    with transaction.atomic():
        r = StagedRow.objects.select_for_update().select_related("batch").get(pk=row.pk)
        if r.review != ReviewStatus.PENDING or r.batch.status != BatchStatus.COMMITTED:
            raise ValidationError({"review": errors.REVIEW_DONE})
        candidate = r.person_id
        if same:
            PersonSource.objects.get_or_create(
                person_id=r.person_id, source=r.batch.source, defaults={"batch": r.batch, "row_no": r.row_no}
            )
        else:
            villages = dict(Area.objects.filter(code=r.area_code).values_list("code", "id"))
            r.person = create_person_from_row(r, villages, {})
            PersonSource.objects.create(person=r.person, source=r.batch.source, batch=r.batch, row_no=r.row_no)
        r.review = ReviewStatus.SAME if same else ReviewStatus.DIFFERENT
        r.reviewed_by, r.reviewed_at = actor, timezone.now()
        r.save(update_fields=["review", "reviewed_by", "reviewed_at", "person"])
        audit_record(
            actor=actor,
            action="review.update",
            object_type="staged_row",
            object_ref=f"{r.batch.code}:{r.row_no}",
            area_code=r.area_code,
            changes={"decision": [ReviewStatus.PENDING, r.review], "candidate": [candidate, r.person_id]},
            note=note[:500],
        )
    return r


def batch_commit(*, actor: Any, batch: ImportBatch, checks: bool = True) -> ImportBatch:
    """Write new people and households, and provenance for new, matched and duplicate
    rows; all or nothing (one transaction).

    Rejected rows and uncertain matches are not written: they wait in the batch (the
    error spreadsheet and the review queue). Rows of one household (the list's household
    key, else the same house number in the same village) become one household; its head
    is the member the list calls head, else the first member. Then (``checks``) the
    household composition checks run on the subdistricts the batch touched."""
    scope = scope_for(actor, ACTION)
    if scope.empty:
        raise PermissionDenied
    step = progress.Reporter(batch.code)
    step("commit", force=True)
    large_writes()
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().select_related("source").get(pk=batch.pk)
        if batch.status != BatchStatus.PREVIEW:
            raise ValidationError({"status": errors.TRANSITION % {"old": batch.status, "new": BatchStatus.COMMITTED}})
        if ImportBatch.objects.filter(
            source=batch.source, file_sha256=batch.file_sha256, status=BatchStatus.COMMITTED
        ).exists():
            raise ValidationError({"file": errors.FILE_ALREADY})
        rows = _rows_to_write(batch)
        # Households of the new people, in file order.
        groups: dict[tuple[str, str], list[tuple[int, int, dict[str, Any]]]] = {}
        for rid, row_no, outcome, _pid, _dup, area, clean in rows:
            if outcome == RowOutcome.NEW:
                key = (area, clean.get("household_key") or clean.get("house_no") or f"row{row_no}")
                groups.setdefault(key, []).append((rid, row_no, clean))
        plan: list[SynthHousehold] = []
        plan_rows: list[list[tuple[int, int]]] = []
        for (area, _key), members in groups.items():
            relations = [parse_relation(c.get("relation", "")) for _r, _n, c in members]
            if Relation.HEAD not in relations:
                relations[0] = Relation.HEAD
            people = tuple(
                SynthPerson(
                    national_id=c.get("national_id") or "",
                    title=c.get("title") or "",
                    first_name=c["first_name"],
                    last_name=c["last_name"],
                    sex=c.get("sex") or "",
                    birth_date=cast(dt.date, dt.date.fromisoformat(c["birth_date"]) if c.get("birth_date") else None),
                    relation=rel or Relation.OTHER,
                    disability="",
                    chronic_illness="",
                    education="",
                    occupation="",
                    income_year=cast(int, None),
                )
                for (_r, _n, c), rel in zip(members, relations, strict=True)
            )
            plan.append(SynthHousehold(new_code("HH"), area, members[0][2].get("house_no") or "-", people))
            plan_rows.append([(rid, row_no) for rid, row_no, _c in members])
        villages = dict(Area.objects.filter(code__in={h.village_code for h in plan}).values_list("code", "id"))
        person_of_row: dict[int, int] = {}  # row_no → person id
        updates: list[tuple[int, int]] = []  # (person id, staged row id)
        now = timezone.now()
        with connection.cursor() as cur:
            for k in range(0, len(plan), COMMIT_CHUNK):
                ids = insert_households(cur, plan[k : k + COMMIT_CHUNK], villages, now)
                for slots, pids in zip(plan_rows[k : k + COMMIT_CHUNK], ids, strict=True):
                    for (rid, row_no), pid in zip(slots, pids, strict=True):
                        person_of_row[row_no] = pid
                        updates.append((pid, rid))
                step("commit", min(k + COMMIT_CHUNK, len(plan)), len(plan))
            for _rid, row_no, outcome, pid, _dup, _area, _clean in rows:
                if outcome == RowOutcome.MATCHED and pid:
                    person_of_row[row_no] = pid
            for rid, row_no, outcome, pid, dup, _area, _clean in rows:
                if outcome == RowOutcome.DUPLICATE and not pid and dup in person_of_row:
                    updates.append((person_of_row[dup], rid))
                    person_of_row[row_no] = person_of_row[dup]
            table = StagedRow._meta.db_table
            for k in range(0, len(updates), 5000):
                cur.executemany(f"UPDATE {table} SET person_id = %s WHERE id = %s", updates[k : k + 5000])  # noqa: S608
        insert_rows(
            PersonSource,
            ("person_id", "source_id", "batch_id", "row_no"),
            (
                (person_of_row[row_no], batch.source_id, batch.pk, row_no)
                for _rid, row_no, _o, _p, _d, _a, _c in rows
                if row_no in person_of_row
            ),
            ignore_conflicts=True,
        )
        created_people = sum(len(h.members) for h in plan)
        batch.counts = dict(batch.counts) | {"households_created": len(plan), "people_created": created_people}
        batch_transition(actor=actor, batch=batch, to=BatchStatus.COMMITTED)
        # The villages of the list, and those of the registry people it matched: their
        # figures are out of date.
        matched = set(person_of_row.values())
        homes = {
            a
            for i in range(0, len(matched), 2000)
            for a in Person.objects.filter(pk__in=list(matched)[i : i + 2000]).values_list(
                "household__area_code", flat=True
            )
        }
        touch({r[5] for r in rows if r[5]} | homes)
        audit_record(
            actor=actor,
            action="import_batch.commit",
            object_type="import_batch",
            object_ref=batch.code,
            changes={
                "people_created": created_people,
                "households_created": len(plan),
                "matched": batch.counts.get("matched", 0),
                "duplicate": batch.counts.get("duplicate", 0),
            },
        )
    if checks:
        _after_commit(actor, batch, sorted({r[5][:6] for r in rows if r[5]}))
    progress.clear(batch.code)
    return batch


def _rows_to_write(batch: ImportBatch) -> list[tuple[Any, ...]]:
    """(id, row_no, outcome, person_id, duplicate_of, area_code, clean) of the new, matched
    and duplicate rows, in file order; one plain query (the ORM's per-row JSON converters
    cost seconds at province scale)."""
    table = StagedRow._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT id, row_no, outcome, person_id, duplicate_of, area_code, clean FROM {table} "  # noqa: S608
            "WHERE batch_id = %s AND outcome IN (%s, %s, %s) ORDER BY row_no",
            [batch.pk, RowOutcome.NEW, RowOutcome.MATCHED, RowOutcome.DUPLICATE],
        )
        return [(*r[:6], r[6] if isinstance(r[6], dict) else json.loads(r[6])) for r in cur.fetchall()]


def _after_commit(actor: Any, batch: ImportBatch, subdistricts: list[str]) -> None:
    """Household composition checks on the subdistricts the batch touched; their flags
    go to the review queue. The import is already committed: a failing check is logged
    (by type only: no personal data) and the officer can run the checks again."""
    from khm.sources import checks

    if not subdistricts:
        return
    progress.report(batch.code, "checks")
    # The checks query the rows the commit just wrote: give PostgreSQL their statistics.
    refresh_statistics([Household, Person, Membership, PersonSource])
    try:
        counts = checks.run_checks(area_codes=subdistricts, batch=batch, actor=actor)
    except Exception as exc:  # the commit stands; see the docstring
        logger.error("composition checks after %s failed: %s", batch.code, type(exc).__name__)
        return
    batch.counts = dict(batch.counts) | {"flags_created": sum(counts.values())}
    ImportBatch.objects.filter(pk=batch.pk).update(counts=batch.counts)
