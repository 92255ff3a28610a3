"""Load the Thai area tree, villages, population and boundaries into :class:`Area`/:class:`Boundary`.

Sources (see ``data/PROVENANCE.md``):

- provinces, districts, subdistricts and abolished codes: the ``geothai`` package, read at load
  time rather than copied, so upgrading the package upgrades the tree;
- Kalasin villages and local governments: ``data/kalasin_*.csv`` (tambon compilation, no licence
  stated). :func:`load_villages` takes an official DOPA village file instead;
- registered population 2021: ``data/th_population_dopa_2021.csv``;
- Kalasin district and subdistrict polygons: ``data/geo/*.geojson`` (HDX COD-AB, CC BY-IGO).

Every loader is an upsert keyed on the DOPA code: it reads what is already stored once, then
writes only new rows (``bulk_create``) and changed rows (``bulk_update``). Running it again
changes nothing, and a renamed area is updated in place, so foreign keys to it stay valid.
Nothing is ever deleted: households and cases point at areas with ``PROTECT``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import geothai
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override
from geothai.abolished import abolished_areas

from khm.areas.models import VILLAGE_CODE_LENGTH, Area, AreaLevel, Boundary, LocalGovernmentType

DATA_DIR = Path(__file__).resolve().parent / "data"
VILLAGES_CSV = DATA_DIR / "kalasin_villages.csv"
LOCAL_GOVERNMENTS_CSV = DATA_DIR / "kalasin_local_governments.csv"
POPULATION_CSV = DATA_DIR / "th_population_dopa_2021.csv"
DISTRICT_BOUNDARIES = DATA_DIR / "geo" / "kalasin_districts.geojson"
SUBDISTRICT_BOUNDARIES = DATA_DIR / "geo" / "kalasin_subdistricts.geojson"
BOUNDARY_FILES = (DISTRICT_BOUNDARIES, SUBDISTRICT_BOUNDARIES)


def _geothai_version() -> str:
    try:
        return version("geothai")
    except PackageNotFoundError:  # vendored or run from a source tree
        return "?"


GEOTHAI_SOURCE = f"geothai {_geothai_version()} / GeoThai data {geothai.DATA_VERSION}"
TAMBON_SOURCE = "tambon b5dfcce"
BOUNDARY_SOURCE = (
    "HDX COD-AB Thailand (OCHA / Royal Thai Survey Department, tha_admbnda_rtsd_20220121) "
    "via prasertcbs/thailand_gis 1682c1d"
)

_BATCH = 500
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_LEVEL_BY_NAME = {
    "province": AreaLevel.PROVINCE,
    "district": AreaLevel.DISTRICT,
    "subdistrict": AreaLevel.SUBDISTRICT,
}

# --------------------------------------------------------------------------- results


@dataclass
class LoadReport:
    """What a load did. Totals are counted in the database after the load."""

    provinces: int = 0
    districts: int = 0
    subdistricts: int = 0
    villages: int = 0
    abolished: int = 0
    boundaries: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    boundaries_created: int = 0
    boundaries_updated: int = 0
    villages_retired: int = 0
    unmatched_boundaries: list[str] = dataclasses.field(default_factory=list)


@dataclass
class VillageLoadResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0


# --------------------------------------------------------------------------- upsert engine


class _AreaWriter:
    """Upserts areas level by level, parents before children.

    All stored areas are read once (about 10,000 rows, a fraction of a second) so deciding
    between create, update and "nothing to do" costs no query per row.
    """

    def __init__(self) -> None:
        self.by_code: dict[str, Area] = {a.code: a for a in Area.objects.all()}
        self.created = 0
        self.updated = 0
        self.unchanged = 0

    def write(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Write rows of one level. Each row has ``code``, ``parent_code`` and field values."""
        to_create: list[Area] = []
        to_update: list[Area] = []
        changed_fields: set[str] = set()
        for row in rows:
            code = row["code"]
            parent_code = row.get("parent_code")
            parent = self.by_code.get(parent_code) if parent_code else None
            values = {k: v for k, v in row.items() if k not in ("code", "parent_code")}
            # A missing parent (an abolished code whose district is unknown to us) is not an
            # error: the code still resolves to its successors, it just hangs at the top.
            values["parent_id"] = parent.pk if parent else None
            values["path"] = code.ljust(VILLAGE_CODE_LENGTH, "0")
            area = self.by_code.get(code)
            if area is None:
                to_create.append(Area(code=code, **values))
                continue
            changed = [name for name, value in values.items() if getattr(area, name) != value]
            if changed:
                for name in changed:
                    setattr(area, name, values[name])
                to_update.append(area)
                changed_fields.update(changed)
            else:
                self.unchanged += 1
        if to_create:
            Area.objects.bulk_create(to_create, batch_size=_BATCH)
            self._fill_missing_pks(to_create)
            for area in to_create:
                self.by_code[area.code] = area
            self.created += len(to_create)
        if to_update:
            Area.objects.bulk_update(to_update, sorted(changed_fields), batch_size=_BATCH)
            self.updated += len(to_update)

    @staticmethod
    def _fill_missing_pks(areas: Sequence[Area]) -> None:
        # PostgreSQL and SQLite >= 3.35 return primary keys from bulk_create; others do not,
        # and children need the parent's pk.
        missing = [a for a in areas if a.pk is None]
        for start in range(0, len(missing), _BATCH):
            chunk = {a.code: a for a in missing[start : start + _BATCH]}
            for code, pk in Area.objects.filter(code__in=chunk).values_list("code", "pk"):
                chunk[code].pk = pk


