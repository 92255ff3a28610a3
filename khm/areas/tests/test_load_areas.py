"""load_areas: counts, idempotency, abolished codes, subtrees, village files, local governments.

The whole tree (about 11,600 areas) is loaded once per module, outside the per-test
transactions, and removed at the end; each test still runs in its own rolled-back
transaction, so tests that change areas do not leak into each other.
"""

from __future__ import annotations

from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext

from khm.areas.loaders import (
    VillageFileError,
    code_resolver,
    iter_local_governments,
    load_all,
    load_villages,
    resolve_code,
)
from khm.areas.models import Area, AreaLevel, Boundary, LocalGovernmentType
from khm.areas.selectors import area_subtree_range, subtree

KALASIN = "46"


def _wipe() -> None:
    Boundary.objects.all().delete()
    # Children first: parents are PROTECTed.
    for level in (AreaLevel.VILLAGE, AreaLevel.SUBDISTRICT, AreaLevel.DISTRICT, AreaLevel.PROVINCE):
        Area.objects.filter(level=level).delete()


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    # Committed outside the per-test transactions. If a session fixture already loaded the
    # tree, load_all only refreshes it and we leave it in place for the tests after us.
    with django_db_blocker.unblock():
        preloaded = Area.objects.exists()
        report = load_all()
    yield report
    if not preloaded:
        with django_db_blocker.unblock():
            _wipe()


def _run_command(*args: str) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("load_areas", *args, stdout=out)
    return out.getvalue()


def _snapshot() -> dict[str, tuple]:
    return {
        row[0]: row[1:]
        for row in Area.objects.values_list("code", "name_th", "name_en", "parent_id", "active", "population")
    }


# --------------------------------------------------------------------------- counts


@pytest.mark.django_db
def test_counts_of_the_whole_tree(loaded):
    assert (loaded.provinces, loaded.districts, loaded.subdistricts) == (77, 928, 7436)
    assert loaded.villages == 1584
    assert loaded.abolished == 1583  # 80 districts + 1,503 subdistricts, per geothai 3.2.1
    assert loaded.boundaries == 18 + 135
    assert loaded.unmatched_boundaries == []


@pytest.mark.django_db
def test_kalasin_counts(loaded):
    in_force = subtree(KALASIN, active_only=True)
    counts = Counter(in_force.values_list("level", flat=True))
    assert counts == {
        AreaLevel.PROVINCE: 1,
        AreaLevel.DISTRICT: 18,
        AreaLevel.SUBDISTRICT: 135,
        AreaLevel.VILLAGE: 1584,
    }
    assert subtree(KALASIN).filter(active=False).count() == 27
    assert Boundary.objects.filter(area__level=AreaLevel.DISTRICT).count() == 18
    assert Boundary.objects.filter(area__level=AreaLevel.SUBDISTRICT).count() == 135


@pytest.mark.django_db
def test_fields_of_loaded_areas(loaded):
    province = Area.objects.get(code=KALASIN)
    assert (province.name_th, province.name_en, province.level) == ("กาฬสินธุ์", "Kalasin", AreaLevel.PROVINCE)
    assert (province.population, province.households, province.population_year) == (975570, 316604, 2021)
    assert province.source.startswith("geothai ")
    assert province.path == "46000000"

    village = Area.objects.select_related("parent").get(code="46010202")
    assert (village.name_th, village.name_en, village.village_no) == ("บ้านสิมลี", "Ban Sim Li", 2)
    assert village.parent.code == "460102"
    assert village.source == "tambon b5dfcce"

    # Na Khu's postal code changed to 46250 in 2021 (see shared/data README).
    assert Area.objects.get(code="461601").postal_codes == "46250"
    # Every area in force above village level has 2021 population.
    above_villages = Area.objects.filter(active=True).exclude(level=AreaLevel.VILLAGE)
    assert not above_villages.filter(population__isnull=True).exists()


@pytest.mark.django_db
def test_every_area_hangs_under_its_code_prefix(loaded):
    rows = Area.objects.values_list("code", "parent__code", "path")
    for code, parent_code, path in rows:
        assert path == code.ljust(8, "0")
        assert parent_code == (code[:-2] or None)


