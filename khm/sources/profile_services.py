"""Source lists and their column-mapping profiles: every write of the profile pages, and
the helpers they need (reading a sample file, guessing columns from its header).

Sources and profiles hold no personal data and belong to no area: any officer who may
import (``source.import``) manages them; the services check that right themselves.

History is kept. A profile that an import batch used is never changed — the batch must
still say how its file was read — so editing it saves a new profile and leaves the old
one. A source that has imports keeps its code, kind and year/round (the provenance of
every person on it says "this list, this round"); the next round is a new source
(``source_copy_next_round``).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from khm.accounts.scoping import can
from khm.audit.services import audit_record, diff
from khm.engines.linkage.fields import ROLES as ENGINE_ROLES
from khm.engines.linkage.fields import FieldsError, parse_fields, read_table
from khm.sources import errors
from khm.sources.models import ImportBatch, MappingProfile, Source, SourceKind

ACTION = "source.import"

# --------------------------------------------------------------------------- roles

# Roles of the linkage engine's FIELDS.json the editor offers, in the order of the page.
# nickname only if the engine knows it (it does today; the guard keeps the editor honest).
SINGLE_ROLES: tuple[str, ...] = tuple(
    r
    for r in (
        "record_id", "id_number", "first_name", "last_name", "full_name", "nickname",
        "birth_date", "sex", "house_no", "area_code", "postcode",
    )
    if r in ENGINE_ROLES
)  # fmt: skip
MULTI_ROLES: tuple[str, ...] = ("address",)
# Registry-only roles (MappingProfile.extra): the engine does not know them.
EXTRA_ROLES: tuple[str, ...] = ("title", "village_no", "relation", "household_key")
OPTIONS: tuple[str, ...] = ("id_scheme", "date_format", "sheet")
COLUMN_ROLES: tuple[str, ...] = (*SINGLE_ROLES, *MULTI_ROLES, *EXTRA_ROLES)
# Keys of ``fields`` the editor writes; any other key (source, threshold, description …)
# of an existing profile is kept as it is.
MANAGED_KEYS = frozenset({*ENGINE_ROLES, "id_scheme", "date_format", "sheet"})

ROLE_LABELS: dict[str, Any] = {
    "record_id": _("Record ID"),
    "id_number": _("National ID"),
    "id_scheme": _("ID type"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "full_name": _("Full name (one column)"),
    "nickname": _("Nickname"),
    "birth_date": _("Birth date"),
    "date_format": _("Date format"),
    "sex": _("Sex"),
    "house_no": _("House number"),
    "address": _("Address columns"),
    "area_code": _("Area code"),
    "postcode": _("Postcode"),
    "title": _("Title"),
    "village_no": _("Village number (หมู่)"),
    "relation": _("Relation"),
    "household_key": _("Household code"),
    "sheet": _("Sheet (Excel)"),
    "name": _("Profile name"),
    "kind": _("Layout of"),
    "sample": _("Sample file"),
}
SOURCE_LABELS: dict[str, Any] = {
    "code": _("Code"),
    "kind": _("Kind of list"),
    "name_th": _("Thai name"),
    "name_en": _("English name"),
    "owner": _("Owner agency"),
    "round_label": _("Year / round"),
    "match_threshold": _("Match threshold"),
    "review_threshold": _("Review threshold"),
}

# --------------------------------------------------------------------------- messages

# English msgids (Thai in the catalogue); tests assert on them.
NAME_TAKEN = _("Another mapping profile already has this name: choose another name.")
NAME_REQUIRED = _("Give the profile a name.")
FULL_AND_SPLIT = _("Choose either one full-name column or the first and last name columns, not both.")
NAMES_MISSING = _("Choose the name columns: first and last name, or one full-name column.")
FIRST_NAME_MISSING = _("Choose the first name column, or one full-name column instead of first and last name.")
LAST_NAME_MISSING = _("Choose the last name column, or one full-name column instead of first and last name.")
AREA_MISSING = _("Choose the column with the village code (8 digits) or the subdistrict code (6 digits).")
SEX_MISSING = _("Choose the sex column, or the title column (นาย/นาง/นางสาว) from which sex can be read.")
ENGINE_REJECTS = _("The mapping cannot be used: %(reason)s")
BAD_KIND = _("Unknown kind of list.")
CODE_FORMAT = _("Use only letters, digits, - and _ (for example tpmap-2567).")
CODE_TAKEN = _("Another source list already has this code.")
CODE_LOCKED = _(
    "This source list already has imports: its code, kind and year/round cannot change. "
    "Use “Copy for next year” for a new round."
)
ROUND_REQUIRED = _("Give the year or round, for example 2567.")
NAME_TH_REQUIRED = _("Give the Thai name of the list.")
THRESHOLDS = _("The thresholds must satisfy 0 < review threshold < match threshold ≤ 1.")
NEXT_ROUND_EXISTS = _("The next round already exists: %(code)s.")
NO_NEXT_ROUND = _("The year/round has no number to count on from: create the next round by hand.")
SAMPLE_TYPE = _("Only CSV and Excel (.xlsx, .xls) or .ods files can be read.")
SAMPLE_NO_COLUMNS = _("The file has no header row with column names.")


def bilingual(label: Any, message: Any, **params: Any) -> str:
    """One message naming the field in Thai and in English (Thai first), like the row
    errors of an import (khm.sources.services._err)."""

    def render(language: str) -> str:
        with translation.override(language):
            text = str(message) % params if params else str(message)
            return f"{label}: {text}" if label else text

    th, en = render("th"), render("en")
    return th if th == en else f"{th} — {en}"


def _invalid(problems: Mapping[str, list[str]]) -> ValidationError:
    return ValidationError(
        {k: [ValidationError(m, code="bilingual") for m in msgs] for k, msgs in problems.items() if msgs}
    )


def _check_actor(actor: Any) -> None:
    if not can(actor, ACTION):
        raise PermissionDenied


# --------------------------------------------------------------------------- mappings


def build_mapping(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(fields, extra) in the stored form from role → column(s) as a form gives them.
    Empty roles are left out; the options go with the roles they qualify."""

    def one(key: str) -> str:
        v = values.get(key)
        return str(v).strip() if v else ""

    fields: dict[str, Any] = {}
    for role in ("record_id", "id_number"):
        if one(role):
            fields[role] = one(role)
    if "id_number" in fields:
        fields["id_scheme"] = one("id_scheme") or "thai_national_id"
    for role in ("first_name", "last_name", "full_name", "nickname", "birth_date"):
        if role in SINGLE_ROLES and one(role):
            fields[role] = one(role)
    if "birth_date" in fields and one("date_format"):
        fields["date_format"] = one("date_format")
    for role in ("sex", "house_no"):
        if one(role):
            fields[role] = one(role)
    address = values.get("address") or []
    if isinstance(address, str):
        address = address.split(",")
    address = [str(a).strip() for a in address if str(a).strip()]
    if address:
        fields["address"] = address
    for role in ("area_code", "postcode", "sheet"):
        if one(role):
            fields[role] = one(role)
    extra = {role: one(role) for role in EXTRA_ROLES if one(role)}
    return fields, extra


