"""search_areas, area_chain and boundaries_geojson on the real tree (loaded once per module)."""

from __future__ import annotations

import pytest

from khm.areas.loaders import load_all
from khm.areas.models import Area, AreaLevel, Boundary
from khm.areas.selectors import area_chain, boundaries_geojson, parse_query, search_areas


def _wipe() -> None:
    Boundary.objects.all().delete()
    # Children first: parents are PROTECTed.
    for level in (AreaLevel.VILLAGE, AreaLevel.SUBDISTRICT, AreaLevel.DISTRICT, AreaLevel.PROVINCE):
        Area.objects.filter(level=level).delete()


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    # See test_load_areas.loaded: load once per module, clean up only what we loaded.
    with django_db_blocker.unblock():
        preloaded = Area.objects.exists()
        load_all()
    yield
    if not preloaded:
        with django_db_blocker.unblock():
            _wipe()


def codes(query: str, **kwargs) -> list[str]:
    return [a.code for a in search_areas(query, **kwargs)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("กาฬสินธุ์", "46"),
        ("จังหวัดกาฬสินธุ์", "46"),
        ("จ.กาฬสินธุ์", "46"),
        ("จ. กาฬสินธุ์", "46"),
        ("อำเภอเมืองกาฬสินธุ์", "4601"),
        ("อ.เมือง กาฬสินธุ์", "4601"),
        ("อ.กมลาไสย", "4603"),  # district before the subdistrict of the same name
        ("ตำบลกมลาไสย", "460301"),  # and the other way round
        ("บ้านสิมลี", "46010202"),
        ("สิมลี", "46010202"),
        ("ม.2 บ้านสิมลี", "46010202"),
        ("หมู่ที่ ๒ บ้านสิมลี", "46010202"),  # Thai digits
        ("Kalasin", "46"),
        ("kalasin province", "46"),
        ("KALASIN", "46"),
        ("Amphoe Mueang Kalasin", "4601"),
        ("Kamalasai district", "4603"),
        ("Tambon Kamalasai", "460301"),
        ("Ban Sim Li", "46010202"),
        ("sim li", "46010202"),
        ("Moo 2 Ban Sim Li", "46010202"),
        ("4601", "4601"),
    ],
)
def test_search_by_thai_or_english_name_with_prefixes(loaded, query, first):
    assert codes(query)[0] == first


@pytest.mark.django_db
def test_ban_is_optional_but_kept_in_official_names(loaded):
    # "บ้านแพง" is a district of Nakhon Phanom, not only a village name.
    assert codes("บ้านแพง")[0] == "4804"
    assert codes("Ban Phaeng")[0] == "4804"
    # Typed with "บ้าน", villages of that exact name come before the subdistrict "โนนสำราญ".
    typed_ban = search_areas("บ้านโนนสำราญ", within="46")
    assert typed_ban[0].level == AreaLevel.VILLAGE and typed_ban[0].name_th == "บ้านโนนสำราญ"
    without = search_areas("โนนสำราญ")
    assert without[0].level == AreaLevel.SUBDISTRICT and without[0].name_th == "โนนสำราญ"
    # Bangkok districts are "เขต…" in Thai; both forms find them.
    assert codes("เขตบางนา")[0] == "1047"
    assert "1047" in codes("บางนา", levels={AreaLevel.DISTRICT})


@pytest.mark.django_db
def test_prefix_matches_rank_before_substring_matches(loaded):
    found = search_areas("นา", within="4601", levels={AreaLevel.SUBDISTRICT})
    names = [a.name_th for a in found]
    starts = [n.startswith("นา") for n in names]
    assert any(starts) and not all(starts)
    assert starts == sorted(starts, reverse=True)  # every prefix hit before any substring hit
    assert all("นา" in n for n in names)

    english = [a.name_en for a in search_areas("kham", within="46", levels={AreaLevel.DISTRICT})]
    assert english[0] == "Kham Muang"  # prefix, before "Rong Kham"
    assert all("kham" in n.lower() for n in english)


@pytest.mark.django_db
def test_areas_in_force_come_first(loaded):
    # ม่วงนา 460110 was abolished in 2006 and lives on as 461704.
    found = search_areas("ม่วงนา", within="46", levels={AreaLevel.SUBDISTRICT})
    assert [(a.code, a.active) for a in found] == [("461704", True), ("460110", False)]


@pytest.mark.django_db
def test_within_and_levels_restrict_the_search(loaded):
    everywhere = search_areas("ไผ่", limit=200)
    inside = search_areas("ไผ่", within="4601", limit=200)
    assert len(inside) < len(everywhere)
    assert inside and all(a.code.startswith("4601") for a in inside)
    assert codes("ต.ไผ่", within="46")[0] == "460104"
    villages = search_areas("ไผ่", within="4601", levels={AreaLevel.VILLAGE})
    assert villages and all(a.level == AreaLevel.VILLAGE for a in villages)
    assert len(search_areas("บ้าน", within="46", limit=5)) == 5


@pytest.mark.django_db
def test_empty_and_hopeless_queries(loaded):
    assert search_areas("") == []
    assert search_areas("   ") == []
    assert search_areas("จังหวัด") == []
    assert search_areas("zzzz-no-such-place") == []
    assert search_areas("123456789") == []


def test_parse_query():
    assert parse_query("อ. เมือง กาฬสินธุ์").name == "เมืองกาฬสินธุ์"
    assert parse_query("อ. เมือง กาฬสินธุ์").level_hint == AreaLevel.DISTRICT
    assert parse_query("ม.3 บ้านโนน") == parse_query("หมู่ 3 บ้านโนน")
    assert parse_query("ม.3 บ้านโนน").village_no == 3
    assert parse_query("Tambon Nuea").name == "nuea"
    assert parse_query("บ้านโนน").variants() == ("บ้านโนน", "โนน", "เขตโนน")


@pytest.mark.django_db
def test_area_chain_gives_breadcrumbs(loaded):
    village = Area.objects.get(code="46010202")
    assert [a.code for a in area_chain(village)] == ["46", "4601", "460102", "46010202"]
    province = Area.objects.get(code="46")
    assert area_chain(province) == [province]


@pytest.mark.django_db
def test_boundaries_geojson(loaded):
    districts = boundaries_geojson(parent_code="46", level=AreaLevel.DISTRICT)
    assert districts["type"] == "FeatureCollection"
    assert len(districts["features"]) == 18
    first = districts["features"][0]
    assert first["properties"] == {"code": "4601", "name_th": "เมืองกาฬสินธุ์", "name_en": "Mueang Kalasin"}
    assert first["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert len(boundaries_geojson(parent_code="46", level=AreaLevel.SUBDISTRICT)["features"]) == 135
    mueang = boundaries_geojson(parent_code="4601", level=AreaLevel.SUBDISTRICT)["features"]
    assert len(mueang) == Area.objects.filter(code__startswith="4601", level=AreaLevel.SUBDISTRICT, active=True).count()
    assert boundaries_geojson(parent_code="10", level=AreaLevel.DISTRICT)["features"] == []