# --------------------------------------------------------------------------- idempotency


@pytest.mark.django_db
def test_command_twice_changes_nothing(loaded):
    before = _snapshot()
    boundaries = Boundary.objects.count()
    out = _run_command()
    assert "Provinces in force: 77" in out
    assert "Districts in force: 928" in out
    assert "Subdistricts in force: 7436" in out
    assert "Villages in force: 1584" in out
    assert "Abolished codes: 1583" in out
    assert "Boundaries: 153" in out
    assert "Areas created: 0, updated: 0, unchanged: 11608" in out
    again = _run_command()
    assert again.splitlines()[:-1] == out.splitlines()[:-1]  # the last line is the timing
    assert _snapshot() == before
    assert Boundary.objects.count() == boundaries


@pytest.mark.django_db
def test_load_updates_changed_names_in_place(loaded):
    district = Area.objects.get(code="4601")
    Area.objects.filter(code="4601").update(name_th="ชื่อเก่า", name_en="Old name")
    Area.objects.filter(code="46010202").update(name_en="Ban Simlee")
    Boundary.objects.filter(area__code="4601").update(geometry={"type": "Point", "coordinates": [0, 0]})
    report = load_all()
    assert (report.created, report.updated) == (0, 2)
    assert report.boundaries_updated == 1
    refreshed = Area.objects.get(code="4601")
    assert refreshed.pk == district.pk  # updated in place: foreign keys stay valid
    assert (refreshed.name_th, refreshed.name_en) == ("เมืองกาฬสินธุ์", "Mueang Kalasin")
    assert Area.objects.get(code="46010202").name_en == "Ban Sim Li"
    assert refreshed.boundary.geometry["type"] in {"Polygon", "MultiPolygon"}


@pytest.mark.django_db
def test_no_boundaries_option_leaves_boundaries_alone(loaded):
    Boundary.objects.filter(area__code="4602").delete()
    out = _run_command("--no-boundaries")
    assert "Boundaries: 152" in out
    assert not Boundary.objects.filter(area__code="4602").exists()


# --------------------------------------------------------------------------- abolished codes


@pytest.mark.django_db
def test_abolished_kalasin_code_resolves_to_successor(loaded):
    old = Area.objects.get(code="460110")  # ม่วงนา moved from Mueang Kalasin to Don Chan
    assert not old.active
    assert str(old.abolished_on) == "2006-01-01"
    assert old.successor_codes == "461704"
    assert old.parent.code == "4601"
    assert resolve_code("460110") == ["461704"]
    assert Area.objects.get(code="461704").name_th == old.name_th


@pytest.mark.django_db
def test_resolve_code_edge_cases(loaded):
    assert resolve_code("4601") == ["4601"]  # in force: itself
    assert resolve_code(" 46010202 ") == ["46010202"]
    assert resolve_code("999999") == []  # unknown
    assert resolve_code("460306") == []  # abolished, no known successor
    assert resolve_code("104701") == ["104702", "104703"]  # Bang Na split in two (2022)


@pytest.mark.django_db
def test_resolve_code_follows_chains_and_survives_cycles(loaded):
    # The data has no chain today; make one: 460110 → 461704 → 461701 + 461702.
    Area.objects.filter(code="461704").update(active=False, successor_codes="461701 461702")
    assert resolve_code("460110") == ["461701", "461702"]
    assert code_resolver()("460110") == ["461701", "461702"]
    Area.objects.filter(code="461701").update(active=False, successor_codes="460110")
    assert resolve_code("460110") == ["461702"]


@pytest.mark.django_db
def test_abolished_subdistrict_under_abolished_district(loaded):
    nested = Area.objects.filter(level=AreaLevel.SUBDISTRICT, active=False, parent__active=False)
    assert nested.exists()
    assert not Area.objects.exclude(level=AreaLevel.PROVINCE).filter(parent__isnull=True).exists()


# --------------------------------------------------------------------------- subtree