def mapping_problems(fields: Mapping[str, Any], extra: Mapping[str, str]) -> dict[str, list[str]]:
    """What stops this mapping from importing a list, per role, in Thai and English.

    Beyond what the engine checks (parse_fields), a mapping must name the person (first +
    last name or one full-name column), the area (village or subdistrict code) and give
    sex (a sex or a title column): without them every row of the file would be rejected.
    """
    problems: dict[str, list[str]] = {}

    def add(role: str, message: Any, **params: Any) -> None:
        problems.setdefault(role, []).append(bilingual(ROLE_LABELS.get(role, ""), message, **params))

    def has(role: str) -> bool:
        return bool(fields.get(role))

    if has("full_name") and (has("first_name") or has("last_name")):
        add("full_name", FULL_AND_SPLIT)
    elif not has("full_name"):
        if not has("first_name") and not has("last_name"):
            add("first_name", NAMES_MISSING)
        elif not has("first_name"):
            add("first_name", FIRST_NAME_MISSING)
        elif not has("last_name"):
            add("last_name", LAST_NAME_MISSING)
    if not has("area_code"):
        add("area_code", AREA_MISSING)
    if not has("sex") and not extra.get("title"):
        add("sex", SEX_MISSING)
    if not problems:
        try:
            parse_fields(dict(fields), origin="profile")
        except FieldsError as exc:
            problems["__all__"] = [bilingual("", ENGINE_REJECTS, reason=str(exc))]
    return problems


