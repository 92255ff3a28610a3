"""``khm link`` end to end on small files: CP874 CSV, XLSX, outputs, exit codes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest

from khm.cli import main
from khm.engines.ids import complete_national_id

PEOPLE = [
    ("สมชาย", "ใจดี", "1980-05-01", "ชาย", "12", "46010101"),
    ("สมศรี", "ใจดี", "1982-07-11", "หญิง", "12", "46010101"),
    ("ประยุทธ์", "ศรีสุข", "1975-01-20", "ชาย", "5/1", "46010102"),
    ("มาลี", "วงศ์ใหญ่", "1990-12-25", "หญิง", "33", "46010103"),
    ("ณัฐพล", "ทองดี", "2001-09-09", "ชาย", "8", "46010104"),
]


def _be(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{int(y) + 543}"


def _write_left_cp874(path: Path, *, duplicate: bool = False) -> None:
    rows = [
        [f"a{i}", complete_national_id(f"1460100{i:05d}"), f, ln, _be(d), s, h, v, str(i)]
        for i, (f, ln, d, s, h, v) in enumerate(PEOPLE)
    ]
    if duplicate:
        _f, ln, d, s, h, v = PEOPLE[2]
        rows.append(["a2b", "", "ประยุทธ", ln, _be(d), s, h, v, "2"])
    with path.open("w", encoding="cp874", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["pid", "เลขประจำตัว", "ชื่อ", "นามสกุล", "วันเกิด", "เพศ", "บ้านเลขที่", "รหัสหมู่บ้าน", "truth"])
        w.writerows(rows)


def _write_right_xlsx(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["ref", "full_name", "birth", "house", "village", "truth"])
    titles = {"ชาย": "นาย", "หญิง": "นาง"}
    for i, (f, ln, d, s, h, v) in enumerate(PEOPLE):
        if i == 4:
            full = "Mr Nattaphon Thongdi"
        elif i == 2:
            full = f"{titles[s]}{ln} {f}"  # title glued, names swapped
        else:
            full = f"{titles[s]} {f} {ln}"
        ws.append([f"r{i}", full, d, h, int(v), str(i)])
    ws.append(["r9", "นายวิชัย มั่นคง", "1977-07-07", "3", 46010109, "9"])
    wb.save(path)


LEFT_FIELDS = {
    "record_id": "pid",
    "id_number": "เลขประจำตัว",
    "id_scheme": "thai_national_id",
    "first_name": "ชื่อ",
    "last_name": "นามสกุล",
    "birth_date": "วันเกิด",
    "date_format": "%d/%m/%Y",
    "sex": "เพศ",
    "house_no": "บ้านเลขที่",
    "area_code": "รหัสหมู่บ้าน",
}
RIGHT_FIELDS = {
    "record_id": "ref",
    "full_name": "full_name",
    "birth_date": "birth",
    "house_no": "house",
    "area_code": "village",
}


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    left, right = tmp_path / "left.csv", tmp_path / "right.xlsx"
    _write_left_cp874(left)
    _write_right_xlsx(right)
    lf, rf = tmp_path / "left.fields.json", tmp_path / "right.fields.json"
    lf.write_text(json.dumps(LEFT_FIELDS, ensure_ascii=False), encoding="utf-8")
    rf.write_text(json.dumps(RIGHT_FIELDS), encoding="utf-8")
    return {"left": left, "right": right, "left_fields": lf, "right_fields": rf, "dir": tmp_path}


def test_link_cp874_csv_with_xlsx(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out = files["dir"] / "out"
    code = main(
        [
            "link",
            str(files["left"]),
            str(files["right"]),
            "--fields",
            str(files["left_fields"]),
            "--fields",
            str(files["right_fields"]),
            "--out",
            str(out),
            "--truth",
            "truth",
        ]
    )
    assert code == 0
    assert "link:" in capsys.readouterr().out
    with (out / "pairs.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["left_id", "right_id", "match_probability"]
    assert {(r[0], r[1]) for r in rows[1:]} == {(f"a{i}", f"r{i}") for i in range(len(PEOPLE))}
    assert all(0.9 <= float(r[2]) <= 1.0 for r in rows[1:])
    with (out / "clusters.csv").open(encoding="utf-8") as fh:
        clusters = {r["record_id"]: r["cluster_id"] for r in csv.DictReader(fh)}
    assert len(clusters) == len(PEOPLE) * 2 + 1
    assert clusters["L:a2"] == clusters["R:r2"]
    assert clusters["R:r9"] not in {clusters[f"L:a{i}"] for i in range(len(PEOPLE))}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["precision"] == 1.0 and metrics["recall"] == 1.0 and metrics["f1"] == 1.0
    assert (out / "explain.csv").exists() and (out / "weights.csv").exists() and (out / "model.json").exists()


def test_dedupe_one_file(files: dict[str, Path]) -> None:
    left = files["dir"] / "dups.csv"
    _write_left_cp874(left, duplicate=True)
    out = files["dir"] / "dedupe"
    code = main(["link", str(left), "--fields", str(files["left_fields"]), "--out", str(out), "-q"])
    assert code == 0
    with (out / "pairs.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["left_id"], r["right_id"]) for r in rows] == [("a2", "a2b")]
    with (out / "clusters.csv").open(encoding="utf-8") as fh:
        clusters = {r["record_id"]: r["cluster_id"] for r in csv.DictReader(fh)}
    assert clusters["a2"] == clusters["a2b"]  # no prefixes in a dedupe
    assert not (out / "metrics.json").exists()


def test_threshold_flag(files: dict[str, Path]) -> None:
    out = files["dir"] / "strict"
    args = ["link", str(files["left"]), str(files["right"]), "--fields", str(files["left_fields"])]
    args += ["--fields", str(files["right_fields"]), "--out", str(out), "--threshold", "1", "-q"]
    assert main(args) == 0
    with (out / "pairs.csv").open(encoding="utf-8") as fh:
        strict = list(csv.DictReader(fh))
    assert strict == []  # the right list has no IDs: nothing is certain


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"record_id": "pid", "frist_name": "ชื่อ"}, "unknown role 'frist_name'"),
        ({"record_id": "pid", "first_name": "nope"}, "role 'first_name' names column 'nope'"),
        ({"id_number": "เลขประจำตัว", "id_scheme": "ssn"}, "id_scheme"),
    ],
)
def test_bad_fields_file_exits_2_with_a_clear_message(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], fields: dict[str, str], message: str
) -> None:
    bad = files["dir"] / "bad.json"
    bad.write_text(json.dumps(fields, ensure_ascii=False), encoding="utf-8")
    code = main(["link", str(files["left"]), "--fields", str(bad), "--out", str(files["dir"] / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "bad.json" in err


def test_fields_file_not_json(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    bad = files["dir"] / "broken.json"
    bad.write_text("{'record_id': 'pid'", encoding="utf-8")
    assert main(["link", str(files["left"]), "--fields", str(bad), "--out", str(files["dir"] / "x")]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_usage_errors_exit_2(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    lf = str(files["left_fields"])
    assert main(["link", str(files["left"]), "--out", "x"]) == 2  # --fields missing
    assert main(["link", "a", "b", "c", "--fields", lf, "--out", "x"]) == 2
    assert main(["link", str(files["dir"] / "missing.csv"), "--fields", lf, "--out", "x"]) == 2
    assert "input file not found" in capsys.readouterr().err
    assert main(["link", str(files["left"]), "--fields", lf, "--out", "x", "--threshold", "7"]) == 2
    assert main([]) == 2
