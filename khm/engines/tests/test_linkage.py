"""Linkage engine: Thai normalisation, parsing, deterministic IDs, dedupe/link, metrics.

Plain pytest, no database; data is a few hand-built records (and one small synthetic
province), so the whole file runs in seconds.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest

from khm.engines.ids import complete_national_id
from khm.engines.linkage import thai
from khm.engines.linkage.fields import (
    FieldsError,
    decode_bytes,
    parse_date,
    parse_fields,
    parse_house,
    parse_moo,
    parse_sex,
    prepare,
    read_table,
    sex_from_title,
)
from khm.engines.linkage.run import LinkOptions, link_frames, pairwise_metrics, write_outputs

# --------------------------------------------------------------------------- Thai names


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("สมชาย", "สมชาย"),
        ("ประยุทธ์", "ประยุท"),  # silent letter under การันต์ left out
        ("ศรีสุข", "ศริสุข"),  # long/short vowel
        ("สมหญิง", "สมหญิ่ง"),  # stray tone mark
        ("ภูมิ", "ภุมิ"),  # ู / ุ
        ("ใจดี", "ไจดี"),  # ใ / ไ
        ("น้ำใส", "นํ้าใส"),  # sara am typed as nikhahit + sara aa
    ],
)
def test_skeleton_ignores_tone_marks_and_vowel_length(a: str, b: str) -> None:
    assert thai.skeleton(thai.normalise_name(a)) == thai.skeleton(thai.normalise_name(b))


def test_skeleton_keeps_different_names_apart() -> None:
    assert thai.skeleton("สมชาย") != thai.skeleton("สมศรี")
    assert thai.skeleton("ใจดี") != thai.skeleton("ใจเย็น")


def test_phonetic_code_groups_letters_that_sound_alike() -> None:
    assert thai.phonetic("ศรีสุข") == thai.phonetic("ศรีสุก")
    assert thai.phonetic("สมชาย") == thai.phonetic("สมฉาย")
    assert thai.phonetic("ประยุทธ์") == thai.phonetic("ประยุทธ")  # การันต์ forgotten
    assert thai.phonetic("somchai") == ""  # Latin names use the Latin key


@pytest.mark.parametrize(
    ("thai_name", "latin_names"),
    [
        ("สมชาย", ["Somchai", "SOMCHAY", "somchai"]),
        ("ประยุทธ์", ["Prayut", "Prayuth"]),
        ("ศรีสุข", ["Srisuk", "Sri-suk"]),
        ("จันทร์เพ็ญ", ["Chanphen", "Janpen"]),
        ("ศักดิ์ชัย", ["Sakchai"]),
    ],
)
def test_romanised_names_get_the_thai_latin_key(thai_name: str, latin_names: list[str]) -> None:
    key = thai.latin_key(thai.normalise_name(thai_name))
    assert key
    for latin in latin_names:
        assert thai.latin_key(thai.normalise_name(latin)) == key, latin


def test_titles_are_stripped_with_or_without_space() -> None:
    assert thai.normalise_name("นายสมชาย") == "สมชาย"
    assert thai.normalise_name("นาย สมชาย") == "สมชาย"
    assert thai.normalise_name("นางสาวมาลี") == "มาลี"
    assert thai.normalise_name("Mr. Somchai") == "somchai"
    # A name that is only a title-like word stays; "นายณัฐ" reads as นาย + ณัฐ (both
    # are names in the corpus, and a glued title is far more common than the name).
    assert thai.normalise_name("นาย") == "นาย"
    assert thai.normalise_name("นายณัฐ") == "ณัฐ"


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("นายสมชาย ใจดี", "สมชาย", "ใจดี"),
        ("นาง สมศรี  ใจดี", "สมศรี", "ใจดี"),
        ("ด.ช.ก้อง ทองดี", "ก้อง", "ทองดี"),
        ("เด็กหญิงมาลี วงศ์ใหญ่", "มาลี", "วงศ์ใหญ่"),
        ("Mrs Somsri Jaidee", "Somsri", "Jaidee"),
        ("Miss Malee", "Malee", ""),
        ("สมชาย ณ อยุธยา", "สมชาย", "ณ อยุธยา"),
    ],
)
def test_split_full_name(full: str, first: str, last: str) -> None:
    assert thai.split_full_name(full) == (first, last)


def test_sex_from_title_and_values() -> None:
    assert sex_from_title("นายสมชาย ใจดี") == "m"
    assert sex_from_title("นางสาวมาลี") == "f"
    assert sex_from_title("Mrs Somsri") == "f"
    assert sex_from_title("สมชาย") is None
    assert [parse_sex(v) for v in ("ชาย", "หญิง", "M", "f", "1", "2", "?")] == ["m", "f", "m", "f", "m", "f", None]


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        ("1987-12-25", None, ("1987-12-25", "1987")),
        ("25/12/2530", None, ("1987-12-25", "1987")),  # Buddhist era
        ("25/12/1987", None, ("1987-12-25", "1987")),
        ("๒๕/๑๒/๒๕๓๐", None, ("1987-12-25", "1987")),  # Thai digits
        ("25 ธ.ค. 2530", None, ("1987-12-25", "1987")),
        ("25 ธันวาคม 2530", None, ("1987-12-25", "1987")),
        ("๒๕ ธ.ค. ๒๕๓๐", None, ("1987-12-25", "1987")),
        ("25 Dec 1987", None, ("1987-12-25", "1987")),
        ("2530", None, (None, "1987")),  # year only
        ("00/00/2490", None, (None, "1947")),  # unknown day and month
        ("25/12/30", None, ("1987-12-25", "1987")),  # two-digit BE year
        ("19871225", None, ("1987-12-25", "1987")),
        ("1987-12-25 00:00:00", None, ("1987-12-25", "1987")),
        ("12/25/1987", "%m/%d/%Y", ("1987-12-25", "1987")),
        ("25/12/2530", "%d/%m/%Y BE", ("1987-12-25", "1987")),
        ("25-12-2530", "dd-mm-yyyy", ("1987-12-25", "1987")),
        ("31/02/2530", None, (None, "1987")),  # impossible day: keep the year
        ("", None, (None, None)),
        ("unknown", None, (None, None)),
    ],
)
def test_parse_date(value: str, fmt: str | None, expected: tuple[str | None, str | None]) -> None:
    assert parse_date(value, fmt) == expected


def test_address_parts() -> None:
    assert parse_house("บ้านเลขที่ 45/1 หมู่ 3") == "45/1"
    assert parse_house("45 / 1") == "45/1"
    assert parse_house("๑๒ ม.๕") == "12"
    assert parse_moo("12 ม.5 ต.หนองตาล") == "5"
    assert parse_moo("12 หมู่ที่ 05") == "5"
    assert parse_moo("no moo here") is None


def test_decode_bytes_detects_cp874_and_bom() -> None:
    text = "ชื่อ,นามสกุล\nสมชาย,ใจดี\n"
    assert decode_bytes(text.encode("cp874")) == text
    assert decode_bytes(text.encode("utf-8-sig")) == text
    assert decode_bytes(text.encode("utf-8")) == text


# --------------------------------------------------------------------------- fields


def test_parse_fields_accepts_strings_lists_and_objects() -> None:
    fm = parse_fields(
        {
            "record_id": "id",
            "first_name": "fn",
            "birth_date": {"column": "dob", "date_format": "%d/%m/%Y"},
            "address": ["a1", "a2"],
            "id_scheme": "none",
            "source": "tpmap",
            "thresholds": {"tpmap~khm": 0.95},
            "description": "ignored",
        }
    )
    assert fm.columns["address"] == ("a1", "a2")
    assert fm.date_format == "%d/%m/%Y"
    assert fm.id_scheme == "none"
    assert fm.thresholds == {"tpmap~khm": 0.95}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"frist_name": "x"}, "unknown role 'frist_name'"),
        ({"id_number": "cid", "id_scheme": "passport"}, "id_scheme"),
        ({"first_name": ["a", "b"]}, "takes one column"),
        ({"first_name": 3}, "must name a column"),
        ({"full_name": "n", "first_name": "f"}, "either full_name"),
        ({"threshold": 2}, "between 0 and 1"),
        ([1, 2], "JSON object"),
    ],
)
def test_parse_fields_errors_name_the_problem(data: object, message: str) -> None:
    with pytest.raises(FieldsError, match=message):
        parse_fields(data, origin="f.json")


def test_missing_column_is_reported_with_the_columns_present() -> None:
    fm = parse_fields({"first_name": "fname"}, origin="f.json")
    with pytest.raises(FieldsError, match=r"'fname'.*its columns are: a, b"):
        prepare(pl.DataFrame({"a": ["1"], "b": ["2"]}), fm, source="x", file="in.csv")


# --------------------------------------------------------------------------- fixtures

PEOPLE = [
    # first, last, dob, sex, house, village code
    ("สมชาย", "ใจดี", "1980-05-01", "ชาย", "12", "46010101"),
    ("สมศรี", "ใจดี", "1982-07-11", "หญิง", "12", "46010101"),  # wife: same surname and house
    ("สมหมาย", "ใจดี", "2005-02-14", "ชาย", "12", "46010101"),  # son
    ("ประยุทธ์", "ศรีสุข", "1975-01-20", "ชาย", "5/1", "46010102"),
    ("มาลี", "วงศ์ใหญ่", "1990-12-25", "หญิง", "33", "46010103"),
    ("จันทร์เพ็ญ", "กาญจนวัฒน์", "1969-03-03", "หญิง", "7", "46010101"),
    ("ณัฐพล", "ทองดี", "2001-09-09", "ชาย", "8", "46010104"),
    ("บุญมี", "แสนสุข", "1950-01-01", "ชาย", "99", "46010105"),
]


def nid(i: int) -> str:
    return complete_national_id(f"1460100{i:05d}")


def to_be(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{int(y) + 543}"


def _frame(rows: list[dict[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String))


LEFT_FIELDS = {
    "record_id": "pid",
    "id_number": "cid",
    "first_name": "fname",
    "last_name": "lname",
    "birth_date": "dob",
    "sex": "sex",
    "house_no": "house",
    "area_code": "vill",
}


def left_rows() -> list[dict[str, str]]:
    return [
        {
            "pid": f"a{i}",
            "cid": nid(i),
            "fname": f,
            "lname": ln,
            "dob": to_be(d),
            "sex": s,
            "house": h,
            "vill": v,
            "truth": str(i),
        }
        for i, (f, ln, d, s, h, v) in enumerate(PEOPLE)
    ]


def right_rows() -> list[dict[str, str]]:
    """The same people in another list: variants, no IDs for most, one romanised."""
    rows = []
    for i, (f, ln, d, _s, h, v) in enumerate(PEOPLE):
        cid = nid(i) if i in (0, 4) else ""
        if i == 1:
            f = "สมศรี่"  # stray tone mark
        if i == 3:
            f, ln = ln, f  # swapped
        if i == 5:
            f = "จันเพ็ญ"  # silent letters dropped
        if i == 6:
            f, ln = "Nattaphon", "Thongdi"  # English export
        rows.append(
            {
                "ref": f"r{i}",
                "citizen": cid,
                "name": f"{f} {ln}",
                "birth": d,
                "house_no": h,
                "village": v,
                "truth": str(i),
            }
        )
    rows.append(
        {
            "ref": "r99",
            "citizen": "",
            "name": "วิชัย มั่นคง",
            "birth": "1977-07-07",
            "house_no": "3",
            "village": "46010109",
            "truth": "99",
        }
    )
    return rows


RIGHT_FIELDS = {
    "record_id": "ref",
    "id_number": "citizen",
    "full_name": "name",
    "birth_date": "birth",
    "house_no": "house_no",
    "area_code": "village",
}


def _prepared(rows: list[dict[str, str]], fields: dict[str, object], source: str, prefix: str) -> pl.DataFrame:
    return prepare(_frame(rows), parse_fields(fields), source=source, id_prefix=prefix, truth="truth")


# --------------------------------------------------------------------------- linkage


def test_link_two_lists_finds_each_person_once() -> None:
    left = _prepared(left_rows(), LEFT_FIELDS, "left", "L:")
    right = _prepared(right_rows(), RIGHT_FIELDS, "right", "R:")
    result = link_frames([left, right], LinkOptions())
    found = set(zip(result.pairs["left_id"].to_list(), result.pairs["right_id"].to_list(), strict=True))
    assert found == {(f"a{i}", f"r{i}") for i in range(len(PEOPLE))}
    # Household members (same surname, house, village) are not linked to each other.
    assert ("a0", "r1") not in found and ("a1", "r2") not in found
    assert result.metrics is not None and result.metrics["f1"] == 1.0
    clusters = dict(zip(result.clusters["unique_id"].to_list(), result.clusters["cluster_id"].to_list(), strict=True))
    assert clusters["L:a3"] == clusters["R:r3"]
    assert clusters["L:a0"] != clusters["L:a1"]
    assert clusters["R:r99"] not in {clusters[f"L:a{i}"] for i in range(len(PEOPLE))}


def test_equal_valid_ids_are_a_deterministic_match() -> None:
    rows = left_rows()[:2]
    other = dict(rows[0], pid="x0", fname="Totally", lname="Different", dob="01/01/2500", house="1", vill="")
    left = _prepared([*rows, other], LEFT_FIELDS, "data", "")
    result = link_frames([left], LinkOptions())
    pair = result.pairs.filter((pl.col("left_id") == "a0") & (pl.col("right_id") == "x0"))
    assert pair.height == 1
    assert pair["match_probability"][0] == 1.0
    assert pair["rule"][0] == "national_id"


def test_invalid_ids_are_not_deterministic() -> None:
    rows = left_rows()[:1]
    bad = "1234567890123"  # wrong check digit
    a = dict(rows[0], pid="p", cid=bad)
    b = dict(rows[0], pid="q", cid=bad, fname="มานะ", lname="ขยัน", dob="01/01/2520", house="77", vill="46019999")
    result = link_frames([_prepared([a, b], LEFT_FIELDS, "data", "")], LinkOptions())
    assert result.pairs.filter(pl.col("rule") == "national_id").height == 0


def test_dedupe_finds_duplicates_and_not_household_members() -> None:
    rows = left_rows()
    dup = dict(rows[3], pid="a3b", cid="", fname="ประยุทธ", dob="20 ม.ค. 2518")
    dup2 = dict(rows[1], pid="a1b", cid="", fname="สมสี")  # one-letter typo, same house and date
    data = _prepared([*rows, dup, dup2], LEFT_FIELDS, "data", "")
    result = link_frames([data], LinkOptions())
    found = {
        tuple(sorted(p))
        for p in zip(result.pairs["left_id"].to_list(), result.pairs["right_id"].to_list(), strict=True)
    }
    assert found == {("a3", "a3b"), ("a1", "a1b")}
    assert result.metrics is not None
    assert result.metrics["precision"] == 1.0 and result.metrics["recall"] == 1.0


def test_absent_roles_still_link() -> None:
    fields = {"record_id": "pid", "first_name": "fname", "last_name": "lname"}
    rows = [
        {"pid": "1", "fname": "สมชาย", "lname": "ใจดี"},
        {"pid": "2", "fname": "สมชาย", "lname": "ใจดี"},
        {"pid": "3", "fname": "มาลี", "lname": "วงศ์ใหญ่"},
    ]
    data = prepare(_frame(rows), parse_fields(fields), source="data")
    result = link_frames([data], LinkOptions(threshold=0.5))
    assert set(zip(result.pairs["left_id"], result.pairs["right_id"], strict=True)) == {("1", "2")}


def test_no_record_id_uses_row_numbers() -> None:
    rows = [{"n": "นายสมชาย ใจดี"}, {"n": "สมชาย ใจดี"}]
    data = prepare(_frame(rows), parse_fields({"full_name": "n"}), source="d")
    assert data["record_id"].to_list() == ["1", "2"]
    assert data["sex"].to_list() == ["m", None]


def test_pair_thresholds_per_source_pair() -> None:
    left = _prepared(left_rows(), LEFT_FIELDS, "left", "L:")
    right = _prepared(right_rows(), RIGHT_FIELDS, "right", "R:")
    strict = link_frames([left, right], LinkOptions(pair_thresholds={"right~left": 1.0}))
    # Only the deterministic ID matches reach probability 1.
    assert set(strict.pairs["rule"].to_list()) == {"national_id"}


def test_output_files(tmp_path: Path) -> None:
    left = _prepared(left_rows(), LEFT_FIELDS, "left", "L:")
    right = _prepared(right_rows(), RIGHT_FIELDS, "right", "R:")
    result = link_frames([left, right], LinkOptions())
    written = write_outputs(result, tmp_path)
    with written["pairs"].open(encoding="utf-8") as fh:
        pairs = list(csv.reader(fh))
    assert pairs[0] == ["left_id", "right_id", "match_probability"]
    assert len(pairs) == 1 + len(PEOPLE)
    with written["clusters"].open(encoding="utf-8") as fh:
        clusters = list(csv.DictReader(fh))
    assert {c["record_id"][:2] for c in clusters} == {"L:", "R:"}
    assert len(clusters) == len(left_rows()) + len(right_rows())
    explain = pl.read_csv(written["explain"])
    assert explain.columns[:5] == ["left_id", "right_id", "match_probability", "match_weight", "rule"]
    assert any(c.startswith("mw_name") for c in explain.columns)
    weights = pl.read_csv(written["weights"])
    assert set(weights["comparison"]) >= {"name", "birth_date", "address", "national_id"}
    metrics = json.loads(written["metrics"].read_text())
    assert metrics["f1"] == 1.0


# --------------------------------------------------------------------------- metrics


def test_pairwise_metrics_hand_computed() -> None:
    # Truth: {a,b,c} one person, {d,e} another, f alone → 3 + 1 = 4 true pairs.
    frame = pl.DataFrame(
        {
            "unique_id": list("abcdef"),
            "source": ["s"] * 6,
            "truth": ["1", "1", "1", "2", "2", "3"],
        }
    )
    # Predicted: a-b (right), b-c (right), d-f (wrong). 2 of 3 right, 2 of 4 found.
    pairs = pl.DataFrame({"uid_l": ["a", "b", "d"], "uid_r": ["b", "c", "f"]})
    clusters = pl.DataFrame(
        {"unique_id": list("abcdef"), "source": ["s"] * 6, "cluster_id": ["a", "a", "a", "d", "e", "d"]}
    )
    m = pairwise_metrics(pairs, clusters, [frame], "dedupe_only", ["s"])
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 4)
    assert m["f1"] == pytest.approx(2 * (2 / 3) * (1 / 2) / (2 / 3 + 1 / 2))
    # Clusters {a,b,c} (3 right pairs) and {d,f} (1 wrong): precision 3/4, recall 3/4.
    assert m["clusters"]["precision"] == pytest.approx(3 / 4)
    assert m["clusters"]["recall"] == pytest.approx(3 / 4)


def test_link_metrics_count_only_cross_list_pairs() -> None:
    left = pl.DataFrame({"unique_id": ["L:1", "L:2"], "source": ["l", "l"], "truth": ["x", "x"]})
    right = pl.DataFrame({"unique_id": ["R:1"], "source": ["r"], "truth": ["x"]})
    pairs = pl.DataFrame({"uid_l": ["L:1"], "uid_r": ["R:1"]})
    clusters = pl.DataFrame(
        {"unique_id": ["L:1", "L:2", "R:1"], "source": ["l", "l", "r"], "cluster_id": ["L:1", "L:2", "L:1"]}
    )
    m = pairwise_metrics(pairs, clusters, [left, right], "link_only", ["l", "r"])
    assert m["precision"] == 1.0
    assert m["recall"] == pytest.approx(1 / 2)  # true cross pairs: L:1-R:1, L:2-R:1


# --------------------------------------------------------------------------- files


def test_read_table_cp874_and_xlsx(tmp_path: Path) -> None:
    import datetime as dt

    import openpyxl

    path = tmp_path / "a.csv"
    path.write_bytes("ชื่อ;นามสกุล\nสมชาย;ใจดี\n".encode("cp874"))
    frame = read_table(path)
    assert frame.columns == ["ชื่อ", "นามสกุล"] and frame.row(0) == ("สมชาย", "ใจดี")

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["id", "cid", "dob", "name", "note"])
    ws.append([1, 1460100000011, dt.date(1987, 12, 25), "สมชาย & <ใจดี>", None])
    ws.append([2, None, "25/12/2530", "มาลี", "x"])
    xlsx = tmp_path / "b.xlsx"
    wb.save(xlsx)
    frame = read_table(xlsx)
    assert frame.columns == ["id", "cid", "dob", "name", "note"]
    assert frame.row(0) == ("1", "1460100000011", "1987-12-25", "สมชาย & <ใจดี>", None)
    assert frame.row(1) == ("2", None, "25/12/2530", "มาลี", "x")


def test_synthetic_lists_link_with_high_f1(tmp_path: Path) -> None:
    """A small synthetic province from sources_synth, linked as three lists at once."""
    sources_synth = pytest.importorskip("khm.engines.sources_synth")
    from khm.engines.linkage.fields import load_fields
    from khm.engines.linkage.run import load_source

    assert sources_synth.main(["--people", "1500", "--seed", "3", "--out", str(tmp_path)]) in (0, None)
    frames = []
    for fields_path in sorted(tmp_path.glob("*.fields.json")):
        name = fields_path.name.split(".")[0]
        data = next(p for p in tmp_path.glob(name + ".*") if p.suffix in (".csv", ".xlsx"))
        frames.append(
            load_source(data, load_fields(fields_path), source=name, id_prefix=name + ":", truth="true_person_id")
        )
    result = link_frames(frames, LinkOptions(), link_type="link_and_dedupe")
    assert result.metrics is not None
    assert result.metrics["f1"] >= 0.98, result.metrics