@pytest.mark.django_db
def test_subtree_is_one_range_query_with_exactly_the_descendants(loaded):
    expected = {c for c in Area.objects.values_list("code", flat=True) if c.startswith("4601")}
    with CaptureQueriesContext(connection) as queries:
        found = set(subtree("4601").values_list("code", flat=True))
    assert found == expected
    assert len(queries) == 1
    assert "BETWEEN" in queries[0]["sql"].upper()
    assert "LIKE" not in queries[0]["sql"].upper()
    assert area_subtree_range("4601") == ("46010000", "46019999")
    assert set(subtree("460102", include_self=False).values_list("code", flat=True)) == {
        c for c in expected if c.startswith("460102") and c != "460102"
    }
    assert Area._meta.get_field("path").db_index


# --------------------------------------------------------------------------- village files


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "villages.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.django_db
def test_bad_village_file_names_row_and_column_in_both_languages(loaded, tmp_path):
    path = _write(
        tmp_path,
        "code,name_th,name_en\n"
        "46010201,บ้านโนนสำราญ,Ban Non Samran\n"
        "4601020,บ้านสิมลี,Ban Sim Li\n"  # row 3: 7 digits
        "46011001,บ้านม่วง,\n"  # row 4: subdistrict 460110 was abolished
        "46010203,,Ban Nat Tai\n"  # row 5: no Thai name
        "46010201,บ้านซ้ำ,\n",  # row 6: duplicate code
    )
    Area.objects.filter(code="46").update(name_th="ชื่อที่ต้องไม่ถูกแก้")
    before = _snapshot()
    with pytest.raises(VillageFileError) as caught:
        load_all(villages_path=path)
    error = caught.value
    assert [(p.row, p.field) for p in error.problems] == [(3, "code"), (4, "code"), (5, "name_th"), (6, "code")]
    text = str(error)
    assert "Row 3, column “code”: “4601020” is not an 8-digit village code." in text
    assert "Subdistrict 460110 was abolished; its villages now belong to 461704." in text
    assert "Row 5, column “name_th”: The Thai name is empty." in text
    assert "Village code 46010201 appears twice (first on row 2)." in text
    assert "nothing was loaded" in text
    # The same problems in Thai (the project's language) for the officer who made the file.
    assert "แถวที่ 3 ช่อง “code”" in text
    assert "แถวที่ 5 ช่อง “name_th”" in text
    with translation.override("th"):
        assert error.messages("th")[2] == "แถวที่ 5 ช่อง “name_th”: " + gettext("The Thai name is empty.")
        assert gettext("The Thai name is empty.") != "The Thai name is empty."
    assert len(error.messages("th")) == len(error.messages("en")) == 4
    # Nothing written: not even the tree refresh that would have restored the province name.
    assert _snapshot() == before

    with pytest.raises(VillageFileError):
        load_villages(path)
    assert _snapshot() == before


@pytest.mark.django_db
def test_command_reports_a_bad_village_file(loaded, tmp_path):
    path = _write(tmp_path, "code,name\n46010201,บ้านโนนสำราญ\n")
    with pytest.raises(CommandError) as caught:
        _run_command("--villages", str(path))
    assert "Row 1, column “name_th”: The column is missing from the header row." in str(caught.value)
    assert "แถวที่ 1" in str(caught.value)


