"""Tests for the synthetic source exports (pure Python, no database)."""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
import random
from pathlib import Path

import openpyxl
import pytest

from khm.engines import sources_synth as ss
from khm.engines.ids import is_valid_national_id, normalise_digits
from khm.engines.synth import SynthHousehold, SynthPerson, generate, village_weights_from_population

PEOPLE = 6_000
SEED = 7
ARABIC = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


@pytest.fixture(scope="module")
def households() -> list[SynthHousehold]:
    villages, population = ss.synthetic_villages()
    # A few subdistricts' worth of villages keeps the test small but spread over districts.
    villages = villages[::40]
    weights = village_weights_from_population(villages, population)
    return list(generate(villages=weights, people=PEOPLE, seed=SEED))


@pytest.fixture(scope="module")
def persons(households: list[SynthHousehold]) -> dict[str, SynthPerson]:
    return {p.national_id: p for h in households for p in h.members}


@pytest.fixture(scope="module")
def lists(households: list[SynthHousehold]) -> ss.SourceLists:
    return ss.build_lists(households, seed=SEED)


@pytest.fixture(scope="module")
def written(lists: ss.SourceLists, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return ss.write_lists(lists, tmp_path_factory.mktemp("sources"))


@pytest.fixture(scope="module")
def all_lists(households: list[SynthHousehold]) -> ss.SourceLists:
    """The three default lists plus the BMN survey extract."""
    return ss.build_lists(households, seed=SEED, lists=ss.ALL_LISTS)


@pytest.fixture(scope="module")
def written_all(all_lists: ss.SourceLists, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return ss.write_lists(all_lists, tmp_path_factory.mktemp("sources-all"))


def tagged(source: ss.SourceList, tag: str) -> list[int]:
    return [i for i, tags in enumerate(source.discrepancies) if tag in tags.split(";")]


def column(source: ss.SourceList, name: str) -> list[str]:
    return source.frame.get_column(name).to_list()


def people_on(source: ss.SourceList) -> set[str]:
    return set(column(source, ss.TRUTH_COLUMN))


# ------------------------------------------------------------------------ structure
def test_three_lists_with_unique_record_ids(lists: ss.SourceLists) -> None:
    assert list(lists.lists) == list(ss.LIST_NAMES)
    for source in lists.lists.values():
        ids = column(source, ss.RECORD_ID)
        assert len(ids) == len(set(ids)) > 100
        assert source.frame.columns[0] == ss.RECORD_ID
        assert source.frame.columns[-1] == ss.TRUTH_COLUMN
        assert len(source.discrepancies) == len(source.household_codes) == source.frame.height


def test_sizes_roughly_one_and_a_half_rows_per_person(lists: ss.SourceLists) -> None:
    rows = {name: s.frame.height / lists.people for name, s in lists.lists.items()}
    assert 0.50 < rows["tpmap"] < 0.70
    assert 0.55 < rows["khm"] < 0.78
    assert 0.15 < rows["bottom20"] < 0.25
    assert 1.3 < sum(rows.values()) < 1.7


def test_same_seed_same_lists_other_seed_other_lists(households: list[SynthHousehold], lists) -> None:
    again = ss.build_lists(households, seed=SEED)
    other = ss.build_lists(households, seed=SEED + 1)
    for name in ss.LIST_NAMES:
        assert again[name].frame.equals(lists[name].frame)
        assert again[name].discrepancies == lists[name].discrepancies
        assert not other[name].frame.equals(lists[name].frame)


def test_written_files_are_byte_identical_for_the_same_lists(lists, written, tmp_path: Path) -> None:
    again = ss.write_lists(lists, tmp_path)
    for key, path in written.items():
        assert again[key].read_bytes() == path.read_bytes(), key


# -------------------------------------------------------------------------- overlaps
def test_overlaps_as_designed(lists: ss.SourceLists) -> None:
    tpmap, khm, bottom = (people_on(lists[n]) for n in ss.LIST_NAMES)
    assert len(tpmap & khm) / len(tpmap) > 0.8  # most TPMAP people are on the KHM list
    assert len(khm - tpmap) / len(khm) > 0.1  # KHM found households TPMAP lacks
    assert len(tpmap - khm) / len(tpmap) > 0.05  # ... and misses some TPMAP ones
    assert len(bottom & tpmap) / len(bottom) > 0.7  # the poorest are mostly on TPMAP
    assert bottom - tpmap  # but bottom20 is not a subset: a different income measure
    assert 0.5 < len(tpmap | khm | bottom) / lists.people < 0.9


def test_bottom20_is_the_poorest_fifth_of_households(lists: ss.SourceLists, households) -> None:
    on_list = set(lists["bottom20"].household_codes)
    assert abs(len(on_list) / len(households) - 0.2) < 0.01
    ipp = {h.code: sum(m.income_year for m in h.members) / len(h.members) for h in households}
    median_on = sorted(ipp[c] for c in on_list)[len(on_list) // 2]
    median_all = sorted(ipp.values())[len(ipp) // 2]
    assert median_on < 0.6 * median_all


def test_the_dead_are_only_on_the_older_list(lists: ss.SourceLists) -> None:
    tp = lists["tpmap"]
    truth = column(tp, ss.TRUTH_COLUMN)
    dead = {truth[i] for i in tagged(tp, "died")}
    assert dead
    assert not dead & (people_on(lists["khm"]) | people_on(lists["bottom20"]))


def test_movers_have_another_village_on_the_newer_lists(lists: ss.SourceLists) -> None:
    tp, khm = lists["tpmap"], lists["khm"]
    old_area = dict(zip(column(tp, ss.TRUTH_COLUMN), column(tp, "รหัสตำบล"), strict=True))
    old_village = {
        pid: area + moo.zfill(2)
        for pid, area, moo in zip(*(column(tp, c) for c in (ss.TRUTH_COLUMN, "รหัสตำบล", "หมู่")), strict=True)
    }
    moved = tagged(khm, "moved")
    assert moved
    truth, village = column(khm, ss.TRUTH_COLUMN), column(khm, "village_code")
    compared = [i for i in moved if truth[i] in old_area]
    assert compared
    assert all(village[i] != old_village[truth[i]] for i in compared)
    # Movers keep their ID, so the ground truth still joins them.
    assert all(is_valid_national_id(truth[i]) for i in moved)


def test_newborns_are_not_on_the_older_list(lists: ss.SourceLists, persons) -> None:
    survey = datetime.date(lists.as_of.year - 1, lists.as_of.month, lists.as_of.day)
    assert all(persons[pid].birth_date <= survey for pid in people_on(lists["tpmap"]))
    assert any(persons[pid].birth_date > survey for pid in people_on(lists["khm"]))


# ----------------------------------------------------------------------- discrepancies
def within(observed: int, n: int, rate: float) -> bool:
    """Observed count close to n*rate: 4 binomial standard deviations plus 15 % slack."""
    expected = n * rate
    return abs(observed - expected) <= 4 * math.sqrt(n * rate * (1 - rate)) + 0.15 * expected + 2


@pytest.mark.parametrize("name", ss.ALL_LISTS)
def test_each_discrepancy_occurs_at_roughly_its_rate(all_lists: ss.SourceLists, name: str) -> None:
    source, rates = all_lists[name], all_lists.rates.for_list(name)
    n = source.frame.height
    tags = [set(t.split(";")) for t in source.discrepancies]
    # Romanised rows and rows with a new surname get no severe discrepancy and no typo.
    eligible = sum(1 for t in tags if not t & {"latin_name", "surname_changed"})
    for tag in ss._SEVERE:
        assert within(sum(tag in t for t in tags), eligible, getattr(rates, tag)), tag
    assert within(sum("name_typo" in t for t in tags), n - sum("latin_name" in t for t in tags), rates.name_typo)
    for tag in ("whitespace", "house_no_variant", "title_in_name", "latin_name", "thai_digits"):
        assert within(sum(tag in t for t in tags), n, getattr(rates, tag)), tag
    dups = sum("duplicate" in t for t in tags)
    assert within(dups, n - dups, rates.duplicate)
    dated = sum(1 for t in tags if not t & {"birth_year_only", "birth_date_missing"})
    assert within(sum("era_mix" in t for t in tags), dated, rates.era_mix)


def test_at_most_one_severe_discrepancy_per_row(all_lists: ss.SourceLists) -> None:
    severe = set(ss._SEVERE) | {"surname_changed", "latin_name"}
    for source in all_lists.lists.values():
        assert all(len(set(t.split(";")) & severe) <= 1 for t in source.discrepancies)


def test_truth_is_consistent(all_lists: ss.SourceLists, persons) -> None:
    """Same true_person_id => same real person: clean values equal the population's."""
    name_tags = {"name_typo", "name_swap", "latin_name", "surname_changed", "whitespace", "title_in_name"}
    for source in all_lists.lists.values():
        first, last = source.fields.get("first_name"), source.fields.get("last_name")
        ids = column(source, source.fields["id_number"])
        names = (
            list(zip(column(source, first), column(source, last), strict=True))
            if first
            else [tuple(n.split(" ", 1)) for n in column(source, source.fields["full_name"])]
        )
        for i, (pid, tags) in enumerate(zip(column(source, ss.TRUTH_COLUMN), source.discrepancies, strict=True)):
            person = persons[pid]
            t = set(tags.split(";"))
            if not t & {"id_missing", "id_mistyped"}:
                assert normalise_digits(ids[i]) == pid
            if not t & name_tags:
                assert names[i] == (person.first_name, person.last_name)
            assert source.household_codes[i].startswith("HH")


def test_mistyped_ids_look_like_ids_but_are_wrong(all_lists: ss.SourceLists) -> None:
    for source in all_lists.lists.values():
        ids, truth = column(source, source.fields["id_number"]), column(source, ss.TRUTH_COLUMN)
        rows = tagged(source, "id_mistyped")
        assert rows
        for i in rows:
            digits = normalise_digits(ids[i])
            assert len(digits) == 13 and digits != truth[i]
            assert sum(a != b for a, b in zip(digits, truth[i], strict=True)) <= 2
        # The one-wrong-digit kind always fails the check digit.
        single = [i for i in rows if sum(a != b for a, b in zip(normalise_digits(ids[i]), truth[i], strict=True)) == 1]
        assert single and not any(is_valid_national_id(ids[i]) for i in single)
        assert all(ids[i] == "" for i in tagged(source, "id_missing"))


def test_duplicates_inside_a_list(all_lists: ss.SourceLists) -> None:
    for source in all_lists.lists.values():
        truth = column(source, ss.TRUTH_COLUMN)
        for i in tagged(source, "duplicate"):
            assert truth.count(truth[i]) >= 2


def test_name_typos_are_small_edits(lists: ss.SourceLists, persons) -> None:
    tp = lists["tpmap"]
    first, last, truth = column(tp, "ชื่อ"), column(tp, "นามสกุล"), column(tp, ss.TRUTH_COLUMN)
    rows = [i for i in tagged(tp, "name_typo") if tp.discrepancies[i] == "name_typo"]
    assert rows
    for i in rows:
        p = persons[truth[i]]
        changed = (first[i] != p.first_name) + (last[i] != p.last_name)
        assert changed == 1
        a, b = (first[i], p.first_name) if first[i] != p.first_name else (last[i], p.last_name)
        assert abs(len(a) - len(b)) <= 4 and a[:1].strip()


def test_dates_follow_each_layout(lists: ss.SourceLists, persons) -> None:
    tp, khm, b20 = (lists[n] for n in ss.LIST_NAMES)
    for source in (tp, khm):
        dates, truth = column(source, source.fields["birth_date"]), column(source, ss.TRUTH_COLUMN)
        checked = 0
        for i, tags in enumerate(source.discrepancies):
            if tags in ("", "thai_digits") and dates[i]:
                # dd/mm/yyyy BE. Not strptime: 29/02 of a BE year is no Gregorian leap day.
                day, month, year = (int(x) for x in normalise_digits(dates[i]).split("/"))
                born = persons[truth[i]].birth_date
                assert (year - ss.BE_OFFSET, month, day) == (born.year, born.month, born.day)
                checked += 1
        assert checked > 0.7 * source.frame.height
    assert any(d.startswith("00/00/") for d in column(tp, "วันเกิด"))  # year-only elderly records
    assert any(any("๐" <= c <= "๙" for c in d) for d in column(khm, "birth_date"))  # Thai digits
    years = [d for d in column(b20, "Birth date") if len(d) == 4]
    full = [d for d in column(b20, "Birth date") if len(d) == 10]
    assert years and full
    truth = column(b20, ss.TRUTH_COLUMN)
    for d, tags, pid in zip(column(b20, "Birth date"), b20.discrepancies, truth, strict=True):
        if tags == "":
            assert d == persons[pid].birth_date.isoformat()  # CE, %Y-%m-%d
        elif tags == "era_mix":
            assert int(d[:4]) == persons[pid].birth_date.year + ss.BE_OFFSET


def test_latin_script_names_in_bottom20(lists: ss.SourceLists) -> None:
    b20 = lists["bottom20"]
    names = column(b20, "Name")
    rows = tagged(b20, "latin_name")
    assert len(rows) > 0.08 * b20.frame.height
    assert all(names[i].strip().isascii() and names[i].strip() for i in rows)
    assert {column(b20, "Title")[i] for i in rows} <= {"Mr.", "Mrs.", "Miss", "Master"}


def test_romanise_and_typo_helpers() -> None:
    assert ss.romanise_name("สมชาย") == "somchai"
    assert ss.romanise_name("ทองดี") == "thongdi"
    rnd = random.Random(1)
    for name in ("สมชาย", "ศรีสุข", "วงศ์ใหญ่", "ณัฐวุฒิ", "กิตติ", "ทองดี"):
        typo = ss.thai_typo(name, rnd)
        assert typo != name and typo and typo[0] not in ss._COMBINING
    assert ss.thai_typo("ชัยวัฒน์", random.Random(3)) == ss.thai_typo("ชัยวัฒน์", random.Random(3))


# ------------------------------------------------------------------------------ files
def test_tpmap_file_is_tis620(lists: ss.SourceLists, written) -> None:
    raw = written["tpmap"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp874")
    assert b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == lists["tpmap"].frame.columns
    assert len(rows) - 1 == lists["tpmap"].frame.height
    assert rows[1] == list(lists["tpmap"].frame.row(0))


def test_bottom20_file_is_utf8_with_bom(lists: ss.SourceLists, written) -> None:
    raw = written["bottom20"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == lists["bottom20"].frame.columns
    assert len(rows) - 1 == lists["bottom20"].frame.height


def test_khm_file_is_xlsx_that_openpyxl_reads(lists: ss.SourceLists, written) -> None:
    assert written["khm"].suffix == ".xlsx"
    wb = openpyxl.load_workbook(written["khm"], read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    frame = lists["khm"].frame
    assert list(rows[0]) == frame.columns
    assert len(rows) - 1 == frame.height
    for i in range(0, frame.height, 97):
        assert [v if v is not None else "" for v in rows[i + 1]] == list(frame.row(i))
    spaced = tagged(lists["khm"], "whitespace")
    assert spaced and rows[spaced[0] + 1][frame.columns.index("full_name")] == frame.row(spaced[0])[4]


def test_fields_json_names_real_columns(all_lists: ss.SourceLists, written_all) -> None:
    roles = {
        "record_id",
        "id_number",
        "id_scheme",
        "first_name",
        "last_name",
        "full_name",
        "birth_date",
        "date_format",
        "sex",
        "house_no",
        "address",
        "area_code",
        "postcode",
    }
    for name in ss.ALL_LISTS:
        fields = json.loads(written_all[f"{name}.fields"].read_text(encoding="utf-8"))
        columns = all_lists[name].frame.columns
        assert set(fields) <= roles and fields["id_scheme"] == "thai_national_id"
        assert ("full_name" in fields) != ("first_name" in fields and "last_name" in fields)
        for role, value in fields.items():
            if role in ("id_scheme", "date_format"):
                continue
            for col in value if isinstance(value, list) else [value]:
                assert col in columns, (name, role, col)
        assert ss.TRUTH_COLUMN not in fields.values()


def test_truth_and_manifest(lists: ss.SourceLists, written) -> None:
    with written["truth"].open(encoding="utf-8", newline="") as fh:
        truth = list(csv.DictReader(fh))
    assert len(truth) == sum(s.frame.height for s in lists.lists.values())
    by_list = {name: {r["record_id"]: r[ss.TRUTH_COLUMN] for r in truth if r["list"] == name} for name in ss.LIST_NAMES}
    for name, source in lists.lists.items():
        assert by_list[name] == dict(zip(column(source, ss.RECORD_ID), column(source, ss.TRUTH_COLUMN), strict=True))
    manifest = json.loads(written["manifest"].read_text(encoding="utf-8"))
    assert manifest["seed"] == SEED and manifest["population"]["people"] == PEOPLE
    assert manifest["rows_total"] == len(truth)
    assert manifest["rates"]["khm"]["duplicate"] == lists.rates.khm.duplicate
    assert manifest["lists"]["khm"]["file"] == "khm.xlsx"


def test_formats_are_configurable(lists: ss.SourceLists, tmp_path: Path) -> None:
    written = ss.write_lists(lists, tmp_path, formats={"khm": "csv-utf8", "tpmap": "xlsx"})
    assert written["khm"].name == "khm.csv" and written["tpmap"].name == "tpmap.xlsx"
    with pytest.raises(ValueError, match="unknown format"):
        ss.write_lists(lists, tmp_path, formats={"khm": "parquet"})


def test_rates_are_configurable(households: list[SynthHousehold]) -> None:
    import dataclasses

    clean = ss.ListRates()
    rates = ss.DiscrepancyRates(
        died=0,
        moved_household=0,
        moved_person=0,
        elderly_birth_year_only=0,
        tpmap=clean,
        khm=clean,
        bottom20=dataclasses.replace(clean, latin_name=1.0),
    )
    lists = ss.build_lists(households[:300], seed=1, rates=rates)
    assert all(t == "" for t in lists["tpmap"].discrepancies + lists["khm"].discrepancies)
    assert all(t == "latin_name" for t in lists["bottom20"].discrepancies)


def test_main_writes_everything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ss.main(["--people", "1500", "--seed", "3", "--out", str(tmp_path), "--format", "khm=csv-utf8"]) == 0
    out = capsys.readouterr().out
    assert "tpmap" in out and "seconds" in out
    for name in ("tpmap.csv", "khm.csv", "bottom20.csv", "truth.csv", "manifest.json", "khm.fields.json"):
        assert (tmp_path / name).exists()
    assert not (tmp_path / "bmn.csv").exists()  # bmn only when asked for


# -------------------------------------------------------------------------------- bmn
def test_bmn_is_opt_in_and_changes_no_other_list(lists, all_lists, written, written_all) -> None:
    assert "bmn" not in lists.lists and list(all_lists.lists) == list(ss.ALL_LISTS)
    for name in ss.LIST_NAMES:
        assert all_lists[name].frame.equals(lists[name].frame), name
        assert all_lists[name].discrepancies == lists[name].discrepancies
    # Same files, byte for byte; truth.csv only gains the bmn rows at its end.
    for name in ss.LIST_NAMES:
        for key in (name, f"{name}.fields"):
            assert written_all[key].read_bytes() == written[key].read_bytes(), key
    old, new = written["truth"].read_bytes(), written_all["truth"].read_bytes()
    assert new.startswith(old) and b"\nbmn," in new[len(old) - 1 :]
    default = json.loads(written["manifest"].read_text(encoding="utf-8"))
    assert "bmn" not in default["rates"] and not any(k.startswith("bmn") for k in default["selection"])
    manifest = json.loads(written_all["manifest"].read_text(encoding="utf-8"))
    assert manifest["lists"]["bmn"]["file"] == "bmn.csv"
    assert manifest["rates"]["bmn"]["name_typo"] == all_lists.rates.bmn.name_typo
    assert manifest["selection"]["bmn_village_share"] == all_lists.selection.bmn_village_share
    with pytest.raises(ValueError, match="unknown list"):
        ss.build_lists([], seed=1, lists=("tpmap", "jpt"))


def _home(households: list[SynthHousehold]) -> dict[str, tuple[str, str, str]]:
    """national ID → (village, house number, household code) in the population."""
    return {p.national_id: (h.village_code, h.house_no, h.code) for h in households for p in h.members}


def test_bmn_surveys_most_households_of_some_villages(all_lists: ss.SourceLists, households) -> None:
    bmn = all_lists["bmn"]
    villages = {h.village_code for h in households}
    surveyed = set(column(bmn, "รหัสหมู่บ้าน"))
    share = all_lists.selection.bmn_village_share
    assert 0.5 * share * len(villages) <= len(surveyed) <= 1.6 * share * len(villages) + 1
    # In a surveyed village nearly everyone who lives there (clean rows) is on the roster.
    home = _home(households)
    on = people_on(bmn)
    stay = [pid for pid, (v, _, _) in home.items() if v in surveyed]
    assert sum(pid in on for pid in stay) / len(stay) > 0.8
    # Everyone, not only the poor: most households pass the income indicator.
    assert column(bmn, "ตัวชี้วัดที่ 22").count(ss.BMN_PASS) > 0.5 * bmn.frame.height
    assert people_on(bmn) - people_on(all_lists["tpmap"]) - people_on(all_lists["khm"])


def test_bmn_rows_are_households_with_one_head(all_lists: ss.SourceLists) -> None:
    bmn = all_lists["bmn"]
    rows = [i for i, t in enumerate(bmn.discrepancies) if "duplicate" not in t.split(";")]
    code, village = column(bmn, "รหัสบ้าน"), column(bmn, "รหัสหมู่บ้าน")
    relation, number = column(bmn, "ความเกี่ยวพันกับหัวหน้าครัวเรือน"), column(bmn, "ลำดับที่")
    per_house: dict[str, list[int]] = {}
    for i in rows:
        per_house.setdefault(code[i], []).append(i)
    assert all(len(c) == 11 and c.isdigit() and c[:4] == village[i][:4] for i, c in enumerate(code))
    one_head = sum(sum(relation[i] == "หัวหน้าครัวเรือน" for i in idx) == 1 for idx in per_house.values())
    assert one_head >= 0.93 * len(per_house)  # the rest lost their head row (member_missing)
    assert any(len(idx) >= 4 for idx in per_house.values())
    for idx in per_house.values():
        assert len({village[i] for i in idx}) == 1
        assert len({number[i] for i in idx}) == len(idx)  # member numbers are unique in a house
        for col in ("ตัวชี้วัดที่ 8", "ตัวชี้วัดที่ 9", "ตัวชี้วัดที่ 22", "รายได้เฉลี่ยต่อคนต่อปี (บาท)"):
            assert len({column(bmn, col)[i] for i in idx}) == 1, col
    heads = [i for i in rows if relation[i] == "หัวหน้าครัวเรือน"]
    assert sum(number[i] == "1" for i in heads) > 0.95 * len(heads)


def test_bmn_movers_and_the_dead(all_lists: ss.SourceLists, households) -> None:
    bmn = all_lists["bmn"]
    home = _home(households)
    truth, village = column(bmn, ss.TRUTH_COLUMN), column(bmn, "รหัสหมู่บ้าน")
    moved = tagged(bmn, "moved")
    assert moved and all(village[i] != home[truth[i]][0] for i in moved)
    relation = column(bmn, "ความเกี่ยวพันกับหัวหน้าครัวเรือน")
    assert any(relation[i] == "ผู้อาศัย" for i in moved)  # moved in alone
    # The dead are only on a roster copied from last year's form; never on the other newer lists.
    dead = {truth[i] for i in tagged(bmn, "died")}
    assert not dead & (people_on(all_lists["khm"]) | people_on(all_lists["bottom20"]))


def test_bmn_dates_are_thai_month_be(all_lists: ss.SourceLists, persons) -> None:
    from khm.engines.linkage.fields import parse_date

    bmn = all_lists["bmn"]
    dates, truth = column(bmn, "วันเดือนปีเกิด"), column(bmn, ss.TRUTH_COLUMN)
    checked = 0
    for i, tags in enumerate(bmn.discrepancies):
        if tags in ("", "thai_digits") and dates[i]:
            day, month, year = dates[i].translate(ARABIC).split(" ")
            assert month in ss._MONTHS_SHORT or month in ss._MONTHS_FULL
            born = persons[truth[i]].birth_date
            assert int(year) - ss.BE_OFFSET == born.year and int(day) == born.day
            assert parse_date(dates[i]) == (born.isoformat(), str(born.year))  # what the importer reads
            checked += 1
    assert checked > 0.7 * bmn.frame.height
    assert any(len(d) == 4 and d.isdigit() for d in dates)  # year only, BE
    assert any(any("๐" <= c <= "๙" for c in d) for d in dates)
    for i in tagged(bmn, "era_mix"):
        assert int(dates[i].translate(ARABIC).split(" ")[-1]) == persons[truth[i]].birth_date.year


def test_bmn_income_and_indicators(all_lists: ss.SourceLists, persons) -> None:
    bmn = all_lists["bmn"]
    truth, age = column(bmn, ss.TRUTH_COLUMN), [int(a) for a in column(bmn, "อายุ")]
    income = column(bmn, "รายได้ต่อปี (บาท)")
    per_head = [int(x) for x in column(bmn, "รายได้เฉลี่ยต่อคนต่อปี (บาท)")]
    assert all(int(income[i]) == persons[pid].income_year for i, pid in enumerate(truth))
    ind = {k: column(bmn, f"ตัวชี้วัดที่ {k}") for k in ss.BMN_INDICATORS}
    assert set().union(*map(set, ind.values())) == {ss.BMN_PASS, ss.BMN_FAIL, ""}
    for i in range(bmn.frame.height):
        assert (ind[22][i] == ss.BMN_PASS) == (per_head[i] >= all_lists.selection.poverty_line)
        assert (ind[16][i] != "") == (6 <= age[i] <= 14)
        assert (ind[21][i] != "") == (age[i] >= 60)
        assert (ind[28][i] != "") == bool(persons[truth[i]].disability)
        assert ind[8][i] and ind[9][i]  # household indicators apply to everyone
    # Income and the income indicator of the poor: most failures of 22 are real poverty.
    fail22 = ind[22].count(ss.BMN_FAIL) / bmn.frame.height
    assert 0.05 < fail22 < 0.5


def test_bmn_file_is_utf8_with_bom_and_bare_empty_cells(all_lists: ss.SourceLists, written_all) -> None:
    raw = written_all["bmn"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b',"",' not in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    frame = all_lists["bmn"].frame
    assert rows[0] == frame.columns and len(rows) - 1 == frame.height
    for i in range(0, frame.height, 53):
        assert rows[i + 1] == list(frame.row(i))


def test_main_writes_bmn_on_request(tmp_path: Path) -> None:
    assert ss.main(["--people", "1500", "--seed", "3", "--out", str(tmp_path), "--lists", "tpmap,bmn"]) == 0
    assert (tmp_path / "bmn.csv").exists() and (tmp_path / "bmn.fields.json").exists()
    assert (tmp_path / "tpmap.csv").exists() and not (tmp_path / "khm.xlsx").exists()
    with pytest.raises(SystemExit):
        ss.main(["--out", str(tmp_path), "--lists", "tpmap,jpt"])