# --------------------------------------------------------------------------- geothai tree


def _population(path: Path = POPULATION_CSV) -> dict[str, dict[str, Any]]:
    """Population fields by area code from a DOPA yearly statistics CSV."""
    result: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            result[row["code"]] = {
                "population": int(row["population_total"]) if row["population_total"] else None,
                "households": int(row["households"]) if row["households"] else None,
                "population_year": int(row["reference_date"][:4]),
            }
    return result


def area_tree_rows(
    population: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[int, list[dict[str, Any]]]:
    """Province, district and subdistrict rows (current and abolished) by level, from geothai."""
    population = population or {}
    rows: dict[int, list[dict[str, Any]]] = {
        AreaLevel.PROVINCE: [],
        AreaLevel.DISTRICT: [],
        AreaLevel.SUBDISTRICT: [],
    }

    def current(code: str, level: int, name_th: str, name_en: str, parent: str | None, postal: str) -> None:
        row: dict[str, Any] = {
            "code": code,
            "parent_code": parent,
            "level": level,
            "name_th": name_th,
            "name_en": name_en or "",
            "active": True,
            "abolished_on": None,
            "successor_codes": "",
            "postal_codes": postal,
            "village_no": None,
            "source": GEOTHAI_SOURCE,
        }
        # Population only for the areas the file lists: the others keep what is stored.
        row.update(population.get(code, {}))
        rows[level].append(row)

    in_force: set[str] = set()
    for province in geothai.provinces():
        current(province.code, AreaLevel.PROVINCE, province.name_th, province.name_en, None, "")
        in_force.add(province.code)
        for district in geothai.districts(province.code):
            current(district.code, AreaLevel.DISTRICT, district.name_th, district.name_en, province.code, "")
            in_force.add(district.code)
            for sub in geothai.subdistricts(district.code):
                postal = " ".join(sub.postal_codes)
                current(sub.code, AreaLevel.SUBDISTRICT, sub.name_th, sub.name_en, district.code, postal)
                in_force.add(sub.code)

    for old in abolished_areas():
        if old.code in in_force:  # a code brought back into use: the current entry wins
            continue
        level = _LEVEL_BY_NAME[old.level]
        rows[level].append(
            {
                "code": old.code,
                # geothai gives the code prefix; that district may itself be abolished (it is
                # then loaded first, with the other districts) or, in some future list, absent.
                "parent_code": old.parent_code,
                "level": level,
                "name_th": old.name_th,
                "name_en": old.name_en or "",
                "active": False,
                "abolished_on": date.fromisoformat(old.abolished_on),
                "successor_codes": " ".join(old.successors),
                "postal_codes": "",
                "village_no": None,
                "source": GEOTHAI_SOURCE,
            }
        )
    for level_rows in rows.values():
        level_rows.sort(key=lambda r: r["code"])
    return rows


# --------------------------------------------------------------------------- villages


@dataclass(frozen=True)
class RowProblem:
    """One wrong cell of an uploaded file. ``row`` counts like a spreadsheet: header is 1."""

    row: int
    field: str
    message: Promise | str
    # Formatting waits until rendering, so one problem can be shown in Thai and in English.
    params: Mapping[str, object] = dataclasses.field(default_factory=dict)

    def render(self) -> str:
        message = str(self.message) % self.params if self.params else str(self.message)
        return str(_("Row %(row)s, column “%(field)s”: %(message)s")) % {
            "row": self.row,
            "field": self.field,
            "message": message,
        }


class VillageFileError(ValueError):
    """A village file with wrong rows. Nothing was written.

    ``str()`` gives every problem in Thai and in English: the officer who prepared the file
    reads Thai, the support engineer who gets the error forwarded may not.
    """

    MAX_SHOWN = 50

    def __init__(self, path: Path | str, problems: Sequence[RowProblem]) -> None:
        self.path = Path(path)
        self.problems = list(problems)
        super().__init__(self.render())

    def messages(self, language: str) -> list[str]:
        with override(language):
            lines = [p.render() for p in self.problems[: self.MAX_SHOWN]]
            hidden = len(self.problems) - self.MAX_SHOWN
            if hidden > 0:
                lines.append(str(_("… and %(count)s more problems.") % {"count": hidden}))
            return lines

    def render(self) -> str:
        blocks = []
        for language in ("th", "en"):
            with override(language):
                title = str(
                    _("The village file %(name)s has %(count)s problem(s); nothing was loaded.")
                    % {"name": self.path.name, "count": len(self.problems)}
                )
            blocks.append("\n".join([title, *("  " + line for line in self.messages(language))]))
        return "\n\n".join(blocks)


@dataclass(frozen=True)
class VillageRow:
    code: str
    village_no: int
    name_th: str
    name_en: str
    subdistrict_code: str


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")  # also strips the BOM Excel writes
    except UnicodeDecodeError:
        # Files saved by older Thai Windows tools are TIS-620 / Windows-874.
        return data.decode("cp874")


def read_village_file(
    path: Path | str,
    *,
    subdistricts: Mapping[str, tuple[bool, str]] | None = None,
) -> list[VillageRow]:
    """Read and check a village CSV with columns ``code,name_th[,name_en]``.

    ``code`` is the 8-digit DOPA village code: the first 6 digits are the subdistrict, the last
    2 the village number (หมู่). ``subdistricts`` maps subdistrict code to ``(active,
    successor_codes)``; by default it is read from the database, so load the tree first.
    Raises :class:`VillageFileError` listing every wrong row; returns the rows otherwise.
    """
    path = Path(path)
    if subdistricts is None:
        subdistricts = {
            code: (active, successors)
            for code, active, successors in Area.objects.filter(level=AreaLevel.SUBDISTRICT).values_list(
                "code", "active", "successor_codes"
            )
        }
    problems: list[RowProblem] = []
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    for required in ("code", "name_th"):
        if required not in header:
            problems.append(RowProblem(1, required, _("The column is missing from the header row.")))
    if problems:
        raise VillageFileError(path, problems)
    col = {name: i for i, name in enumerate(header)}

    def cell(values: list[str], name: str) -> str:
        i = col.get(name)
        return values[i].strip() if i is not None and i < len(values) else ""

    rows: list[VillageRow] = []
    first_seen: dict[str, int] = {}
    for row_no, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue  # blank lines at the end of hand-edited files
        code = cell(values, "code").translate(_THAI_DIGITS)
        name_th = cell(values, "name_th")
        bad = len(problems)
        if not code:
            problems.append(RowProblem(row_no, "code", _("The village code is empty.")))
        elif len(code) != VILLAGE_CODE_LENGTH or not code.isdigit():
            problems.append(
                RowProblem(
                    row_no,
                    "code",
                    _("“%(value)s” is not an 8-digit village code."),
                    {"value": code},
                )
            )
        elif code.endswith("00"):
            problems.append(
                RowProblem(
                    row_no,
                    "code",
                    _("“%(value)s” ends in 00, but village numbers start at 01."),
                    {"value": code},
                )
            )
        else:
            parent = code[:6]
            known = subdistricts.get(parent)
            if known is None:
                problems.append(
                    RowProblem(
                        row_no,
                        "code",
                        _("Subdistrict %(code)s (the first 6 digits of the code) does not exist."),
                        {"code": parent},
                    )
                )
            elif not known[0]:
                problems.append(
                    RowProblem(
                        row_no,
                        "code",
                        _("Subdistrict %(code)s was abolished; its villages now belong to %(successors)s."),
                        {"code": parent, "successors": known[1] or "?"},
                    )
                )
            if code in first_seen:
                problems.append(
                    RowProblem(
                        row_no,
                        "code",
                        _("Village code %(code)s appears twice (first on row %(first)s)."),
                        {"code": code, "first": first_seen[code]},
                    )
                )
            else:
                first_seen[code] = row_no
            number = cell(values, "village_no").translate(_THAI_DIGITS)
            if number and (not number.isdigit() or int(number) != int(code[-2:])):
                problems.append(
                    RowProblem(
                        row_no,
                        "village_no",
                        _("Village number “%(value)s” differs from the last two digits of the code."),
                        {"value": number},
                    )
                )
        if not name_th:
            problems.append(RowProblem(row_no, "name_th", _("The Thai name is empty.")))
        if len(problems) == bad:
            rows.append(VillageRow(code, int(code[-2:]), name_th, cell(values, "name_en"), code[:6]))
    if problems:
        raise VillageFileError(path, problems)
    return rows


def _village_area_rows(villages: Iterable[VillageRow], source: str) -> list[dict[str, Any]]:
    return [
        {
            "code": v.code,
            "parent_code": v.subdistrict_code,
            "level": AreaLevel.VILLAGE,
            "name_th": v.name_th,
            "name_en": v.name_en,
            "active": True,
            "abolished_on": None,
            "successor_codes": "",
            "postal_codes": "",
            "village_no": v.village_no,
            "source": source,
        }
        for v in sorted(villages, key=lambda v: v.code)
    ]


def _write_villages(
    writer: _AreaWriter,
    villages: list[VillageRow],
    source: str,
    *,
    retire_missing: bool,
) -> int:
    writer.write(_village_area_rows(villages, source))
    if not retire_missing:
        return 0
    # An official list replaces the demo one: villages it does not name, inside the
    # subdistricts it covers, are marked not in force (never deleted: records point at them).
    listed = {v.code for v in villages}
    covered = {v.subdistrict_code for v in villages}
    stale = [
        a
        for a in writer.by_code.values()
        if a.level == AreaLevel.VILLAGE and a.active and a.code[:6] in covered and a.code not in listed
    ]
    for area in stale:
        area.active = False
    Area.objects.bulk_update(stale, ["active"], batch_size=_BATCH)
    return len(stale)


def load_villages(
    path: Path | str,
    *,
    source: str | None = None,
    retire_missing: bool = False,
) -> VillageLoadResult:
    """Load an official DOPA village file (``code,name_th[,name_en]``, 8-digit codes).

    Checks the whole file first and raises :class:`VillageFileError` without writing anything
    if any row is wrong. ``retire_missing`` marks villages not in the file as not in force,
    inside the subdistricts the file lists; use it only with a complete list.
    """
    path = Path(path)
    villages = read_village_file(path)
    with transaction.atomic():
        writer = _AreaWriter()
        retired = _write_villages(
            writer,
            villages,
            source or f"DOPA file {path.name}"[:100],
            retire_missing=retire_missing,
        )
    return VillageLoadResult(
        rows=len(villages),
        created=writer.created,
        updated=writer.updated,
        unchanged=writer.unchanged,
        retired=retired,
    )


# --------------------------------------------------------------------------- boundaries


def _load_boundaries(writer: _AreaWriter, paths: Sequence[Path], report: LoadReport) -> None:
    existing = {b.area_id: b for b in Boundary.objects.all()}
    to_create: list[Boundary] = []
    to_update: list[Boundary] = []
    for path in paths:
        collection = json.loads(path.read_text(encoding="utf-8"))
        for feature in collection["features"]:
            code = feature["properties"]["code"]
            area = writer.by_code.get(code)
            if area is None:
                report.unmatched_boundaries.append(code)
                continue
            boundary = existing.get(area.pk)
            if boundary is None:
                boundary = Boundary(
                    area_id=area.pk,
                    geometry=feature["geometry"],
                    source=BOUNDARY_SOURCE,
                )
                existing[area.pk] = boundary
                to_create.append(boundary)
            elif boundary.geometry != feature["geometry"] or boundary.source != BOUNDARY_SOURCE:
                boundary.geometry = feature["geometry"]
                boundary.source = BOUNDARY_SOURCE
                to_update.append(boundary)
    Boundary.objects.bulk_create(to_create, batch_size=100)
    Boundary.objects.bulk_update(to_update, ["geometry", "source"], batch_size=100)
    report.boundaries_created = len(to_create)
    report.boundaries_updated = len(to_update)


# --------------------------------------------------------------------------- everything


def load_all(
    *,
    villages_path: Path | str | None = None,
    boundaries: bool = True,
    retire_missing_villages: bool = False,
    population_path: Path | None = POPULATION_CSV,
    boundary_paths: Sequence[Path] = BOUNDARY_FILES,
) -> LoadReport:
    """Load or refresh the whole tree in one transaction; see the module docstring.

    ``villages_path`` is an official DOPA village file to use instead of the bundled Kalasin
    list. The village file is checked before anything is written.
    """
    population = _population(population_path) if population_path else {}
    tree = area_tree_rows(population)
    # Check the village file against the tree before writing anything, so a wrong file
    # leaves the database as it was.
    subdistricts = {row["code"]: (row["active"], row["successor_codes"]) for row in tree[AreaLevel.SUBDISTRICT]}
    if villages_path is None:
        villages = read_village_file(VILLAGES_CSV, subdistricts=subdistricts)
        source = TAMBON_SOURCE
    else:
        villages = read_village_file(villages_path, subdistricts=subdistricts)
        source = f"DOPA file {Path(villages_path).name}"[:100]
    report = LoadReport()
    with transaction.atomic():
        writer = _AreaWriter()
        for level in (AreaLevel.PROVINCE, AreaLevel.DISTRICT, AreaLevel.SUBDISTRICT):
            writer.write(tree[level])
        if villages_path is None:
            # The bundled demo list never overrides an official one: subdistricts whose
            # villages came from another file (e.g. a DOPA list loaded with --villages) are
            # left as they are, including the villages that list retired.
            official = {
                a.code[:6] for a in writer.by_code.values() if a.level == AreaLevel.VILLAGE and a.source != source
            }
            villages = [v for v in villages if v.subdistrict_code not in official]
        report.villages_retired = _write_villages(writer, villages, source, retire_missing=retire_missing_villages)
        if boundaries:
            _load_boundaries(writer, boundary_paths, report)
    report.created, report.updated, report.unchanged = (
        writer.created,
        writer.updated,
        writer.unchanged,
    )
    active = Area.objects.filter(active=True)
    report.provinces = active.filter(level=AreaLevel.PROVINCE).count()
    report.districts = active.filter(level=AreaLevel.DISTRICT).count()
    report.subdistricts = active.filter(level=AreaLevel.SUBDISTRICT).count()
    report.villages = active.filter(level=AreaLevel.VILLAGE).count()
    report.abolished = Area.objects.filter(active=False).exclude(level=AreaLevel.VILLAGE).count()
    report.boundaries = Boundary.objects.count()
    return report


# --------------------------------------------------------------------------- abolished codes


def _resolve(code: str, lookup: Callable[[str], tuple[bool, str] | None]) -> list[str]:
    """Follow successor chains from ``code`` to codes in force, in order, without repeats."""
    code = code.strip().translate(_THAI_DIGITS)
    result: list[str] = []
    seen: set[str] = set()
    pending = [code]
    while pending:
        current = pending.pop(0)
        if current in seen:  # a cycle in bad data must not hang an import
            continue
        seen.add(current)
        found = lookup(current)
        if found is None:
            continue
        active, successors = found
        if active:
            if current not in result:
                result.append(current)
        else:
            pending.extend(successors.split())
    return result


def resolve_code(code: str) -> list[str]:
    """The code(s) in force today for a possibly abolished DOPA code.

    A code in force gives itself; an abolished one gives its successors, following chains
    (A → B → C); a split gives several codes; an unknown code, or an abolished one with no
    known successor, gives ``[]``. One query per step; use :func:`code_resolver` for bulk.
    """

    def lookup(c: str) -> tuple[bool, str] | None:
        return Area.objects.filter(code=c).values_list("active", "successor_codes").first()

    return _resolve(code, lookup)


def code_resolver() -> Callable[[str], list[str]]:
    """A :func:`resolve_code` that reads the table once, for importers of large old lists."""
    table = {
        code: (active, successors)
        for code, active, successors in Area.objects.values_list("code", "active", "successor_codes")
    }
    return lambda code: _resolve(code, table.get)


# --------------------------------------------------------------------------- local governments


@dataclass
class LocalGovernmentRow:
    """A local government (อปท.) of Kalasin and the villages in its jurisdiction.

    ``dopa_code`` is empty for SAOs and for municipalities that are offices of a subdistrict:
    the source has codes only for municipalities that are entities of their own. ``key`` is
    stable across loads for every row (the DOPA code, or where the office sits).
    """

    dopa_code: str
    type: str
    name_th: str
    name_en: str
    short_name_th: str
    district_code: str
    covers: list[tuple[str, str]]
    villages: list[str]
    short_name_en: str = ""
    key: str = ""


# Order in which local governments that share a subdistrict take its villages (see
# ``_split``): larger municipality types first, then those with their own DOPA code (the
# older town-core municipalities).
_TYPE_ORDER: dict[str, int] = {
    LocalGovernmentType.PAO: 0,
    LocalGovernmentType.CITY: 1,
    LocalGovernmentType.TOWN: 2,
    LocalGovernmentType.SUBDISTRICT_MUNICIPALITY: 3,
    LocalGovernmentType.SAO: 4,
}


def _split(villages: Sequence[str], count: int) -> list[list[str]]:
    """Cut villages (sorted by number) into ``count`` contiguous runs of near-equal size."""
    size, extra = divmod(len(villages), count)
    runs, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        runs.append(list(villages[start:end]))
        start = end
    return runs


def iter_local_governments(
    path: Path | str = LOCAL_GOVERNMENTS_CSV,
    *,
    villages_by_subdistrict: Mapping[str, Sequence[str]] | None = None,
) -> list[LocalGovernmentRow]:
    """Kalasin local governments with the village codes in each one's jurisdiction.

    - a subdistrict a local government covers *completely* gives it all its villages;
    - a subdistrict several cover *partially* has its villages, sorted by number, cut into
      contiguous runs, one per local government, in a fixed order (type, then own DOPA code).
      **This split is an assumption for the demo**: the source says which subdistricts are
      shared, not which villages go where. Officers must correct it with the real list;
    - a single partial claim (no one else named) gets the whole subdistrict;
    - the PAO covers the province and gets no villages: province-wide access is a role.

    ``villages_by_subdistrict`` defaults to the villages in force in the database, so a
    loaded official village list is used automatically.
    """
    with Path(path).open(encoding="utf-8", newline="") as handle:
        raw = list(csv.DictReader(handle))
    rows = [
        LocalGovernmentRow(
            dopa_code=r["dopa_code"],
            type=r["type"],
            name_th=r["name_th"],
            name_en=r["name_en"],
            short_name_th=r["short_name_th"],
            short_name_en=r["short_name_en"],
            district_code=r["district_code"],
            covers=[(c.split(":")[0], c.split(":")[1]) for c in r["covers"].split()],
            villages=[],
            key=r["dopa_code"] or r["note"],
        )
        for r in raw
    ]
    if villages_by_subdistrict is None:
        grouped: dict[str, list[str]] = defaultdict(list)
        lo, hi = "46000000", "46999999"
        codes = Area.objects.filter(level=AreaLevel.VILLAGE, active=True, path__range=(lo, hi))
        for code in codes.order_by("code").values_list("code", flat=True):
            grouped[code[:6]].append(code)
        villages_by_subdistrict = grouped

    complete: dict[str, list[int]] = defaultdict(list)
    partial: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        if row.type == LocalGovernmentType.PAO:
            continue
        for code, extent in row.covers:
            (complete if extent == "completely" else partial)[code].append(i)

    def order(i: int) -> tuple[int, int, str, str]:
        row = rows[i]
        return (
            _TYPE_ORDER.get(row.type, 9),
            0 if row.dopa_code else 1,
            row.dopa_code,
            row.key,
        )

    for sub in sorted(set(complete) | set(partial)):
        villages = sorted(villages_by_subdistrict.get(sub, ()))
        # "completely" wins over any partial claim on the same subdistrict: it is the
        # stronger statement, and one village must never have two local governments.
        owners = sorted(complete[sub], key=order)[:1] or sorted(partial[sub], key=order)
        for owner, run in zip(owners, _split(villages, len(owners)), strict=True):
            rows[owner].villages.extend(run)
    return rows