@pytest.mark.django_db
def test_official_village_file_replaces_the_bundled_list(loaded, tmp_path):
    path = _write(
        tmp_path,
        "\ufeffcode,name_th,name_en\n"  # Excel's byte order mark
        "46010201,บ้านโนนสำราญ (ทางการ),Ban Non Samran\n"
        "๔๖๐๑๐๒๐๒,บ้านสิมลี,Ban Sim Li\n"  # Thai digits are accepted
        "46010299,บ้านใหม่,\n"
        "\n",
    )
    result = load_villages(path, retire_missing=True)
    assert (result.rows, result.created, result.updated, result.unchanged) == (3, 1, 2, 0)
    new = Area.objects.get(code="46010299")
    assert (new.village_no, new.parent.code, new.level, new.source) == (
        99,
        "460102",
        AreaLevel.VILLAGE,
        "DOPA file villages.csv",
    )
    assert Area.objects.get(code="46010201").name_th == "บ้านโนนสำราญ (ทางการ)"
    # Other villages of 460102 are not in the file: no longer in force, but kept for old records.
    retired = Area.objects.filter(code__startswith="460102", level=AreaLevel.VILLAGE, active=False)
    assert retired.count() == result.retired > 0
    assert Area.objects.filter(code="46010301", active=True).exists()  # other subdistricts untouched
    assert load_villages(path).unchanged == 3
    # A later plain load_areas keeps the official list of that subdistrict as it is.
    report = load_all()
    assert report.updated == 0
    assert Area.objects.get(code="46010201").name_th == "บ้านโนนสำราญ (ทางการ)"
    assert retired.count() == result.retired


# --------------------------------------------------------------------------- local governments


@pytest.mark.django_db
def test_local_governments_cover_each_village_at_most_once(loaded):
    governments = iter_local_governments()
    assert len(governments) == 151
    assert Counter(g.type for g in governments) == {
        LocalGovernmentType.PAO: 1,
        LocalGovernmentType.TOWN: 2,
        LocalGovernmentType.SUBDISTRICT_MUNICIPALITY: 77,
        LocalGovernmentType.SAO: 71,
    }
    pao = next(g for g in governments if g.type == LocalGovernmentType.PAO)
    assert pao.villages == []  # province-wide: handled by role, not by village list

    owners = Counter(v for g in governments for v in g.villages)
    assert max(owners.values()) == 1
    kalasin_villages = set(subtree(KALASIN).filter(level=AreaLevel.VILLAGE).values_list("code", flat=True))
    # In this source every subdistrict is claimed, so every village has exactly one.
    assert set(owners) == kalasin_villages
    assert len({g.key for g in governments}) == 151


@pytest.mark.django_db
def test_completely_covered_subdistricts_go_to_their_local_government(loaded):
    governments = iter_local_governments()
    villages_of = {}
    for code in subtree(KALASIN).filter(level=AreaLevel.VILLAGE).values_list("code", flat=True):
        villages_of.setdefault(code[:6], set()).add(code)
    checked = 0
    for government in governments:
        for sub, extent in government.covers:
            if extent == "completely" and government.type != LocalGovernmentType.PAO:
                assert villages_of.get(sub, set()) <= set(government.villages), (government.name_th, sub)
                checked += 1
    assert checked > 100
    nuea = next(g for g in governments if g.name_th == "เทศบาลตำบลเหนือ")
    assert set(nuea.villages) == villages_of["460102"]


@pytest.mark.django_db
def test_shared_subdistrict_is_split_into_contiguous_runs(loaded):
    governments = iter_local_governments()
    sharing = [g for g in governments if ("460104", "partially") in g.covers]
    assert sorted(g.name_th for g in sharing) == ["เทศบาลตำบลนาจารย์", "เทศบาลตำบลไผ่"]
    runs = [sorted(v for v in g.villages if v.startswith("460104")) for g in sharing]
    all_villages = sorted(subtree("460104").filter(level=AreaLevel.VILLAGE).values_list("code", flat=True))
    assert sorted(runs[0] + runs[1]) == all_villages
    assert abs(len(runs[0]) - len(runs[1])) <= 1
    # Deterministic: the municipality with its own DOPA code (นาจารย์, 4698) takes the first run.
    assert all_villages[0] in next(g for g in sharing if g.dopa_code == "4698").villages
    assert all(runs)  # both get a share
    for run in runs:  # contiguous by village number
        positions = [all_villages.index(v) for v in run]
        assert positions == list(range(positions[0], positions[0] + len(positions)))


@pytest.mark.django_db
def test_local_governments_follow_an_official_village_list(loaded):
    governments = iter_local_governments(villages_by_subdistrict={"460102": ["46010201", "46010277"]})
    nuea = next(g for g in governments if g.name_th == "เทศบาลตำบลเหนือ")
    assert nuea.villages == ["46010201", "46010277"]
