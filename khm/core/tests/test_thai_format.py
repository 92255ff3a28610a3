"""Thai digits, dates and times for printed documents, their template filters, and the PDF
renderer: Thai and Latin text come back out of the PDF exactly as written, in Sarabun."""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Template
from pypdf import PdfReader

from khm.core import pdf
from khm.core.pdf import pdf_text_normalised, render_pdf, thai_date_full, thai_digits, thai_time, thai_weekday
from khm.engines.ids import normalise_digits


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1/2569", "๑/๒๕๖๙"), (2569, "๒๕๖๙"), ("99/1 หมู่ 4", "๙๙/๑ หมู่ ๔"), ("HH7E", "HH๗E"), (None, ""), (0, "๐")],
)
def test_thai_digits(value, expected):
    assert thai_digits(value) == expected


def test_thai_digits_read_back_by_the_id_normaliser():
    assert normalise_digits(thai_digits("3460100123458")) == "3460100123458"


def test_thai_dates_in_buddhist_era_with_thai_digits():
    d = dt.date(2026, 12, 5)
    assert thai_date_full(d) == "๕ ธันวาคม ๒๕๖๙"
    assert thai_date_full(d, short=True) == "๕ ธ.ค. ๒๕๖๙"
    assert thai_date_full(None) == ""
    assert thai_weekday(dt.date(2026, 12, 4)) == "ศุกร์"
    assert thai_weekday(dt.date(2026, 12, 6)) == "อาทิตย์"
    # An aware datetime is read in Thai time: 20:00 UTC on 4 Dec is 03:00 on 5 Dec in Bangkok.
    late = dt.datetime(2026, 12, 4, 20, 0, tzinfo=dt.UTC)
    assert thai_date_full(late) == "๕ ธันวาคม ๒๕๖๙"
    assert thai_time(late) == "๐๓.๐๐ น."


def test_thai_time():
    assert thai_time(dt.time(9, 30)) == "๐๙.๓๐ น."
    assert thai_time(dt.time(13, 5)) == "๑๓.๐๕ น."
    assert thai_time(None) == ""


def test_template_filters():
    t = Template(
        "{% load khm_thai %}ครั้งที่ {{ n|thainum }}/{{ y|thainum }} วัน{{ d|thaiweekday }}ที่ {{ d|thaidate_full }}"
        " ({{ d|thaidate_short }}) เวลา {{ t|thaitime }}"
    )
    out = t.render(Context({"n": 1, "y": 2569, "d": dt.date(2026, 12, 4), "t": dt.time(9, 30)}))
    assert out == "ครั้งที่ ๑/๒๕๖๙ วันศุกร์ที่ ๔ ธันวาคม ๒๕๖๙ (๔ ธ.ค. ๒๕๖๙) เวลา ๐๙.๓๐ น."


# --------------------------------------------------------------------------- PDF

SAMPLE = (
    "{% load khm_thai %}<h1>รายงานการประชุม ครั้งที่ {{ 1|thainum }}/{{ 2569|thainum }}</h1>"
    "<p>ผู้ใหญ่บ้านแจ้งว่า น้ำท่วมไร่อ้อย กำนันดำเนินการแล้ว</p>"
    "<p><b>มติที่ประชุม</b> รับทราบ — household HH7E9Q, standing confirmed (2026)</p>"
    "<p>ขอบคุณ ๑๒๓ ก่ำ ทำ</p>"
)


@pytest.fixture
def sample_template(settings):
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", {"sample.html": SAMPLE})]},
        }
    ]
    return "sample.html"


def _pages(data: bytes) -> list[str]:
    return [pdf_text_normalised(p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages]


def test_pdf_text_comes_back_exactly_in_sarabun(sample_template):
    data = render_pdf(sample_template, {})
    assert data.startswith(b"%PDF")
    text = " ".join(_pages(data))
    # Thai with SARA AM first in a word after a tone mark, Latin letters and Arabic digits, and
    # Thai digits: none swapped for another letter (the traps described in khm.core.pdf).
    for phrase in (
        "รายงานการประชุม ครั้งที่ ๑/๒๕๖๙",
        "ผู้ใหญ่บ้านแจ้งว่า น้ำท่วมไร่อ้อย กำนันดำเนินการแล้ว",
        "มติที่ประชุม รับทราบ",
        "household HH7E9Q, standing confirmed (2026)",
        "ขอบคุณ ๑๒๓ ก่ำ ทำ",
    ):
        assert phrase in text
    reader = PdfReader(io.BytesIO(data))
    fonts = {str(f.get_object()["/BaseFont"]).split("+", 1)[1] for f in reader.pages[0]["/Resources"]["/Font"].values()}
    assert fonts == {"Sarabun", "Sarabun-Bold", "Sarabun-Thai", "Sarabun-Thai-Bold"}  # no fallback font


def test_pdf_page_is_a4_with_no_number_on_page_one(sample_template):
    reader = PdfReader(io.BytesIO(render_pdf(sample_template, {})))
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)
    assert not re.search(r"- [๐-๙]+ -", reader.pages[0].extract_text())


def test_fonts_are_built_once_per_thread():
    first = pdf._fonts()
    assert pdf._fonts() is first
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(pdf._fonts()))
    thread.start()
    thread.join()
    assert other[0] is not first


def test_documents_fetch_only_local_static_files(tmp_path):
    fetcher = pdf._fetcher()
    with pytest.raises(ValueError, match="disallowed protocol"):
        fetcher.fetch("http://169.254.169.254/latest/meta-data/")
    outside = tmp_path / "secret.txt"
    outside.write_text("no")
    with pytest.raises(ValueError, match="not a static file"):
        fetcher.fetch(outside.as_uri())
    font = pdf.font_path("thai", 400)
    response = fetcher.fetch(font.as_uri())
    try:
        assert response.read(4) == b"wOFF"
    finally:
        response.close()


def test_missing_font_says_what_to_run(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(pdf.finders, "find", lambda name, **kw: None)
    settings.STATIC_ROOT = str(tmp_path)
    with pytest.raises(ImproperlyConfigured, match="make static"):
        pdf.font_path("thai", 400)


def test_font_files_and_licence_are_installed_by_make_static():
    folder = pdf.font_path("thai", 400).parent
    assert folder == (Path(__file__).resolve().parents[3] / "static" / "vendor" / "fonts" / "sarabun")
    names = {p.name for p in folder.iterdir()}
    assert {f"sarabun-{s}-{w}-normal.woff" for s in ("thai", "latin") for w in (400, 700)} <= names
    assert "SIL Open Font License" in (folder / "LICENSE").read_text()