def profile_initial(profile: MappingProfile) -> dict[str, Any]:
    """Role → column(s) of a saved profile, as the editor shows them."""
    out: dict[str, Any] = {"name": profile.name, "kind": profile.kind}
    try:
        fm = parse_fields(profile.fields, origin=profile.name)
    except FieldsError:
        fm = None
    if fm is not None:
        for role in SINGLE_ROLES:
            out[role] = fm.column(role) or ""
        out["address"] = list(fm.columns.get("address", ()))
        out["id_scheme"] = fm.id_scheme
        out["date_format"] = fm.date_format or ""
        out["sheet"] = fm.sheet or ""
    for role in EXTRA_ROLES:
        out[role] = (profile.extra or {}).get(role, "")
    return out


def _flat(fields: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(fields)
    if isinstance(data.get("fields"), dict):
        inner = data.pop("fields")
        data.update(inner)
    return data


def _with_unmanaged(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The editor's mapping plus the keys of the old one the editor does not manage."""
    kept = {k: v for k, v in _flat(old).items() if k not in MANAGED_KEYS}
    return {**dict(new), **kept}


def profile_usage(profile: MappingProfile) -> int:
    """How many import batches read their file with this profile (reads no personal data)."""
    return ImportBatch.objects.filter(profile=profile).count()


def profile_usages() -> dict[int, int]:
    return dict(ImportBatch.objects.values("profile_id").annotate(n=Count("id")).values_list("profile_id", "n"))


def source_usages() -> dict[int, int]:
    return dict(ImportBatch.objects.values("source_id").annotate(n=Count("id")).values_list("source_id", "n"))


_VERSION = re.compile(r" \(v(\d+)\)$")


def next_profile_name(name: str) -> str:
    """``<name> (v2)``, ``(v3)`` …: the first free name for a new version of a profile."""
    base = _VERSION.sub("", name)
    m = _VERSION.search(name)
    n = int(m.group(1)) + 1 if m else 2
    while True:
        suffix = f" (v{n})"
        candidate = base[: 100 - len(suffix)] + suffix
        if not MappingProfile.objects.filter(name=candidate).exists():
            return candidate
        n += 1


def _check_profile(*, name: str, kind: str, fields: Mapping[str, Any], extra: Mapping[str, str]) -> None:
    problems = mapping_problems(fields, extra)
    if not name.strip():
        problems.setdefault("name", []).append(bilingual(ROLE_LABELS["name"], NAME_REQUIRED))
    if kind not in SourceKind.values:
        problems.setdefault("kind", []).append(bilingual(ROLE_LABELS["kind"], BAD_KIND))
    if problems:
        raise _invalid(problems)


def _check_name_free(name: str, *, exclude: int | None = None) -> None:
    taken = MappingProfile.objects.filter(name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise _invalid({"name": [bilingual(ROLE_LABELS["name"], NAME_TAKEN)]})


def _snapshot(p: MappingProfile) -> dict[str, Any]:
    return {"name": p.name, "kind": p.kind, "fields": p.fields, "extra": p.extra or {}}


def profile_create(
    *, actor: Any, name: str, kind: str, fields: dict[str, Any], extra: dict[str, str], note: str = ""
) -> MappingProfile:
    """A new mapping profile, checked as the import will use it; audited."""
    _check_actor(actor)
    name = name.strip()
    _check_profile(name=name, kind=kind, fields=fields, extra=extra)
    with transaction.atomic():
        _check_name_free(name)
        profile = MappingProfile.objects.create(name=name, kind=kind, fields=fields, extra=extra)
        audit_record(
            actor=actor,
            action="mapping_profile.create",
            object_type="mapping_profile",
            object_ref=str(profile.pk),
            changes={k: [None, v] for k, v in _snapshot(profile).items()},
            note=note[:500],
        )
    return profile


def profile_update(
    *, actor: Any, profile: MappingProfile, name: str, kind: str, fields: dict[str, Any], extra: dict[str, str]
) -> MappingProfile:
    """Change a profile. If an import batch used it, the change is saved as a new profile
    (named ``name``, or ``<old name> (vN)`` when the name was left as it was) and the old
    one stays as the batches knew it; the caller tells the two cases apart by ``pk``.
    Saving without a change changes nothing."""
    _check_actor(actor)
    name = name.strip()
    fields = _with_unmanaged(profile.fields, fields)
    _check_profile(name=name, kind=kind, fields=fields, extra=extra)
    with transaction.atomic():
        # Locks the row: on PostgreSQL a batch inserted meanwhile (FK → KEY SHARE) waits.
        old = MappingProfile.objects.select_for_update().get(pk=profile.pk)
        new = {"name": name, "kind": kind, "fields": fields, "extra": extra}
        before = _snapshot(old)
        if before == new:
            return old
        if ImportBatch.objects.filter(profile=old).exists():
            new_name = next_profile_name(old.name) if name == old.name else name
            _check_name_free(new_name)
            copy = MappingProfile.objects.create(name=new_name, kind=kind, fields=fields, extra=extra)
            audit_record(
                actor=actor,
                action="mapping_profile.create",
                object_type="mapping_profile",
                object_ref=str(copy.pk),
                changes=diff(before, _snapshot(copy)),
                note=f"new version of profile {old.pk} ({old.name}), which import batches used"[:500],
            )
            return copy
        _check_name_free(name, exclude=old.pk)
        old.name, old.kind, old.fields, old.extra = name, kind, fields, extra
        old.save(update_fields=["name", "kind", "fields", "extra"])
        audit_record(
            actor=actor,
            action="mapping_profile.update",
            object_type="mapping_profile",
            object_ref=str(old.pk),
            changes=diff(before, new),
        )
    return old


# --------------------------------------------------------------------------- sources

_CODE = re.compile(r"^[-a-zA-Z0-9_]+$")
SOURCE_FIELDS = ("code", "kind", "name_th", "name_en", "owner", "round_label", "match_threshold", "review_threshold")
LOCKED_WHEN_USED = ("code", "kind", "round_label")


def thresholds_ok(match: float | None, review: float | None) -> bool:
    return match is not None and review is not None and 0 < review < match <= 1


def _source_problems(values: Mapping[str, Any], *, exclude: int | None = None) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}

    def add(key: str, message: Any, **params: Any) -> None:
        problems.setdefault(key, []).append(bilingual(SOURCE_LABELS[key], message, **params))

    code = values["code"]
    if not _CODE.match(code) or len(code) > 40:
        add("code", CODE_FORMAT)
    elif Source.objects.filter(code=code).exclude(pk=exclude or 0).exists():
        add("code", CODE_TAKEN)
    if values["kind"] not in SourceKind.values:
        add("kind", BAD_KIND)
    if not values["name_th"]:
        add("name_th", NAME_TH_REQUIRED)
    if not values["round_label"]:
        add("round_label", ROUND_REQUIRED)
    if not thresholds_ok(values["match_threshold"], values["review_threshold"]):
        add("review_threshold", THRESHOLDS)
    return problems


def _source_values(**kw: Any) -> dict[str, Any]:
    return {
        "code": (kw["code"] or "").strip(),
        "kind": kw["kind"],
        "name_th": (kw["name_th"] or "").strip(),
        "name_en": (kw.get("name_en") or "").strip(),
        "owner": kw.get("owner"),
        "round_label": (kw["round_label"] or "").strip(),
        "match_threshold": kw["match_threshold"],
        "review_threshold": kw["review_threshold"],
    }


def _source_snapshot(s: Source) -> dict[str, Any]:
    return {k: (s.owner.code if s.owner else None) if k == "owner" else getattr(s, k) for k in SOURCE_FIELDS}


def source_create(
    *,
    actor: Any,
    code: str,
    kind: str,
    name_th: str,
    round_label: str,
    name_en: str = "",
    owner: Any = None,
    match_threshold: float = 0.95,
    review_threshold: float = 0.5,
    note: str = "",
) -> Source:
    """A new source list (one list of one owner, one year/round); audited."""
    _check_actor(actor)
    values = _source_values(
        code=code, kind=kind, name_th=name_th, name_en=name_en, owner=owner, round_label=round_label,
        match_threshold=match_threshold, review_threshold=review_threshold,
    )  # fmt: skip
    with transaction.atomic():
        problems = _source_problems(values)
        if problems:
            raise _invalid(problems)
        source = Source.objects.create(**values)
        audit_record(
            actor=actor,
            action="source.create",
            object_type="source",
            object_ref=source.code,
            changes={k: [None, v] for k, v in _source_snapshot(source).items()},
            note=note[:500],
        )
    return source


def source_update(
    *,
    actor: Any,
    source: Source,
    code: str,
    kind: str,
    name_th: str,
    name_en: str,
    owner: Any,
    round_label: str,
    match_threshold: float,
    review_threshold: float,
) -> Source:
    """Change a source list. Once it has imports, its code, kind and year/round stay:
    every person imported from it carries "this list, this round" as provenance."""
    _check_actor(actor)
    values = _source_values(
        code=code, kind=kind, name_th=name_th, name_en=name_en, owner=owner, round_label=round_label,
        match_threshold=match_threshold, review_threshold=review_threshold,
    )  # fmt: skip
    with transaction.atomic():
        s = Source.objects.select_for_update().get(pk=source.pk)
        problems = _source_problems(values, exclude=s.pk)
        if ImportBatch.objects.filter(source=s).exists():
            for key in LOCKED_WHEN_USED:
                if values[key] != getattr(s, key):
                    problems.setdefault(key, []).append(bilingual(SOURCE_LABELS[key], CODE_LOCKED))
        if problems:
            raise _invalid(problems)
        before = _source_snapshot(s)
        for key, value in values.items():
            setattr(s, key, value)
        changes = diff(before, _source_snapshot(s))
        if not changes:
            return s
        s.save()
        audit_record(actor=actor, action="source.update", object_type="source", object_ref=s.code, changes=changes)
    return s


_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def next_round_label(label: str) -> str | None:
    """The label of the next round: the last number counts on ("2566" → "2567",
    "2566/1" → "2566/2"); None when the label has no number."""
    text = label.translate(_THAI_DIGITS)
    m = _LAST_NUMBER.search(text)
    if m is None:
        return None
    number = str(int(m.group(1)) + 1).zfill(len(m.group(1)))
    return text[: m.start()] + number + text[m.end() :]


def _replace_last(text: str, old: str, new: str) -> str | None:
    i = text.rfind(old)
    return None if i < 0 else text[:i] + new + text[i + len(old) :]


def source_copy_next_round(*, actor: Any, source: Source) -> Source:
    """The next round of a source: same kind, owner, names and thresholds, the year/round
    counted on by one, and a code to match ("tpmap-2566" → "tpmap-2567")."""
    _check_actor(actor)
    old_round = source.round_label.translate(_THAI_DIGITS)
    new_round = next_round_label(source.round_label)
    if new_round is None:
        raise _invalid({"round_label": [bilingual(SOURCE_LABELS["round_label"], NO_NEXT_ROUND)]})
    slug = re.sub(r"[^-a-zA-Z0-9_]+", "-", new_round).strip("-")
    code = _replace_last(source.code, re.sub(r"[^-a-zA-Z0-9_]+", "-", old_round).strip("-"), slug) if slug else None
    if not code or code == source.code:
        code = f"{source.code[: 39 - len(slug)]}-{slug}"
    code = code[:40]
    if (
        Source.objects.filter(code=code).exists()
        or Source.objects.filter(
            kind=source.kind, owner=source.owner, name_th=source.name_th, round_label=new_round
        ).exists()
    ):
        raise _invalid({"round_label": [bilingual(SOURCE_LABELS["round_label"], NEXT_ROUND_EXISTS, code=code)]})

    def renamed(name: str) -> str:
        return (_replace_last(name, source.round_label, new_round) or name) if source.round_label else name

    return source_create(
        actor=actor,
        code=code,
        kind=source.kind,
        name_th=renamed(source.name_th),
        name_en=renamed(source.name_en),
        owner=source.owner,
        round_label=new_round,
        match_threshold=source.match_threshold,
        review_threshold=source.review_threshold,
        note=f"next round of {source.code}",
    )


def profile_for_source(source: Source) -> MappingProfile | None:
    """The mapping profile to read this source's next file with: the one its latest import
    used, else the latest one used for the same kind of list, else the newest of that kind."""
    batch = ImportBatch.objects.filter(source=source).select_related("profile").order_by("-created_at").first()
    if batch is None:
        batch = (
            ImportBatch.objects.filter(source__kind=source.kind)
            .select_related("profile")
            .order_by("-created_at")
            .first()
        )
    if batch is not None:
        return batch.profile
    return MappingProfile.objects.filter(kind=source.kind).order_by("-created_at", "-pk").first()


# --------------------------------------------------------------------------- sample file

SAMPLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods")
CSV_SUFFIXES = (".csv", ".txt")
# A CSV sample is cut after this many bytes (at a line end): the header and the first
# rows are all the page needs, and a 90 MB list then reads as fast as a small one.
SAMPLE_CSV_BYTES = 1024 * 1024
PREVIEW_ROWS = 3
GUESS_VALUES = 200


@dataclass(frozen=True)
class Sample:
    """The header and first rows of a sample file; the file itself is not kept."""

    columns: list[str]
    rows: list[list[str]]
    guesses: dict[str, Any] = field(default_factory=dict)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def sample_read(*, file_name: str, chunks: Iterable[bytes], sheet: str | None = None) -> Sample:
    """Read a sample file (CSV in UTF-8 or TIS-620, XLSX, XLS, ODS) with the import's own
    reader through a temporary file that is deleted at once; return its header, the first
    rows for a preview and the guessed mapping."""
    label = ROLE_LABELS["sample"]
    suffix = Path(file_name).suffix.lower()
    if suffix not in SAMPLE_SUFFIXES:
        raise _invalid({"sample": [bilingual(label, SAMPLE_TYPE)]})
    with tempfile.TemporaryDirectory(prefix="khm-sample-") as tmp:
        path = Path(tmp) / f"sample{suffix}"
        written, cut = 0, False
        with path.open("wb") as fh:
            for chunk in chunks:
                if suffix in CSV_SUFFIXES and written + len(chunk) > SAMPLE_CSV_BYTES:
                    fh.write(chunk[: SAMPLE_CSV_BYTES - written])
                    cut = True
                    break
                fh.write(chunk)
                written += len(chunk)
        if cut:
            data = path.read_bytes()
            path.write_bytes(data[: data.rfind(b"\n") + 1] or data)
        try:
            frame = read_table(path, sheet or None)
        except Exception as exc:  # each reader (polars, zip, calamine) fails in its own way
            reason = str(exc).replace(str(path), file_name) if isinstance(exc, FieldsError) else type(exc).__name__
            raise _invalid({"sample": [bilingual(label, errors.FILE_UNREADABLE, reason=reason)]}) from None
    columns = [str(c) for c in frame.columns]
    if not columns:
        raise _invalid({"sample": [bilingual(label, SAMPLE_NO_COLUMNS)]})
    rows = [[_cell(v) for v in row] for row in frame.head(PREVIEW_ROWS).rows()]
    guesses = guess_roles(columns)
    birth = guesses.get("birth_date")
    if birth:
        values = frame.get_column(birth).drop_nulls().head(GUESS_VALUES).to_list()
        fmt = guess_date_format(values)
        if fmt:
            guesses["date_format"] = fmt
    return Sample(columns=columns, rows=rows, guesses=guesses)


# --------------------------------------------------------------------------- guessing


def _norm(header: str) -> str:
    return re.sub(r"[\s_\-./()]+", "", header.casefold())


def _names(*names: str) -> tuple[str, ...]:
    return tuple(_norm(n) for n in names)


# Header names seen in Thai lists (TPMAP, the KHM list, the bottom-20 % list, BMN,
# agency spreadsheets), best first.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "record_id": _names("record_id", "recordid", "row_id", "รหัสรายการ", "ลำดับที่", "ลำดับ", "seq", "no"),
    "id_number": _names(
        "เลขประจำตัวประชาชน",
        "เลขบัตรประชาชน",
        "เลขบัตรประจำตัวประชาชน",
        "บัตรประชาชน",
        "เลขประชาชน",
        "เลข 13 หลัก",
        "cid",
        "Citizen ID",
        "citizen_id",
        "national_id",
        "nationalid",
        "nid",
        "id_card",
        "idcard",
        "id card no",
    ),
    "first_name": _names("ชื่อ", "ชื่อจริง", "first_name", "firstname", "fname", "given_name", "name"),
    "last_name": _names("นามสกุล", "สกุล", "last_name", "lastname", "lname", "surname", "family_name"),
    "full_name": _names("ชื่อ-นามสกุล", "ชื่อ-สกุล", "ชื่อ นามสกุล", "full_name", "fullname", "name_surname"),
    "nickname": _names("ชื่อเล่น", "nickname", "nick_name", "nick"),
    "birth_date": _names(
        "วันเกิด",
        "วันเดือนปีเกิด",
        "วัน/เดือน/ปีเกิด",
        "วันที่เกิด",
        "ว/ด/ป เกิด",
        "birth_date",
        "birthdate",
        "date_of_birth",
        "dob",
        "birthday",
    ),
    "sex": _names("เพศ", "sex", "gender"),
    "house_no": _names("บ้านเลขที่", "เลขที่", "เลขที่บ้าน", "house_no", "houseno", "house_number", "house", "addr_no"),
    "area_code": _names(
        "รหัสหมู่บ้าน",
        "village_code",
        "villagecode",
        "vill_code",
        "รหัสพื้นที่",
        "area_code",
        "geocode",
        "รหัสตำบล",
        "subdistrict_code",
        "tambon_code",
        "tamboncode",
    ),
    "postcode": _names("รหัสไปรษณีย์", "postcode", "post_code", "postal_code", "zipcode", "zip"),
    "title": _names("คำนำหน้า", "คำนำหน้าชื่อ", "คำนำหน้านาม", "prefix", "title"),
    "village_no": _names("หมู่", "หมู่ที่", "ม.", "moo", "village_no", "villageno", "mu"),
    "relation": _names(
        "ความสัมพันธ์",
        "ความสัมพันธ์กับหัวหน้าครัวเรือน",
        "ความเกี่ยวพันกับหัวหน้าครัวเรือน",
        "ความเกี่ยวพัน",
        "สถานะในครัวเรือน",
        "relation",
        "relationship",
        "relation_to_head",
    ),
    "household_key": _names(
        "household_code",
        "householdcode",
        "household_id",
        "hh_code",
        "hhid",
        "hh_id",
        "รหัสครัวเรือน",
        "รหัสบ้าน",
        "เลขรหัสประจำบ้าน",
    ),
}
# Address parts and their place in a Thai address (house, หมู่, road, ตำบล, อำเภอ, จังหวัด):
# the engine joins the address columns in the order given and reads the house number
# from the start, so a guessed or ticked address is put in this order whatever the file's.
ADDRESS_RANK: dict[str, int] = {
    **dict.fromkeys(_names("ที่อยู่", "address", "ที่อยู่ตามทะเบียนบ้าน"), 0),
    **dict.fromkeys(SYNONYMS["house_no"], 0),
    **dict.fromkeys(SYNONYMS["village_no"], 1),
    **dict.fromkeys(_names("ถนน", "ซอย", "road", "soi", "street"), 2),
    **dict.fromkeys(_names("ตำบล", "แขวง", "subdistrict", "tambon"), 3),
    **dict.fromkeys(_names("อำเภอ", "เขต", "district", "amphoe"), 4),
    **dict.fromkeys(_names("จังหวัด", "province", "changwat"), 5),
}
OTHER_ADDRESS_RANK = 2  # a column the table does not know (ชื่อหมู่บ้าน …): after หมู่


def order_address(columns: Iterable[str]) -> list[str]:
    """Address columns in the order of a Thai address; ties keep the file's order."""
    cols = list(columns)
    return sorted(cols, key=lambda c: (ADDRESS_RANK.get(_norm(c), OTHER_ADDRESS_RANK), cols.index(c)))


def guess_roles(columns: Iterable[str]) -> dict[str, Any]:
    """Role → column(s) guessed from the header names alone; roles not recognised are absent.
    A column may serve several roles (บ้านเลขที่ is the house number and part of the address)."""
    normed = [(c, _norm(c)) for c in columns]
    by_norm: dict[str, str] = {}
    for c, n in normed:
        by_norm.setdefault(n, c)
    out: dict[str, Any] = {}
    for role, names in SYNONYMS.items():
        for n in names:
            if n in by_norm:
                out[role] = by_norm[n]
                break
    if "full_name" in out and ("first_name" in out or "last_name" in out):
        del out["full_name"]
    address = [c for c, n in normed if n in ADDRESS_RANK]
    if address:
        out["address"] = order_address(address)
    if "id_number" in out:
        out["id_scheme"] = "thai_national_id"
    return out


_DMY = re.compile(r"^\d{1,2}([/.\-])\d{1,2}[/.\-](\d{4})$")
_YMD = re.compile(r"^(\d{4})-\d{1,2}-\d{1,2}$")


def guess_date_format(values: Iterable[Any]) -> str:
    """The date format most values follow: day/month/year (Buddhist or Common Era) or
    year-month-day; "" when none stands out (the importer then recognises each value)."""
    counts: dict[str, int] = {}
    for v in values:
        text = str(v).translate(_THAI_DIGITS).strip()
        if m := _DMY.match(text):
            sep = m.group(1)
            era = " BE" if int(m.group(2)) > 2400 else ""
            fmt = f"%d{sep}%m{sep}%Y{era}"
        elif _YMD.match(text):
            fmt = "%Y-%m-%d"
        else:
            continue
        counts[fmt] = counts.get(fmt, 0) + 1
    if not counts:
        return ""
    return max(counts, key=lambda k: counts[k])
