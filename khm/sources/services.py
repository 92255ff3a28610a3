"""The staged import pipeline: every write of the sources capability.

upload → parse → validate → link → preview (``batch_upload`` + ``batch_stage``) → commit
(``batch_commit``). Staging writes only staging tables; the commit writes the registry in
one transaction, so a crash or a bad row never leaves half a batch. Re-importing a file
already committed into the same source changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from khm.accounts.scoping import Scope, scope_for
from khm.areas.models import Area, AreaLevel
from khm.audit.services import audit_record
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
from khm.registry.models import Household, Membership, MembershipEvent, Person, Relation, new_code
from khm.sources import errors
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

ACTION = "source.import"
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


def _row_values(fm: FieldMap, extra: dict[str, str], raw: dict[str, Any]) -> dict[str, str]:
    def col(role: str) -> str:
        name = fm.column(role)
        return str(raw.get(name) or "").strip() if name else ""

    out = {
        role: col(role)
        for role in ("record_id", "id_number", "first_name", "last_name", "birth_date", "sex", "house_no", "area_code")
    }
    out["title"] = str(raw.get(extra.get("title", ""), "") or "").strip()
    if fm.has("full_name"):
        t, f, last = _split_full_name(col("full_name"))
        out["title"] = out["title"] or t
        out["first_name"], out["last_name"] = f, last
    moo = str(raw.get(extra.get("village_no", ""), "") or "").strip()
    out["moo"] = parse_moo_value(moo) or ""
    if not out["moo"]:
        for name in fm.columns.get("address", ()):
            m = parse_moo(raw.get(name))
            if m:
                out["moo"] = m
                break
    out["relation"] = str(raw.get(extra.get("relation", ""), "") or "").strip()
    out["household_key"] = str(raw.get(extra.get("household_key", ""), "") or "").strip()
    return out


def _validate(
    values: dict[str, str], fm: FieldMap, areas: _AreaResolver, scope: Scope
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    errs: list[dict[str, str]] = []
    clean: dict[str, Any] = {
        "title": values["title"],
        "house_no": normalise_digits(values["house_no"]).strip() if values["house_no"] else "",
    }
    clean["house_no"] = values["house_no"].translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789"))
    nid = normalise_digits(values["id_number"]) if values["id_number"] else ""
    if nid and fm.id_scheme == "thai_national_id":
        if len(nid) != 13 or not nid.isdigit():
            errs.append(_err("id_number", errors.NID_FORMAT))
        elif not is_valid_national_id(nid):
            errs.append(_err("id_number", errors.NID_CHECKSUM))
    clean["national_id"] = nid if nid and not errs else ""
    if not values["first_name"] or not values["last_name"]:
        errs.append(_err("first_name", errors.NAME_REQUIRED))
    clean["first_name"], clean["last_name"] = values["first_name"], values["last_name"]
    clean["birth_date"] = None
    if values["birth_date"]:
        iso, _year = parse_date(values["birth_date"], fm.date_format)
        year_only = re.fullmatch(r"(00[/.-]00[/.-])?\d{4}", normalise_digits(values["birth_date"]).replace(" ", ""))
        if iso is None and (_year is None or not year_only):
            errs.append(_err("birth_date", errors.DATE_UNREADABLE))
        elif iso is not None:
            if dt.date.fromisoformat(iso) > dt.date.today():
                errs.append(_err("birth_date", errors.DATE_FUTURE))
            clean["birth_date"] = iso
    sex = parse_sex(values["sex"]) if values["sex"] else sex_from_title(values["title"])
    if sex is None:
        errs.append(_err("sex", errors.SEX_UNKNOWN))
    clean["sex"] = (sex or "").upper()
    village, problem = areas.village(values["area_code"], values["moo"] or None)
    if problem is not None:
        errs.append(_err("area_code", problem))
    elif village and not scope.contains(village):
        errs.append(_err("area_code", errors.AREA_OUTSIDE))
    clean["village"] = village or ""
    clean["relation"] = values["relation"]
    clean["household_key"] = values["household_key"]
    return clean, errs


def batch_stage(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    """Parse, validate and link every row into staging; the registry is not touched."""
    fm = parse_fields(batch.profile.fields, origin=batch.profile.name)
    try:
        frame = read_table(batch.file_path, fm.sheet)
        check_columns(fm, frame.columns, batch.file_name)
    except FieldsError as exc:
        with transaction.atomic():
            e = _err("file", errors.FILE_COLUMNS, reason=str(exc))
            batch.error = f"{e['message_th']} | {e['message_en']}"[:500]
            batch_transition(actor=actor, batch=batch, to=BatchStatus.FAILED, note=batch.error)
        return batch
    if frame.height == 0:
        with transaction.atomic():
            e = _err("file", errors.FILE_EMPTY)
            batch.error = f"{e['message_th']} | {e['message_en']}"
            batch_transition(actor=actor, batch=batch, to=BatchStatus.FAILED)
        return batch
    scope = Scope(
        frozenset(c for c in batch.scope_codes if len(c) < 8), frozenset(c for c in batch.scope_codes if len(c) == 8)
    )
    areas = _AreaResolver()
    extra = batch.profile.extra or {}
    staged: list[StagedRow] = []
    seen_ids: dict[str, int] = {}
    for i, raw in enumerate(frame.iter_rows(named=True), start=2):
        values = _row_values(fm, extra, raw)
        clean, errs = _validate(values, fm, areas, scope)
        nid = clean["national_id"]
        if nid and nid in seen_ids:
            errs.append(_err("id_number", errors.DUPLICATE_IN_FILE))
        elif nid:
            seen_ids[nid] = i
        staged.append(
            StagedRow(
                batch=batch,
                row_no=i,
                raw=raw,
                clean=clean,
                errors=errs,
                outcome=RowOutcome.REJECTED if errs else RowOutcome.NEW,
                area_code=clean["village"],
            )
        )
    _link(staged)
    counts = Counter(r.outcome for r in staged)
    with transaction.atomic():
        StagedRow.objects.filter(batch=batch).delete()
        StagedRow.objects.bulk_create(staged, batch_size=2000)
        batch.counts = {o: counts.get(o, 0) for o in RowOutcome.values} | {"rows": len(staged)}
        batch_transition(actor=actor, batch=batch, to=BatchStatus.PREVIEW)
    return batch


def _link(rows: list[StagedRow]) -> None:
    """Deterministic linkage to the registry: a valid national ID already registered is a
    match. Without an ID, the same name and birth date in the same village is uncertain
    (for review); the probabilistic engine (khm.engines.linkage) will refine this."""
    valid = [r for r in rows if r.outcome != RowOutcome.REJECTED]
    by_hash = {lookup_hash(r.clean["national_id"]): r for r in valid if r.clean["national_id"]}
    hashes = list(by_hash)
    for i in range(0, len(hashes), 900):
        for pid, h in Person.objects.filter(national_id_hash__in=hashes[i : i + 900]).values_list(
            "id", "national_id_hash"
        ):
            r = by_hash[str(h)]
            r.outcome, r.person_id = RowOutcome.MATCHED, pid
    no_id = [r for r in valid if not r.clean["national_id"]]
    villages = {r.clean["village"] for r in no_id}
    known = defaultdict(list)
    for pid, first, last, bd, area in Person.objects.filter(household__area_code__in=villages).values_list(
        "id", "first_name", "last_name", "birth_date", "household__area_code"
    ):
        known[(area, first, last)].append((pid, bd.isoformat() if bd else None))
    for r in no_id:
        cands = known.get((r.clean["village"], r.clean["first_name"], r.clean["last_name"]), [])
        fits = [pid for pid, bd in cands if bd == r.clean["birth_date"] or r.clean["birth_date"] is None]
        if fits:
            r.outcome, r.person_id, r.review = RowOutcome.UNCERTAIN, fits[0], ReviewStatus.PENDING


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


def batch_commit(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    """Write new people and households, and provenance for new and matched rows; all or nothing.

    Rejected rows and uncertain matches are not written: they wait in the batch (the
    error spreadsheet and, later, the review queue)."""
    scope = scope_for(actor, ACTION)
    if scope.empty:
        raise PermissionDenied
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if ImportBatch.objects.filter(
            source=batch.source, file_sha256=batch.file_sha256, status=BatchStatus.COMMITTED
        ).exists():
            raise ValidationError({"file": errors.FILE_ALREADY})
        rows = list(batch.rows.filter(outcome__in=[RowOutcome.NEW, RowOutcome.MATCHED]))
        villages = dict(Area.objects.filter(code__in={r.area_code for r in rows}).values_list("code", "id"))
        households: dict[tuple[str, str], Household] = {}
        created_people = 0
        for r in rows:
            if r.outcome == RowOutcome.MATCHED:
                continue
            r.person = create_person_from_row(r, villages, households)
            r.save(update_fields=["person"])
            created_people += 1
        PersonSource.objects.bulk_create(
            [
                PersonSource(person_id=r.person_id, source=batch.source, batch=batch, row_no=r.row_no)
                for r in rows
                if r.person_id
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
        batch.counts = dict(batch.counts) | {"households_created": len(households), "people_created": created_people}
        batch_transition(actor=actor, batch=batch, to=BatchStatus.COMMITTED)
        audit_record(
            actor=actor,
            action="import_batch.commit",
            object_type="import_batch",
            object_ref=batch.code,
            changes={
                "people_created": created_people,
                "households_created": len(households),
                "matched": batch.counts.get("matched", 0),
            },
        )
    return batch
